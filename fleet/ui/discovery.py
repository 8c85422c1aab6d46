"""Pages: discovery."""
