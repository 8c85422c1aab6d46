"""Pages: devices."""
