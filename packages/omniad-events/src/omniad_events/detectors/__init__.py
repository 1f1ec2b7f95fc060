"""See the cards module for what is registered."""
