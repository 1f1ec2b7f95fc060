"""ResAD++-style class-agnostic residual features (after Yao et al., ResAD, NeurIPS 2024)."""
