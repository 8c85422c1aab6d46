"""Pages: funding."""
