"""Pages: schools."""
