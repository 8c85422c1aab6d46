"""Device import and export: whole files, all or nothing, re-importable."""

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from . import audit
from .db import db
from .devices import register_device, snapshot, update_device
from .errors import FileRejected, FleetError
from .formats import detect_format, read_rows
from .formats.records import check_records
from .models import Device, Interface, Room, School

CHUNK = 500


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rooms_created: int = 0
    lines: list[str] = field(default_factory=list)

    def summary(self, dry_run: bool = False) -> str:
        """One line for the CLI."""
        verb = "would be" if dry_run else "were"
        text = (f"{self.created} device(s) {verb} created, {self.updated} updated, "
                f"{self.unchanged} unchanged")
        if self.rooms_created:
            text += f", {self.rooms_created} room(s) created"
        return text + (" (dry run: nothing written)" if dry_run else "")

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "rooms_created": self.rooms_created, "lines": self.lines}


def import_file(data: bytes, filename: str, fmt: str | None = None, school: str | None = None,
                dry_run: bool = False, create_rooms: bool = False, allowed: list[str] | None = None) -> ImportResult:
    """Read, validate and apply a device file; raises FileRejected listing every bad line."""
    fmt = fmt or detect_format(filename)
    rows = read_rows(data, fmt, filename, default_school=school)
    records, problems = check_records(rows, filename)
    return import_records(records, filename, school=school, dry_run=dry_run, create_rooms=create_rooms,
                          allowed=allowed, problems=problems, fmt=fmt)


def _chunks(values: list) -> list[list]:
    return [values[i:i + CHUNK] for i in range(0, len(values), CHUNK)]


DEVICE_ATTRIBUTE = {"commissioned": "commissioned_on"}  # file columns a device names otherwise
FINGERPRINT = ("kind", "vendor", "model", "hostname", "ip", "purchase_date", "supplier", "invoice", "price_net",
               "price_gross", "warranty_end", "commissioned", "notes")


def _fingerprint(school: str, room: str | None, item) -> tuple:
    """Every column but status of a device without identities (records and devices name grants differently)."""
    grant = getattr(item, "grant", None) if hasattr(item, "grant") else item.grant_ref
    category = getattr(item, "category", None) if hasattr(item, "category") else item.funding_category
    return (school, room, grant, category,
            *(getattr(item, name if hasattr(item, name) else DEVICE_ATTRIBUTE[name]) for name in FINGERPRINT))


class _Index:
    """The devices a file's identities point at, loaded in a few queries."""

    def __init__(self, records):
        serials = sorted({r.serial for r in records if r.serial} | {r.parent_serial for r in records if r.parent_serial})
        tags = sorted({r.asset_tag for r in records if r.asset_tag})
        macs = sorted({i.mac for r in records for i in r.interfaces})
        self.by_serial: dict[str, list[Device]] = {}
        self.by_tag: dict[str, list[Device]] = {}
        self.by_mac: dict[str, Device] = {}
        options = (selectinload(Device.interfaces), selectinload(Device.school), selectinload(Device.room))
        for part in _chunks(serials):
            for device in db.session.scalars(select(Device).options(*options).where(Device.serial.in_(part))):
                self.by_serial.setdefault(device.serial, []).append(device)
        for part in _chunks(tags):
            for device in db.session.scalars(select(Device).options(*options).where(Device.asset_tag.in_(part))):
                self.by_tag.setdefault(device.asset_tag, []).append(device)
        for part in _chunks(macs):
            query = select(Interface).options(selectinload(Interface.device)).where(
                Interface.mac.in_(part), Interface.live)
            for interface in db.session.scalars(query):
                self.by_mac[interface.mac] = interface.device
        self.anonymous: dict[tuple, list[Device]] = {}
        if any(not (r.serial or r.asset_tag or r.interfaces) for r in records):
            query = select(Device).options(*options).where(
                Device.serial.is_(None), Device.asset_tag.is_(None), ~Device.interfaces.any())
            for device in db.session.scalars(query):
                key = _fingerprint(device.school.code, device.room.code if device.room else None, device)
                self.anonymous.setdefault(key, []).append(device)

    def anonymous_match(self, record, school: str, claimed: dict) -> Device | None:
        """A device with no serial, asset tag or MAC is the same device when every other column is equal."""
        for device in self.anonymous.get(_fingerprint(school, record.room, record), []):
            if device.id not in claimed:
                return device
        return None

    @staticmethod
    def _pick(candidates: list[Device], retired_wanted: bool) -> Device | None:
        """A row for a retired device means the retired one (an identity may live on in its replacement)."""
        live = [d for d in candidates if d.status != "retired"]
        retired = [d for d in candidates if d.status == "retired"]
        if retired_wanted and retired:
            return retired[-1]
        return live[0] if live else None

    def parent_for(self, serial: str, child: Device, in_file: dict[str, list[Device]]) -> Device | None:
        """The device a parent_serial names: the current parent if it still carries it, else a live one."""
        candidates = list(in_file.get(serial, [])) + [d for d in self.by_serial.get(serial, [])
                                                      if d not in in_file.get(serial, [])]
        for device in candidates:
            if device.id == child.parent_id:
                return device
        live = [d for d in candidates if d.status != "retired"]
        return (live or candidates or [None])[0]

    def match(self, record) -> tuple[Device | None, str | None]:
        """The existing device this record describes, or a conflict message."""
        retired = record.status == "retired"
        by_serial = self._pick(self.by_serial.get(record.serial, []), retired) if record.serial else None
        by_tag = self._pick(self.by_tag.get(record.asset_tag, []), retired) if record.asset_tag else None
        by_mac = {self.by_mac[i.mac] for i in record.interfaces if i.mac in self.by_mac}
        found = by_serial or by_tag or (next(iter(by_mac)) if len(by_mac) == 1 else None)
        if found is not None and by_serial is None and record.serial and found.serial \
                and found.serial != record.serial and found.status != "retired":
            return None, (f"serial '{record.serial}' differs from device {found.id} ({found.label}), which holds "
                          f"its {'asset tag' if by_tag else 'MAC'} with serial '{found.serial}'")
        if found is None and len(by_mac) > 1:
            names = ", ".join(f"{d.id} ({d.label})" for d in sorted(by_mac, key=lambda d: d.id))
            return None, f"its MACs belong to different devices: {names}"
        for other, what in ((by_tag, "asset tag"), *((d, "MAC") for d in by_mac)):
            if other is not None and found is not None and other is not found:
                return None, (f"serial/asset tag point to device {found.id} ({found.label}) but its {what} "
                              f"belongs to device {other.id} ({other.label})")
        return found, None


def _record_data(record, school_code: str) -> dict:
    """The service's field dict for a record; empty cells leave existing values alone."""
    data = {"school": school_code}
    for name in ("room", "kind", "vendor", "model", "serial", "asset_tag", "hostname", "ip", "status",
                 "purchase_date", "supplier", "invoice", "price_net", "price_gross", "grant", "category",
                 "warranty_end", "commissioned", "notes"):
        value = getattr(record, name)
        if value is not None and value != "":
            data[name] = value
    if record.interfaces:
        data["interfaces"] = [{"mac": i.mac, "kind": i.kind, **({"last_ip": i.ip} if i.ip else {})}
                              for i in record.interfaces]
    return data


def _merge_interfaces(device: Device, data: dict) -> None:
    """An import adds MACs to a device; it never drops interfaces the file does not mention."""
    if device is None or "interfaces" not in data:
        return
    listed = {i["mac"] for i in data["interfaces"]}
    data["interfaces"] = data["interfaces"] + [
        {"mac": i.mac, "kind": i.kind, "last_ip": i.last_ip} for i in device.interfaces if i.mac not in listed]


def _check_fixed_ips(run: "_Run", ip_lines: dict) -> None:
    """After every row is applied: no fixed IP may be held by two live devices of one school."""
    if not ip_lines:
        return
    ips = sorted({ip for _school, ip in ip_lines})
    for part in _chunks(ips):
        query = (select(Device.school_id, Device.ip, func.count()).where(Device.ip.in_(part), Device.status != "retired")
                 .group_by(Device.school_id, Device.ip).having(func.count() > 1))
        for school_id, ip, count in db.session.execute(query):
            record = ip_lines.get((school_id, ip))
            if record is not None:
                run.error(record, f"ip: {ip} would be held by {count} devices of the school that are not retired")


def _add_interfaces(run: "_Run", record, device: Device) -> None:
    """Give a device the MACs of a further interface line."""
    known = {interface.mac for interface in device.interfaces}
    extra = [{"mac": i.mac, "kind": i.kind, "last_ip": i.ip} for i in record.interfaces if i.mac not in known]
    if extra:
        current = [{"mac": i.mac, "kind": i.kind, "last_ip": i.last_ip} for i in device.interfaces]
        update_device(device.id, {"interfaces": current + extra}, commit=False)
        run.result.lines.append(f"{run.filename}:{record.line}: add interface(s) "
                                f"{', '.join(i['mac'] for i in extra)} to device {device.id} ({device.label})")


def _set_parent(run: "_Run", record, device: Device, parent: Device) -> None:
    """Link a device to its parent; a link that changes makes an unchanged row an update."""
    old = device.parent_id
    update_device(device.id, {"parent_id": parent.id}, commit=False)
    if record.line in run.unchanged_lines:
        run.unchanged_lines.discard(record.line)
        run.result.unchanged -= 1
        run.result.updated += 1
        run.result.lines.append(f"{run.filename}:{record.line}: update device {device.id} ({device.label}): "
                                f"parent_id {old!r} → {parent.id!r}")


class _Run:
    """One import: the result, the problems by line, and what the file's rows resolved to."""

    def __init__(self, filename: str, problems):
        self.filename = filename
        self.result = ImportResult()
        self.errors: list[tuple[int, str]] = list(problems or [])
        self.claimed: dict[int, int] = {}
        self.unchanged_lines: set[int] = set()

    def error(self, record, text: str) -> None:
        self.errors.append((record.line, f"{self.filename}:{record.line}: {text}"))


def _target_school(run: _Run, record, schools: dict, school: str | None, allowed) -> School | None:
    code = record.school or school
    if school and record.school and record.school != school:
        run.error(record, f"school: the row says '{record.school}' but the import is for '{school}'")
    elif not code:
        run.error(record, "school: missing (add a school column or name the school for the whole file)")
    elif code not in schools:
        run.error(record, f"school: unknown school '{code}'")
    elif allowed is not None and code not in allowed:
        run.error(record, f"school: this token may not change '{code}'")
    else:
        return schools[code]
    return None


def _ensure_room(run: _Run, record, target: School, create_rooms: bool) -> bool:
    if not record.room or record.room in {room.code for room in target.rooms}:
        return True
    if not create_rooms:
        run.error(record, f"room: unknown room '{record.room}' in '{target.code}' (create it, or import with "
                          f"--create-rooms / create_rooms=true)")
        return False
    room = Room(code=record.room, name=record.room, kind="other")
    target.rooms.append(room)
    db.session.flush()
    audit.record("create", "room", room.id, f"{target.code}/{room.code}", {"code": [None, room.code]}, target.code)
    run.result.rooms_created += 1
    run.result.lines.append(f"{run.filename}:{record.line}: create room {target.code}/{record.room}")
    return True


def _apply(run: _Run, record, device: Device | None, data: dict) -> Device:
    where = f"{run.filename}:{record.line}"
    if device is None:
        device = register_device(data, commit=False)
        run.result.created += 1
        run.result.lines.append(f"{where}: create {device.kind} {device.label}")
        return device
    before = snapshot(device)
    update_device(device.id, data, commit=False)
    changed = audit.diff(before, snapshot(device))
    if changed:
        run.result.updated += 1
        text = ", ".join(f"{k} {v[0]!r} → {v[1]!r}" for k, v in changed.items())
        run.result.lines.append(f"{where}: update device {device.id} ({device.label}): {text}")
    else:
        run.result.unchanged += 1
        run.unchanged_lines.add(record.line)
    return device


def import_records(records, filename: str, school: str | None = None, dry_run: bool = False,
                   create_rooms: bool = False, allowed: list[str] | None = None, problems=None,
                   fmt: str | None = None) -> ImportResult:
    """Apply parsed records in one transaction; every problem is reported, then nothing is written.

    `allowed` limits the schools a token may touch; `problems` are (line, message) pairs found while reading.
    """
    run = _Run(filename, problems)
    interface_rows = fmt == "linuxmuster"
    ip_lines: dict[tuple[int, str], object] = {}
    schools = {s.code: s for s in db.session.scalars(select(School).options(selectinload(School.rooms)))}
    index = _Index(records)
    by_serial_in_file: dict[str, list[Device]] = {}
    parents: list[tuple] = []
    try:
        for record in records:
            target = _target_school(run, record, schools, school, allowed)
            if target is None or not _ensure_room(run, record, target, create_rooms):
                continue
            device, conflict = index.match(record)
            if conflict:
                run.error(record, conflict)
                continue
            if device is None and not (record.serial or record.asset_tag or record.interfaces):
                device = index.anonymous_match(record, target.code, run.claimed)
            if device is not None and device.id in run.claimed and interface_rows \
                    and not (record.serial or record.asset_tag):
                # linuxmuster writes one line per interface; a further line of a known device only adds its MAC.
                _add_interfaces(run, record, device)
                continue
            if device is not None:
                if device.id in run.claimed:
                    run.error(record, f"describes device {device.id} ({device.label}) like line "
                                      f"{run.claimed[device.id]}; one row per device")
                    continue
                run.claimed[device.id] = record.line
                if allowed is not None and device.school.code not in allowed:
                    run.error(record, f"matches device {device.id} ({device.label}) of '{device.school.code}', "
                                      f"which this token may not change")
                    continue
            if record.ip:
                ip_lines.setdefault((target.id, record.ip), record)
            data = _record_data(record, target.code)
            _merge_interfaces(device, data)
            try:
                device = _apply(run, record, device, data)
            except FleetError as error:
                run.error(record, error.message)
                continue
            if record.serial:
                by_serial_in_file.setdefault(record.serial, []).append(device)
            if record.parent_serial:
                parents.append((record, device, record.parent_serial))
        for record, device, parent_serial in parents:
            parent = index.parent_for(parent_serial, device, by_serial_in_file)
            if parent is None:
                run.error(record, f"parent_serial: no device with serial '{parent_serial}'")
            elif allowed is not None and parent.school.code not in allowed:
                run.error(record, f"parent_serial: device {parent.id} ({parent.label}) belongs to "
                                  f"'{parent.school.code}', which this token may not change")
            elif parent.id != device.parent_id:
                try:
                    _set_parent(run, record, device, parent)
                except FleetError as error:
                    run.error(record, f"parent_serial: {error.message}")
        db.session.flush()
        _check_fixed_ips(run, ip_lines)
    except IntegrityError as error:
        db.session.rollback()
        raise FileRejected([f"{filename}: the database refused the import: {error.orig}"]) from None
    except BaseException:
        db.session.rollback()
        raise
    if run.errors:
        db.session.rollback()
        run.errors.sort(key=lambda problem: problem[0])
        lines = [text for _line, text in run.errors]
        raise FileRejected(lines, f"{len(lines)} problem(s) in {filename}; nothing was imported")
    if dry_run:
        db.session.rollback()
        return run.result
    audit.record("import", "file", None, filename, {"created": [None, run.result.created],
                                                     "updated": [None, run.result.updated]}, school)
    db.session.commit()
    return run.result
