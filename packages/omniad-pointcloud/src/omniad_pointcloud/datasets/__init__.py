"""Point cloud datasets (cards in ``cards.py``, implementations beside them)."""
