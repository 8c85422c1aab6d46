"""Purchases (invoices) and their lines: imported from a file or written over the API, always all or nothing.

An invoice names its devices, one line each. Recording it writes each device's purchase fields (supplier, invoice
number, invoice date, net, gross, and the category and grant where a line gives them), so the rules and the report
read one set of figures; the invoice adds what a device row has no room for: when the carrier paid it and when the
Land reimbursed the funded share. An invoice already recorded (same supplier and number) is replaced by a file's
version; a device it no longer lists loses its invoice number and date, so it counts as committed, not invoiced.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from inventory import audit
from inventory.db import db
from inventory.errors import Conflict, FileRejected, InvalidInput, NotFound
from inventory.models import Device

from .models import Grant, Purchase, PurchaseLine
from .purchase_files import InvoiceRecord, LineRecord

CHUNK = 500
ZERO = Decimal("0.00")
DEVICE_FIELDS = ("supplier", "invoice", "purchase_date", "price_net", "price_gross", "funding_category", "grant_ref")

# (line, column) → where a message points: '<file>:<line>: <column>' for files, 'lines[i].<column>' for the API.
Label = Callable[[int, str], str]


class PurchaseNotFound(NotFound):
    def __init__(self, ident):
        super().__init__(f"no invoice {ident}")


class InvoicesRejected(FileRejected):
    """Invoices that cannot be recorded as they stand; nothing was written. fields maps each place to its
    messages."""

    def __init__(self, problems: list[tuple[str, str]], keyed: bool = False):
        super().__init__([f"{where}: {message}" for where, message in problems])
        if keyed:  # a request's fields by place ('lines[0].serial'); a file's stay one list of lines, as devices'
            self.fields = {}
            for where, message in problems:
                self.fields.setdefault(where, []).append(message)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    lines: int = 0
    devices: int = 0  # devices whose purchase fields changed

    def summary(self, dry_run: bool = False) -> str:
        """One line for the CLI."""
        verb = "would be" if dry_run else "were"
        return (f"{self.created} invoice(s) {verb} created, {self.updated} replaced, {self.unchanged} unchanged; "
                f"{self.lines} line(s), {self.devices} device(s) changed"
                + (" (dry run: nothing written)" if dry_run else ""))

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged, "lines": self.lines,
                "devices": self.devices}


def file_label(filename: str) -> Label:
    return lambda line, column: f"{filename}:{line}: {column}"


def import_invoices(records: list[InvoiceRecord], label: Label, dry_run: bool = False,
                    allowed: list[str] | None = None, replace: bool = True, keyed: bool = False) -> ImportResult:
    """Record invoices, replacing those already there when replace; allowed (None: all) limits the schools whose
    devices may be invoiced, or listed by an invoice being replaced. Raises InvoicesRejected listing every problem
    (its fields keyed by place when keyed), and writes nothing then."""
    problems: list[tuple[str, str]] = []
    devices = _resolve([line for record in records for line in record.lines], label, problems)
    known = {purchase_key(p): p for p in _existing(records)}
    if not replace:
        for record in records:
            if record.key in known:
                raise Conflict(f"invoice '{record.invoice}' of '{record.supplier}' is already recorded (id "
                               f"{known[record.key].id}): change it with PATCH or import the file again",
                               {"invoice_number": ["already recorded"]})
    _check_once(records, devices, label, problems)
    _check_grants(records, label, problems)
    _check_schools(records, devices, known, label, allowed, problems)
    _check_elsewhere(records, devices, known, label, problems)
    if problems:
        raise InvoicesRejected(problems, keyed)
    result = ImportResult()
    # Replaced invoices let go of their old lines first, so a device may move from one invoice to another.
    prepared = {record.key: _prepare(known[record.key], record, devices) for record in records if record.key in known}
    db.session.flush()
    for record in records:
        _apply(record, known.get(record.key), prepared.get(record.key, ({}, [])), devices, result)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return result


def purchase_key(purchase: Purchase) -> tuple[str, str]:
    return (purchase.supplier, purchase.invoice_number)


def _existing(records: list[InvoiceRecord]) -> list[Purchase]:
    suppliers = sorted({record.supplier for record in records})
    numbers = sorted({record.invoice for record in records})
    if not records:
        return []
    wanted = {record.key for record in records}
    found = []
    for part in _chunks(numbers):
        query = (select(Purchase).options(selectinload(Purchase.lines))
                 .where(Purchase.invoice_number.in_(part), Purchase.supplier.in_(suppliers)))
        found.extend(p for p in db.session.scalars(query) if purchase_key(p) in wanted)
    return found


def _chunks(values: list) -> list[list]:
    return [values[i:i + CHUNK] for i in range(0, len(values), CHUNK)] or [[]]


def _resolve(lines: list[LineRecord], label: Label, problems: list) -> dict[int, Device]:
    """Per line, its device: by id, serial or asset tag; a live device wins over retired ones of the same serial."""
    by = {"serial": {}, "asset_tag": {}, "id": {}}
    wanted = {"serial": sorted({l.serial for l in lines if l.serial}),
              "asset_tag": sorted({l.asset_tag for l in lines if l.asset_tag}),
              "id": sorted({l.device for l in lines if l.device is not None})}
    for column, values in wanted.items():
        attribute = getattr(Device, column)
        for part in _chunks(values):
            if not part:
                continue
            query = select(Device).options(selectinload(Device.school)).where(attribute.in_(part))
            for device in db.session.scalars(query):
                by[column].setdefault(getattr(device, column), []).append(device)
    found = {}
    for line in lines:
        picks = []
        for column, value in (("id", line.device), ("serial", line.serial), ("asset_tag", line.asset_tag)):
            if value is None:
                continue
            candidates = by[column].get(value, [])
            live = [d for d in candidates if d.status != "retired"]
            chosen = live if live else candidates
            where = label(line.line, "device" if column == "id" else column)
            if not chosen:
                hint = "" if column == "id" else ": import or register the device first"
                problems.append((where, f"no device with {'id' if column == 'id' else column} '{value}'{hint}"))
            elif len(chosen) > 1:
                ids = ", ".join(str(d.id) for d in chosen)
                problems.append((where, f"'{value}' names retired devices {ids}; give the device's asset tag"))
            else:
                picks.append((column, chosen[0]))
        if len({device.id for _, device in picks}) > 1:
            names = ", ".join(f"{column} → device {device.id}" for column, device in picks)
            problems.append((label(line.line, picks[-1][0]), f"the line names two devices ({names})"))
        elif picks:
            found[line.line] = picks[0][1]
    return found


def _check_once(records: list[InvoiceRecord], devices: dict[int, Device], label: Label, problems: list) -> None:
    """One device on one line: two lines naming it differently (serial here, asset tag there) are refused too."""
    first: dict[int, int] = {}
    for record in records:
        for line in record.lines:
            device = devices.get(line.line)
            if device is None:
                continue
            seen = first.setdefault(device.id, line.line)
            if seen != line.line:
                column = "device" if line.device is not None else "serial" if line.serial else "asset_tag"
                problems.append((label(line.line, column), f"device {device.id} is already on line {seen}"))


def _check_grants(records: list[InvoiceRecord], label: Label, problems: list) -> None:
    refs = sorted({line.grant for record in records for line in record.lines if line.grant})
    known = set(db.session.scalars(select(Grant.ref).where(Grant.ref.in_(refs)))) if refs else set()
    for record in records:
        for line in record.lines:
            if line.grant and line.grant not in known:
                problems.append((label(line.line, "grant"), f"no grant '{line.grant}' (declare it in schools.yaml "
                                                            f"or POST /api/v1/funding/grants)"))


def _check_schools(records, devices: dict[int, Device], known: dict, label: Label, allowed, problems: list) -> None:
    if allowed is None:
        return
    for record in records:
        purchase = known.get(record.key)
        outside = sorted({line.device.school.code for line in purchase.lines} - set(allowed)) if purchase else []
        if outside:
            problems.append((label(record.line, "invoice"), f"invoice '{record.invoice}' lists devices of "
                                                            f"{', '.join(outside)}, outside {', '.join(allowed)}"))
        for line in record.lines:
            device = devices.get(line.line)
            if device is not None and device.school.code not in allowed:
                problems.append((label(line.line, "serial" if line.serial else "asset_tag"),
                                 f"device {device.id} belongs to '{device.school.code}', outside "
                                 f"{', '.join(allowed)}"))


def _check_elsewhere(records, devices: dict[int, Device], known: dict, label: Label, problems: list) -> None:
    """A device is on one invoice only: one not being replaced here must not list it already."""
    replaced = {purchase.id for purchase in known.values()}
    ids = sorted({device.id for device in devices.values()})
    taken: dict[int, Purchase] = {}
    for part in _chunks(ids):
        if not part:
            continue
        query = (select(PurchaseLine.device_id, Purchase).join(Purchase)
                 .where(PurchaseLine.device_id.in_(part)))
        for device_id, purchase in db.session.execute(query):
            if purchase.id not in replaced:
                taken[device_id] = purchase
    for record in records:
        for line in record.lines:
            device = devices.get(line.line)
            other = taken.get(device.id) if device is not None else None
            if other is not None:
                problems.append((label(line.line, "serial" if line.serial else "asset_tag"),
                                 f"device {device.id} is already on invoice '{other.invoice_number}' of "
                                 f"'{other.supplier}' (id {other.id})"))


def _lines_of(record: InvoiceRecord, devices: dict[int, Device]) -> list[tuple]:
    return [(devices[line.line].id, line.category, line.net, line.gross) for line in record.lines]


def _prepare(purchase: Purchase, record: InvoiceRecord, devices: dict[int, Device]) -> tuple[dict, list[Device]]:
    """An invoice about to be replaced: its state before, the devices it drops; its lines go if they change."""
    before = _state(purchase)
    keep = {devices[line.line].id for line in record.lines}
    dropped = [line.device for line in purchase.lines if line.device_id not in keep]
    if [(l.device_id, l.category, l.net, l.gross) for l in purchase.lines] != _lines_of(record, devices):
        purchase.lines.clear()
    return before, dropped


def _apply(record: InvoiceRecord, purchase: Purchase | None, prepared: tuple[dict, list[Device]],
           devices: dict[int, Device], result: ImportResult) -> None:
    before, dropped = prepared
    grants = record.grants
    fields = {"invoice_date": record.invoice_date, "paid_date": record.paid_date,
              "reimbursed_date": record.reimbursed_date, "note": record.note,
              "grant_ref": next(iter(grants)) if len(grants) == 1 else None}
    if purchase is None:
        purchase = Purchase(supplier=record.supplier, invoice_number=record.invoice, **fields)
        db.session.add(purchase)
        db.session.flush()
        result.created += 1
    else:
        for name, value in fields.items():
            setattr(purchase, name, value)
    if not purchase.lines:
        for position, line in enumerate(record.lines, 1):
            purchase.lines.append(PurchaseLine(position=position, device_id=devices[line.line].id,
                                               category=line.category, net=line.net, gross=line.gross))
    result.lines += len(record.lines)
    for line in record.lines:
        result.devices += _write_device(devices[line.line], record, line)
    for device in dropped:
        result.devices += _release(device, purchase)
    changes = audit.diff(before, _state(purchase))
    if before and not changes:
        result.unchanged += 1
        return
    if before:
        result.updated += 1
    audit.record("update" if before else "create", "purchase", purchase.id,
                 f"{purchase.supplier} {purchase.invoice_number}", changes)


def _state(purchase: Purchase) -> dict:
    return {"supplier": purchase.supplier, "invoice_number": purchase.invoice_number,
            "invoice_date": purchase.invoice_date, "paid_date": purchase.paid_date,
            "reimbursed_date": purchase.reimbursed_date, "grant_ref": purchase.grant_ref, "note": purchase.note,
            "lines": [[line.device_id, line.category, audit.plain(line.net), audit.plain(line.gross)]
                      for line in sorted(purchase.lines, key=lambda line: line.position)]}


def _device_state(device: Device) -> dict:
    return {name: getattr(device, name) for name in DEVICE_FIELDS}


def _write_device(device: Device, record: InvoiceRecord, line: LineRecord) -> int:
    """The device's purchase fields as the line says; 1 when that changed anything."""
    before = _device_state(device)
    device.supplier, device.invoice, device.purchase_date = record.supplier, record.invoice, record.invoice_date
    device.price_net, device.price_gross = line.net, line.gross
    if line.category:
        device.funding_category = line.category
    if line.grant:
        device.grant_ref = line.grant
    return _audited(device, before)


def _release(device: Device, purchase: Purchase) -> int:
    """A device an invoice no longer lists: its invoice number and date go, its price stays."""
    before = _device_state(device)
    if device.invoice == purchase.invoice_number and device.supplier == purchase.supplier:
        device.invoice, device.purchase_date = None, None
    return _audited(device, before)


def _audited(device: Device, before: dict) -> int:
    changes = audit.diff(before, _device_state(device))
    if not changes:
        return 0
    audit.record("update", "device", device.id, device.label, changes, device.school.code)
    return 1


# Single invoices (API)

def get_purchase(purchase_id: int) -> Purchase:
    purchase = db.session.get(Purchase, purchase_id)
    if purchase is None:
        raise PurchaseNotFound(purchase_id)
    return purchase


def find_purchase(supplier: str, invoice_number: str) -> Purchase:
    """An invoice by its supplier and number."""
    purchase = db.session.scalar(select(Purchase).where(Purchase.supplier == supplier,
                                                        Purchase.invoice_number == invoice_number))
    if purchase is None:
        raise PurchaseNotFound(f"'{invoice_number}' of '{supplier}'")
    return purchase


def update_purchase(purchase_id: int, data: dict) -> Purchase:
    """Change an invoice's own fields (dates, note); a new invoice date goes to its devices too."""
    purchase = get_purchase(purchase_id)
    before = _state(purchase)
    for name in ("invoice_date", "paid_date", "reimbursed_date", "note"):
        if name in data:
            setattr(purchase, name, data[name])
    if purchase.invoice_date is None:
        raise InvalidInput("an invoice needs its date", {"invoice_date": ["required"]})
    if "invoice_date" in data:
        for line in purchase.lines:
            state = _device_state(line.device)
            if line.device.invoice == purchase.invoice_number:
                line.device.purchase_date = purchase.invoice_date
            _audited(line.device, state)
    changes = audit.diff(before, _state(purchase))
    if changes:
        audit.record("update", "purchase", purchase.id, f"{purchase.supplier} {purchase.invoice_number}", changes)
    db.session.commit()
    return purchase


def delete_purchase(purchase_id: int) -> None:
    """Remove an invoice; its devices lose their invoice number and date and count as committed again."""
    purchase = get_purchase(purchase_id)
    for line in purchase.lines:
        _release(line.device, purchase)
    audit.record("delete", "purchase", purchase.id, f"{purchase.supplier} {purchase.invoice_number}",
                 audit.diff(_state(purchase), {}))
    db.session.delete(purchase)
    db.session.commit()
