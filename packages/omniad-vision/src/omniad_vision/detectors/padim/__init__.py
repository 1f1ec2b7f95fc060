"""PaDiM (Defard et al., ICPR 2020 workshops): one Gaussian per patch position."""
