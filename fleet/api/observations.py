"""Observations pushed by an on-site agent."""

from . import api_blueprint

blp = api_blueprint("observations", __name__, "schools", "Observations pushed by on-site agents", json_body=False)
