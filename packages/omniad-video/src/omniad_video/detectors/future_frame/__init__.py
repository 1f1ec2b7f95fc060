"""Future-frame prediction (Liu et al., CVPR 2018): a U-Net predicts the next frame; PSNR scores it."""
