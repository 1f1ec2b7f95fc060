"""What the class-agnostic / generalist detectors (FOD, ResAD++, NAGL, UniCon-HA) share: ViT
patch-token parameters, the detector base, normal references and pseudo-anomalies."""
