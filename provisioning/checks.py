"""The funding rules run on the database: rows → provisioning.facts.Facts → rules.check → findings.

What the inventory does not record yet is decided here:
- an item's invoice date is the device's purchase date, its commissioning date the device's (where none is
  recorded, the invoice date stands in where the programme counts the earmark per device);
- a device is retired on the day of the last audit event that set its status to retired (else today stands in);
- a device in a room of kind 'admin' is in administrative use (R3), every other one in teaching;
- a funded device without a price counts as 0,00 € (R5 still names it when it has no invoice date);
- a device naming a grant the database does not hold is left unfunded for the rules (unknown_grants lists them).
The rules see the whole carrier, since R1 and R4 compare across schools; filters narrow only the findings.
"""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from inventory.db import db
from inventory.enums import DeviceStatus, RoomKind
from inventory.errors import FleetError, UnknownSchool
from inventory.models import AuditEvent, Carrier, Device, Room, School

from . import facts as f
from .grants import GrantNotFound, catalogue
from .ledger import INFRASTRUCTURE, Ledger
from .models import Grant, Purchase, PurchaseLine
from .programmes import for_carrier
from .rules import check

ZERO = Decimal("0.00")
RULES = tuple(f"R{number}" for number in range(1, 11))


class NoCarrier(FleetError):
    status = 409

    def __init__(self):
        super().__init__("no carrier in the database yet: run `fleet schools sync` (or `fleet demo`) first")


def load_facts(today: date, devices: Iterable | None = None) -> f.Facts:
    """The carrier's facts as the rules read them; devices (default: funded_devices()) become the items."""
    carrier = db.session.scalar(select(Carrier).order_by(Carrier.id).limit(1))
    if carrier is None:
        raise NoCarrier()
    programmes = for_carrier(catalogue(), {"state": carrier.state, "funding": carrier.funding})
    schools = list(db.session.scalars(select(School).order_by(School.code)))
    grants = list(db.session.scalars(select(Grant).options(selectinload(Grant.schools)).order_by(Grant.ref)))
    if devices is None:
        devices = funded_devices()
    devices = list(devices)
    refs = {g.ref for g in grants}
    retired = _retirements([device.id for device in devices if device.status == DeviceStatus.RETIRED])
    return f.Facts(
        carrier=f.Carrier(state=carrier.state,
                          budgets={code: Decimal(str(amount)) for code, amount in (carrier.budgets or {}).items()}),
        programmes=programmes, today=today,
        schools=tuple(f.School(code=s.code, type=s.type, number=s.number, concept_date=s.concept_date,
                               network_since=s.network_since) for s in schools),
        grants=tuple(f.Grant(ref=g.ref, programme=g.programme, schools=tuple(g.school_codes), decided=g.decided,
                             amount=g.amount, rate=g.rate, project_end=g.project_end, proof_due=g.proof_due,
                             proof_submitted=g.proof_submitted, applied=g.applied) for g in grants),
        items=tuple(item_of(device, *retired.get(device.id, (None, None)), grants=refs) for device in devices))


class DeviceRow(NamedTuple):
    """One device as the rules and the funding report read it (funded_devices)."""

    id: int
    parent_id: int | None
    kind: str
    status: str
    vendor: str | None
    model: str | None
    serial: str | None
    asset_tag: str | None
    supplier: str | None
    invoice: str | None
    purchase_date: date | None
    price_net: Decimal | None
    price_gross: Decimal | None
    grant_ref: str | None
    funding_category: str | None
    school_code: str
    school_number: str | None
    school_type: str
    room_code: str | None
    room_name: str | None
    room_kind: str | None
    commissioned_on: date | None
    paid_date: date | None  # of the invoice listing the device
    reimbursed_date: date | None


def funded_devices() -> list[DeviceRow]:
    """The devices the rules read, by id: every one naming a grant, and unfunded LAN/WLAN (R2 infrastructure)."""
    # Plain tuples rather than ORM objects or result rows: a large carrier has tens of thousands of funded devices,
    # and a named tuple's fields read several times faster than a result row's.
    query = (select(Device.id, Device.parent_id, Device.kind, Device.status, Device.vendor, Device.model,
                    Device.serial, Device.asset_tag, Device.supplier, Device.invoice, Device.purchase_date,
                    Device.price_net, Device.price_gross, Device.grant_ref, Device.funding_category,
                    School.code.label("school_code"), School.number.label("school_number"),
                    School.type.label("school_type"), Room.code.label("room_code"), Room.name.label("room_name"),
                    Room.kind.label("room_kind"), Device.commissioned_on, Purchase.paid_date, Purchase.reimbursed_date)
             .join(School, Device.school_id == School.id).outerjoin(Room, Device.room_id == Room.id)
             .outerjoin(PurchaseLine, PurchaseLine.device_id == Device.id)
             .outerjoin(Purchase, Purchase.id == PurchaseLine.purchase_id)
             .where(or_(and_(Device.grant_ref.is_not(None), Device.grant_ref != ""),
                        Device.funding_category.in_(sorted(INFRASTRUCTURE))))
             .order_by(Device.id))
    result = db.session.execute(query)
    assert tuple(result.keys()) == DeviceRow._fields
    return list(map(DeviceRow._make, result))


def unknown_grants(devices: Iterable) -> dict[str, int]:
    """Grant references devices name that no grant in the database has, with how many devices name each."""
    known = set(db.session.scalars(select(Grant.ref)))
    counts: dict[str, int] = {}
    for device in devices:
        if device.grant_ref and device.grant_ref not in known:
            counts[device.grant_ref] = counts.get(device.grant_ref, 0) + 1
    return dict(sorted(counts.items()))


def item_of(device, retired_at: date | None, retire_reason: str | None, grants: set[str]) -> f.Item:
    """One device row (funded_devices) as a rule item; a grant not among grants is left out (see unknown_grants)."""
    admin = device.room_kind == RoomKind.ADMIN
    return f.Item(id=device.id, school=device.school_code, kind=device.kind, category=device.funding_category or None,
                  grant=device.grant_ref if device.grant_ref in grants else None, net=device.price_net or ZERO,
                  gross=device.price_gross or ZERO,
                  invoice_date=device.purchase_date, commissioned=device.commissioned_on,
                  asset_tag=device.asset_tag, status=device.status,
                  retired_at=retired_at, retire_reason=retire_reason, use="administration" if admin else "teaching")


def _retirements(ids: list[int]) -> dict[int, tuple[date, str | None]]:
    """Per device id, the day its status last became retired and the reason given, as the audit trail records it."""
    found: dict[int, tuple[date, str | None]] = {}
    for start in range(0, len(ids), 500):  # a bounded IN list, for SQLite's parameter limit
        query = (select(AuditEvent.object_id, AuditEvent.at, AuditEvent.changes)
                 .where(AuditEvent.object_type == "device", AuditEvent.object_id.in_(ids[start:start + 500]))
                 .order_by(AuditEvent.at, AuditEvent.id))
        for object_id, at, changes in db.session.execute(query):
            status = (changes or {}).get("status")
            if isinstance(status, list) and len(status) == 2 and status[1] == DeviceStatus.RETIRED:
                reason = changes.get("retire_reason")
                found[object_id] = (at.date(), reason[1] if isinstance(reason, list) and len(reason) == 2 else None)
    return found


def run_checks(facts: f.Facts, school: list[str] | None = None, grant: list[str] | None = None,
               rule: list[str] | None = None, visible: list[str] | None = None,
               ledger: Ledger | None = None) -> list[f.RuleFinding]:
    """check(facts), narrowed to findings of these schools, grants and rules and to what visible may see; ledger is
    Ledger(facts) when the caller has built it already.

    A finding for no school (a grant's or the carrier's) is shown to a caller limited to some schools when its grant
    covers one of them; carrier-wide findings (budgets, the mobile share) only to callers who see every school.
    """
    known_schools = {s.code for s in facts.schools}
    for code in school or ():
        if code not in known_schools:
            raise UnknownSchool(code)
    grants = {g.ref: g for g in facts.grants}
    for ref in grant or ():
        if ref not in grants:
            raise GrantNotFound(ref)
    for code in rule or ():
        if code.upper() not in RULES:
            raise FleetError(f"unknown rule '{code}': the rules are R1 to R10", {"rule": [f"unknown rule '{code}'"]})
    rules = {code.upper() for code in rule or ()}

    def seen_by(finding: f.RuleFinding, schools: Iterable[str]) -> bool:
        wanted = set(schools)
        if finding.school is not None:
            return finding.school in wanted
        return finding.grant is not None and bool(wanted & set(grants[finding.grant].schools))

    return [finding for finding in check(facts, ledger)
            if (not rules or finding.rule in rules)
            and (not grant or finding.grant in grant)
            and (not school or seen_by(finding, school))
            and (visible is None or seen_by(finding, visible))]


def findings(today: date, school: list[str] | None = None, grant: list[str] | None = None,
             rule: list[str] | None = None, visible: list[str] | None = None) -> list[f.RuleFinding]:
    """The rule findings for the carrier as the database holds it today, narrowed as run_checks says."""
    return run_checks(load_facts(today), school, grant, rule, visible)


def finding_dict(finding: f.RuleFinding) -> dict:
    """A finding as JSON: money and shares as decimal text, dates as ISO text."""
    return {"rule": finding.rule, "severity": finding.severity, "reason": finding.reason, "school": finding.school,
            "grant": finding.grant, "programme": finding.programme, "items": list(finding.items),
            "figures": {name: _plain(value) for name, value in finding.figures.items()},
            "de": finding.de, "en": finding.en}


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
