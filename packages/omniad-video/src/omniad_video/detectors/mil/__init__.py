"""MIL ranking (Sultani, Chen & Shah, CVPR 2018)."""
