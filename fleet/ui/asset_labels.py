"""Pages: asset_labels."""
