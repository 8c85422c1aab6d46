"""Importing this module registers every domain table with the shared metadata."""

import inventory.models  # noqa: F401
import discovery.models  # noqa: F401
