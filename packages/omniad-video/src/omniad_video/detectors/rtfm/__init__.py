"""RTFM: robust temporal feature magnitude learning (Tian et al., ICCV 2021)."""
