"""DictAS-style few-shot anomaly segmentation by dictionary lookup over normal reference tokens."""
