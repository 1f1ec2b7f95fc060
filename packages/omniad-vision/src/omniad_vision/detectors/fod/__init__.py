"""FOD: Focus the Discrepancy, intra- and inter-correlation learning (Yao et al., ICCV 2023)."""
