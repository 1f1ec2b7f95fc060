"""Point cloud detectors (cards in ``cards.py``, implementations beside them)."""
