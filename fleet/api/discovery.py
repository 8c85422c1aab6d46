"""Discovery runs and the review queue of findings."""

from . import api_blueprint

blp = api_blueprint("discovery", __name__, "discovery", "Discovery runs and findings (the review queue)")
