"""Device export: the files the import reads back unchanged."""

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from .db import db
from .errors import FleetError, UnknownSchool
from .formats import write_devices
from .models import Device, School


def export_rows(school: str | None = None, include_retired: bool = True,
                among: tuple[Select, dict] | None = None) -> list[dict]:
    """Every device (or those among the ids a statement selects, with its bound values) as a dict keyed by the file
    columns."""
    query = (select(Device).options(selectinload(Device.interfaces), selectinload(Device.school),
                                    selectinload(Device.room), selectinload(Device.parent))
             .order_by(Device.school_id, Device.id))
    if school:
        query = query.join(School).where(School.code == school)
    if not include_retired:
        query = query.where(Device.status != "retired")
    values = {}
    if among is not None:
        ids, values = among
        query = query.where(Device.id.in_(ids))
    return [_file_row(device) for device in db.session.scalars(query, values)]


def _file_row(device: Device) -> dict:
    """One device as a dict keyed by the file columns (interfaces, school, room and parent loaded)."""
    return {
        "school": device.school.code, "room": device.room.code if device.room else None,
        "kind": device.kind, "vendor": device.vendor, "model": device.model, "serial": device.serial,
        "asset_tag": device.asset_tag, "hostname": device.hostname,
        "macs": [i.mac for i in device.interfaces], "interfaces": [
            {"mac": i.mac, "kind": i.kind, "ip": i.last_ip} for i in device.interfaces],
        "ip": device.ip, "status": device.status,
        "parent_serial": device.parent.serial if device.parent else None,
        "purchase_date": device.purchase_date, "supplier": device.supplier, "invoice": device.invoice,
        "price_net": device.price_net, "price_gross": device.price_gross, "grant": device.grant_ref,
        "category": device.funding_category, "warranty_end": device.warranty_end,
        "commissioned": device.commissioned_on, "notes": device.notes,
    }


def export_devices(fmt: str = "csv", school: str | None = None) -> bytes:
    """The devices as a file the import reads back unchanged."""
    if school and db.session.scalar(select(School).where(School.code == school)) is None:
        raise UnknownSchool(school)
    if fmt == "linuxmuster" and not school:
        raise FleetError("a linuxmuster devices.csv belongs to one school: name the school (--school, ?school=)")
    # Retired devices have no place in a list that grants network access.
    rows = export_rows(school, include_retired=fmt != "linuxmuster")
    if fmt == "linuxmuster":
        _refuse_unnamed(rows)
    return write_devices(rows, fmt, school=school)


def _refuse_unnamed(rows: list[dict]) -> None:
    """linuxmuster needs a host name of at most 15 characters for every device with a MAC; invent none."""
    bad = [row for row in rows if row["macs"] and (not row["hostname"] or len(row["hostname"]) > 15)]
    if bad:
        names = ", ".join(f"{row['hostname'] or row['serial'] or row['asset_tag'] or row['kind']}"
                          for row in bad[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        raise FleetError(f"{len(bad)} device(s) need a host name of at most 15 characters before they can go into "
                         f"a linuxmuster devices.csv: {names}{more}")
