"""Video metrics (cards in ``cards.py``, implementations beside them)."""
