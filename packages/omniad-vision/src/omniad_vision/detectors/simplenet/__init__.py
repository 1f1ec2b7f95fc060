"""SimpleNet (Liu et al., CVPR 2023): adapted pretrained features and a noise-trained discriminator.

Importing the package stays light; the torch code lives in ``model``.
"""
