"""INP-Former (Luo et al., CVPR 2025): intrinsic normal prototypes taken from the test image itself."""
