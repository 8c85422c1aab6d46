"""Device service: register, change, retire; keeps identities unique and leaves an audit trail."""

from datetime import date, datetime

from flask import current_app, has_app_context
from sqlalchemy import select

from . import audit
from .cron import DEFAULT_TIMEZONE, zone
from .db import db
from .errors import (DeviceNotFound, DuplicateAssetTag, DuplicateMac, DuplicateSerial, InvalidInput,
                     UnknownRoom, UnknownSchool)
from .models import Device, Interface, Room, School

# A device moving from one of these to active is put into service then.
COMMISSIONED_FROM = ("planned", "ordered", "in_stock")

# Writable columns, named as the API and the import files name them.
COLUMN_OF = {
    "kind": "kind", "status": "status", "vendor": "vendor", "model": "model", "serial": "serial",
    "asset_tag": "asset_tag", "hostname": "hostname", "ip": "ip", "borrower": "borrower",
    "supplier": "supplier", "invoice": "invoice", "purchase_date": "purchase_date",
    "price_net": "price_net", "price_gross": "price_gross", "grant": "grant_ref",
    "category": "funding_category", "warranty_end": "warranty_end", "commissioned": "commissioned_on",
    "notes": "notes",
}


def local_today() -> date:
    """Today in the schools' time zone, FLEET_TIMEZONE (a commissioning date is a local day)."""
    name = current_app.config.get("TIMEZONE") if has_app_context() else None
    return datetime.now(zone(name or DEFAULT_TIMEZONE)).date()


def get_device(device_id: int) -> Device:
    """The device with this id, or DeviceNotFound."""
    device = db.session.get(Device, device_id)
    if device is None:
        raise DeviceNotFound(device_id)
    return device


def school_by_code(code: str, field: str = "school") -> School:
    """The school with this code, or UnknownSchool."""
    school = db.session.scalar(select(School).where(School.code == code))
    if school is None:
        raise UnknownSchool(code, field)
    return school


def room_by_code(school: School, code: str, field: str = "room") -> Room:
    """The room with this code in school, or UnknownRoom."""
    room = db.session.scalar(select(Room).where(Room.school_id == school.id, Room.code == code))
    if room is None:
        raise UnknownRoom(school.code, code, field)
    return room


def snapshot(device: Device) -> dict:
    """The audited view of a device: writable fields, placement and MACs."""
    state = {name: getattr(device, column) for name, column in COLUMN_OF.items()}
    state["school"] = device.school.code if device.school else None
    state["room"] = device.room.code if device.room else None
    state["parent_id"] = device.parent_id
    state["macs"] = sorted(f"{i.mac} {i.kind}" for i in device.interfaces)
    return state


def find_holder(field: str, value: str, exclude_id: int | None = None) -> Device | None:
    """The live device (not retired) that holds a serial, asset tag or MAC, if any."""
    if field == "mac":
        query = select(Device).join(Interface).where(Interface.mac == value, Interface.live)
    else:
        query = select(Device).where(getattr(Device, field) == value, Device.status != "retired")
    if exclude_id is not None:
        query = query.where(Device.id != exclude_id)
    return db.session.scalars(query.limit(1)).first()


def check_identities(serial, asset_tag, macs, exclude_id=None) -> None:
    """Raise a 409 naming the other device if any identity is already taken."""
    for field, value, error in (("serial", serial, DuplicateSerial), ("asset_tag", asset_tag, DuplicateAssetTag)):
        if value:
            other = find_holder(field, value, exclude_id)
            if other is not None:
                raise error(field, value, other.id, other.label)
    for mac in macs:
        other = find_holder("mac", mac, exclude_id)
        if other is not None:
            raise DuplicateMac("interfaces", mac, other.id, other.label)


def _refuse_loop(device: Device, parent: Device) -> None:
    """A device may not end up among its own ancestors."""
    seen, current = set(), parent
    while current is not None and current.id not in seen:
        if device.id is not None and current.id == device.id:
            msg = f"device {parent.id} ({parent.label}) already belongs to device {device.id}: that would be a loop"
            raise InvalidInput(msg, {"parent_id": [msg]})
        seen.add(current.id)
        current = current.parent


def _apply(device: Device, data: dict) -> None:
    """Copy validated fields onto device, resolving school, room, parent and interfaces."""
    if "school" in data:
        device.school = school_by_code(data["school"])
        if "room" not in data and device.room is not None and device.room.school_id != device.school.id:
            device.room = None
    if "room" in data:
        if data["room"] is None:
            device.room = None
        else:
            if device.school is None:
                raise InvalidInput("a room needs a school", {"school": ["required with room"]})
            device.room = room_by_code(device.school, data["room"])
    if "parent_id" in data:
        parent_id = data["parent_id"]
        if parent_id is not None:
            if parent_id == device.id:
                raise InvalidInput("a device cannot be its own parent", {"parent_id": ["is the device itself"]})
            parent = db.session.get(Device, parent_id)
            if parent is None:
                raise InvalidInput(f"no device with id {parent_id}", {"parent_id": [f"no device with id {parent_id}"]})
            _refuse_loop(device, parent)
        device.parent_id = parent_id
    for name, column in COLUMN_OF.items():
        if name in data:
            setattr(device, column, data[name])
    if "interfaces" in data:
        wanted = {i["mac"]: i for i in data["interfaces"]}
        for interface in list(device.interfaces):
            if interface.mac not in wanted:
                device.interfaces.remove(interface)
        present = {i.mac: i for i in device.interfaces}
        for mac, spec in wanted.items():
            interface = present.get(mac) or Interface(mac=mac)
            interface.kind = spec.get("kind") or "lan"
            if "last_ip" in spec:
                interface.last_ip = spec["last_ip"]
            if interface not in device.interfaces:
                device.interfaces.append(interface)


def _identity_of(device: Device, data: dict) -> tuple:
    serial = data.get("serial", device.serial)
    asset_tag = data.get("asset_tag", device.asset_tag)
    macs = [i["mac"] for i in data["interfaces"]] if "interfaces" in data else [i.mac for i in device.interfaces]
    if len(set(macs)) != len(macs):
        raise InvalidInput("the same MAC is listed twice", {"interfaces": ["the same MAC is listed twice"]})
    return serial, asset_tag, macs


def register_device(data: dict, commit: bool = True) -> Device:
    """Create a device from validated data; 409 when an identity is taken."""
    if "school" not in data:
        raise InvalidInput("school is required", {"school": ["Missing data for required field."]})
    data = {"status": "active", **data}
    device = Device()
    if data["status"] != "retired":
        check_identities(*_identity_of(device, data))
    _apply(device, data)
    db.session.add(device)
    db.session.flush()
    audit.record("create", "device", device.id, device.label,
                 audit.diff({}, snapshot(device)), device.school.code)
    if commit:
        db.session.commit()
    return device


def update_device(device_id: int, data: dict, commit: bool = True, retire_reason: str | None = None) -> Device:
    """Change fields of a device; records before/after of what changed, and retire_reason when it becomes retired."""
    device = get_device(device_id)
    before = snapshot(device)
    if data.get("status", device.status) != "retired":
        check_identities(*_identity_of(device, data), exclude_id=device.id)
    if (data.get("status") == "active" and device.status in COMMISSIONED_FROM and device.commissioned_on is None
            and data.get("commissioned") is None):
        # Going into service for the first time: that day is its commissioning date (the earmark may count from it).
        data = {**data, "commissioned": local_today()}
    _apply(device, data)
    db.session.flush()
    changes = audit.diff(before, snapshot(device))
    if retire_reason and changes.get("status", [None, None])[1] == "retired":
        # In the same event as the status, so whoever reads the retirement from the trail finds its reason there.
        changes["retire_reason"] = [None, retire_reason]
    if changes:
        audit.record("update", "device", device.id, device.label, changes, device.school.code)
    if commit:
        db.session.commit()
    return device


def replacement(data: dict) -> dict:
    """A full replacement: every writable field the data leaves out becomes empty; status is kept."""
    cleared = {name: None for name in COLUMN_OF if name not in ("kind", "status")}
    return {**cleared, "room": None, "parent_id": None, "interfaces": [], **data}


def never_used(device: Device) -> bool:
    """Planned or ordered, never seen and held by nothing: a mistake that can simply be deleted."""
    return (device.status in ("planned", "ordered") and device.last_seen_at is None and not device.children
            and not _held_elsewhere(device))


def _held_elsewhere(device: Device) -> bool:
    """Whether a row of another table that must keep its device (an invoice line, say) points at this one."""
    # Found through the metadata, so the inventory needs to know nothing of the packages built on it.
    for table in db.metadata.tables.values():
        if table.name == Device.__tablename__:
            continue
        for key in table.foreign_keys:
            if key.column.table.name == Device.__tablename__ and key.ondelete is None:
                if db.session.execute(select(key.parent).where(key.parent == device.id).limit(1)).first():
                    return True
    return False


def remove_device(device_id: int, retire_reason: str | None = None) -> str:
    """Retire a device (recording retire_reason), or delete it if it was never used; returns 'retired' or 'deleted'."""
    device = get_device(device_id)
    if never_used(device):
        audit.record("delete", "device", device.id, device.label,
                     audit.diff(snapshot(device), {}), device.school.code)
        db.session.delete(device)
        db.session.commit()
        return "deleted"
    if device.status != "retired":
        update_device(device_id, {"status": "retired"}, commit=False, retire_reason=retire_reason)
    db.session.commit()
    return "retired"
