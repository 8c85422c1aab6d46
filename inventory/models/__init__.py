"""All inventory models, importable from one place."""

from .audit import AuditEvent
from .auth import ApiToken, token_schools
from .devices import Device, Interface
from .schools import Carrier, Profile, Room, School, Subnet

__all__ = [
    "ApiToken", "AuditEvent", "Carrier", "Device", "Interface", "Profile", "Room", "School", "Subnet",
    "token_schools",
]
