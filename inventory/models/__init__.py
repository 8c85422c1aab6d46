"""All inventory models, importable from one place."""

from .audit import AuditEvent
from .auth import ApiToken, token_schools
from .devices import Device, Interface
from .schools import Carrier, Profile, Room, School, Subnet
from .users import User, user_schools

__all__ = [
    "ApiToken", "AuditEvent", "Carrier", "Device", "Interface", "Profile", "Room", "School", "Subnet",
    "token_schools", "User", "user_schools",
]
