"""Turning rows into the API's plain dicts (the schemas only describe them)."""

from inventory.models import AuditEvent, Device


def _text(value):
    return None if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)


def device_row_dict(row: dict) -> dict:
    """A plain row from page_of_rows in the same shape as device_dict, already JSON-safe."""
    return {
        "id": row["id"], "school": row["school"], "room": row["room"], "kind": row["kind"],
        "status": row["status"], "vendor": row["vendor"], "model": row["model"], "serial": row["serial"],
        "asset_tag": row["asset_tag"], "hostname": row["hostname"], "ip": row["ip"], "borrower": row["borrower"],
        "parent_id": row["parent_id"], "supplier": row["supplier"], "invoice": row["invoice"],
        "purchase_date": _text(row["purchase_date"]), "price_net": _text(row["price_net"]),
        "price_gross": _text(row["price_gross"]), "grant": row["grant_ref"], "category": row["funding_category"],
        "warranty_end": _text(row["warranty_end"]), "notes": row["notes"], "macs": row["macs"],
        "last_seen": ({"at": _text(row["last_seen_at"]), "ip": row["last_seen_ip"], "where": row["last_seen_where"]}
                      if row["last_seen_at"] else None),
        "created_at": _text(row["created_at"]), "updated_at": _text(row["updated_at"]),
    }


def device_dict(device: Device) -> dict:
    """An ORM device in the list's shape, through the same conversion as the list's plain rows."""
    row = {column.key: getattr(device, column.key) for column in Device.__table__.c}
    row.update(school=device.school.code, room=device.room.code if device.room else None,
               macs=[interface.mac for interface in device.interfaces])
    return device_row_dict(row)


def device_detail(device: Device, history: list[AuditEvent]) -> dict:
    """A device with interfaces, children and history."""
    return {
        **device_dict(device),
        "interfaces": device.interfaces,
        "children": [child.id for child in device.children],
        "history": history,
    }
