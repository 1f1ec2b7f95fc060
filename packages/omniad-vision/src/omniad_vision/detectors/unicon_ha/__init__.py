"""UniCon-HA: unilaterally aggregated contrastive learning with hierarchical augmentation (Wang et al., ICCV 2023)."""
