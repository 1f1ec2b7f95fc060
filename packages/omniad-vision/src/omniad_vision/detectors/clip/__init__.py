"""WinCLIP-style zero-/few-shot anomaly detection with a local CLIP (Jeong et al., CVPR 2023).

Importing the package stays light; the torch code lives in ``model`` and ``windows``.
"""
