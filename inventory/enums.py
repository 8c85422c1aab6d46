"""The vocabularies of the inventory, one StrEnum each."""

from enum import StrEnum


class SchoolType(StrEnum):
    GENERAL = "general"
    VOCATIONAL = "vocational"


class RoomKind(StrEnum):
    CLASSROOM = "classroom"
    LAB = "lab"
    STAFF = "staff"
    ADMIN = "admin"
    STORAGE = "storage"
    SERVER = "server"
    OTHER = "other"


class DeviceKind(StrEnum):
    INTERACTIVE_DISPLAY = "interactive_display"
    PROJECTOR = "projector"
    DOCUMENT_CAMERA = "document_camera"
    LAPTOP = "laptop"
    TABLET = "tablet"
    DESKTOP = "desktop"
    OPS_PC = "ops_pc"
    ACCESS_POINT = "access_point"
    SWITCH = "switch"
    ROUTER = "router"
    PRINTER = "printer"
    SERVER = "server"
    OTHER = "other"


class DeviceStatus(StrEnum):
    PLANNED = "planned"
    ORDERED = "ordered"
    IN_STOCK = "in_stock"
    ACTIVE = "active"
    LOANED = "loaned"
    REPAIR = "repair"
    MISSING = "missing"
    RETIRED = "retired"


class InterfaceKind(StrEnum):
    LAN = "lan"
    WLAN = "wlan"
    MGMT = "mgmt"


class Role(StrEnum):
    ADMIN = "admin"
    SUPPORT = "support"
    FINANCE = "finance"
    AGENT = "agent"
    VIEWER = "viewer"


class FundingCategory(StrEnum):
    """Investment categories of the DigitalPakt base agreement."""

    NETWORK = "network"
    WLAN = "wlan"
    SERVER = "server"
    PLATFORM = "platform"
    DISPLAY = "display"
    WORK_EQUIPMENT = "work_equipment"
    MOBILE = "mobile"


FEDERAL_STATES = (
    "BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV", "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH",
)
