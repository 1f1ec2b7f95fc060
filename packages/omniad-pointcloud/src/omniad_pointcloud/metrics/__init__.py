"""Point cloud metrics (cards in ``cards.py``, implementations beside them)."""
