"""Importing this module registers every domain table with the shared metadata, and provisioning's schools.yaml step."""

import inventory.models  # noqa: F401
import discovery.models  # noqa: F401
import provisioning.models  # noqa: F401
import provisioning.grants  # noqa: F401  (grants and carrier funding join `fleet schools sync`)
