"""Turning rows into the API's plain dicts (the schemas only describe them)."""

from inventory.models import AuditEvent, Device
from inventory.queries import LIST_FIELDS


def _text(value):
    return None if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)


def _last_seen(at, ip, where) -> dict | None:
    return {"at": _text(at), "ip": ip, "where": where} if at else None


def device_row_dict(row: tuple) -> dict:
    """A list row (values in LIST_FIELDS order, macs a list) in the API's shape, already JSON-safe."""
    # Unpacked by position: this runs for every row of every list page, and names cost a lookup each.
    (id_, parent_id, kind, status, vendor, model, serial, asset_tag, hostname, ip, borrower, supplier, invoice,
     purchase_date, price_net, price_gross, grant_ref, funding_category, warranty_end, commissioned_on, notes,
     last_seen_at, last_seen_ip, last_seen_where, created_at, updated_at, school, room, macs) = row
    return {
        "id": id_, "school": school, "room": room, "kind": kind, "status": status, "vendor": vendor,
        "model": model, "serial": serial, "asset_tag": asset_tag, "hostname": hostname, "ip": ip,
        "borrower": borrower, "parent_id": parent_id, "supplier": supplier, "invoice": invoice,
        "purchase_date": _text(purchase_date), "price_net": _text(price_net), "price_gross": _text(price_gross),
        "grant": grant_ref, "category": funding_category, "warranty_end": _text(warranty_end),
        "commissioned": _text(commissioned_on), "notes": notes,
        "macs": macs, "last_seen": _last_seen(last_seen_at, last_seen_ip, last_seen_where),
        "created_at": _text(created_at), "updated_at": _text(updated_at),
    }


def device_dict(device: Device) -> dict:
    """An ORM device in the list's shape, through the same conversion as the list's plain rows."""
    extra = {"school": device.school.code, "room": device.room.code if device.room else None,
             "macs": [interface.mac for interface in device.interfaces]}
    return device_row_dict(tuple(extra[name] if name in extra else getattr(device, name) for name in LIST_FIELDS))


def device_detail(device: Device, history: list[AuditEvent]) -> dict:
    """A device with interfaces, children and history."""
    return {
        **device_dict(device),
        "interfaces": device.interfaces,
        "children": [child.id for child in device.children],
        "history": history,
    }
