"""The funding report (Verwendungsnachweis figures): per grant, per school and category, per room, one line per device,
the receipts, and the rule findings.

Definitions (every amount is Decimal; the figures follow from the device lines, so nothing is counted twice — a device
names one grant, and a child such as an OPS PC counts on its own price only):
- cost: an item's amount as its programme counts (cost_basis: gross or net);
- committed: cost of devices with a price but no invoice number yet (planned, ordered, or otherwise not invoiced);
- invoiced: cost of devices with an invoice number;
- paid: cost of invoiced devices whose recorded invoice (`fleet import purchases`) has a payment date;
- eligible share: the funding rate (the notice's, at most 1 − own share) × the eligible cost (rules' ledger: not
  excluded by R3, invoiced inside the window, counted up to a gross cap), per device to the cent;
- already reimbursed: the eligible share of invoiced devices whose invoice the Land has reimbursed (its recorded
  reimbursement date); requested now: the eligible share of the other invoiced devices;
- per grant, the notice's amount caps the payout: requested now is at most approved − already reimbursed, the part of
  the invoiced devices' share beyond that is `cut` (the carrier pays it from its own money), and
  `beyond_approved` is how far the share of invoiced and committed devices goes past the approved amount;
- remaining: approved − already reimbursed − requested now − the share of committed devices, never below zero.
Per device, school, room and category the figures are the devices' own, before the cap.
"""

import gc
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from sqlalchemy import select

from inventory.db import db
from inventory.models import Carrier

from . import checks
from .facts import RuleFinding
from .grants import GrantNotFound
from .ledger import Funded, Ledger
from .models import Grant
from .rules import eligible_costs

ZERO, CENT = Decimal("0.00"), Decimal("0.01")
PAID_BASIS = "invoiced devices whose recorded invoice has a payment date"
REIMBURSED_BASIS = "eligible share of invoiced devices whose recorded invoice has a reimbursement date"


class Line(NamedTuple):
    """One funded device as the proof of use lists it (Geräteliste); a named tuple, cheap to build by the ten
    thousand."""

    device: int
    grant: str
    grant_date: date
    programme: str
    school: str
    school_number: str | None
    school_type: str
    room: str | None
    room_name: str | None
    category: str | None
    kind: str
    vendor: str | None
    model: str | None
    serial: str | None
    asset_tag: str | None
    supplier: str | None
    invoice: str | None
    invoice_date: date | None
    net: Decimal
    gross: Decimal
    cost: Decimal  # in the programme's cost basis
    eligible_share: Decimal
    requested_now: Decimal
    earmark_end: date | None
    status: str
    parent: int | None
    invoiced: bool  # has an invoice number
    committed: bool  # priced, not invoiced yet
    payment_date: date | None
    commissioned: date | None
    reimbursed: Decimal
    quantity: int = 1


@dataclass
class Sums:
    """Sums over lines: counts and money, in the cost basis and both net and gross."""

    devices: int = 0
    net: Decimal = ZERO
    gross: Decimal = ZERO
    committed: Decimal = ZERO
    invoiced: Decimal = ZERO
    eligible_share: Decimal = ZERO
    requested_now: Decimal = ZERO
    committed_share: Decimal = ZERO
    invoiced_net: Decimal = ZERO
    invoiced_gross: Decimal = ZERO
    paid: Decimal = ZERO
    reimbursed: Decimal = ZERO

    def merge(self, other: "Sums") -> None:
        self.devices += other.devices
        self.net += other.net
        self.gross += other.gross
        self.committed += other.committed
        self.invoiced += other.invoiced
        self.eligible_share += other.eligible_share
        self.requested_now += other.requested_now
        self.committed_share += other.committed_share
        self.invoiced_net += other.invoiced_net
        self.invoiced_gross += other.invoiced_gross
        self.paid += other.paid
        self.reimbursed += other.reimbursed

    def add(self, line: Line) -> None:
        self.devices += 1
        self.net += line.net
        self.gross += line.gross
        self.eligible_share += line.eligible_share
        self.requested_now += line.requested_now
        self.reimbursed += line.reimbursed
        if line.invoiced:
            self.invoiced += line.cost
            if line.payment_date is not None:
                self.paid += line.cost
            self.invoiced_net += line.net
            self.invoiced_gross += line.gross
        elif line.committed:
            self.committed += line.cost
            self.committed_share += line.eligible_share


@dataclass(frozen=True)
class GrantFigures:
    grant: Grant
    cost_basis: str
    rate: Decimal
    sums: Sums

    @property
    def requested_now(self) -> Decimal:
        """The invoiced devices' share not yet reimbursed, up to what the notice has left."""
        return max(ZERO, min(self.sums.requested_now, self.grant.amount - self.sums.reimbursed))

    @property
    def cut(self) -> Decimal:
        """The invoiced devices' share the notice does not cover."""
        return self.sums.requested_now - self.requested_now

    @property
    def beyond_approved(self) -> Decimal:
        return max(ZERO, self.sums.reimbursed + self.sums.requested_now + self.sums.committed_share
                   - self.grant.amount)

    @property
    def remaining(self) -> Decimal:
        return max(ZERO, self.grant.amount - self.sums.reimbursed - self.requested_now - self.sums.committed_share)


@dataclass(frozen=True)
class Receipt:
    """One invoice of one grant (Belegliste): its earliest date, payee, what it bought, amounts."""

    grant: str
    invoice: str
    supplier: str | None
    invoice_date: date | None
    purpose: str
    devices: int
    net: Decimal
    gross: Decimal
    paid_date: date | None = None  # the latest payment recorded for its devices


@dataclass(frozen=True)
class Report:
    today: date
    carrier: str
    grant: str | None
    grants: list[GrantFigures]
    lines: list[Line]
    by_school_category: dict[tuple[str, str], Sums]
    by_room: dict[tuple[str, str], Sums]
    by_category: dict[tuple[str, str], Sums]  # (grant, category)
    receipts: list[Receipt]
    findings: list[RuleFinding] = field(default_factory=list)
    unknown_grants: dict[str, int] = field(default_factory=dict)  # refs devices name that no grant has

    def total(self) -> Sums:
        sums = Sums()
        for group in self.by_category.values():  # every line is in one (grant, category) group
            sums.merge(group)
        return sums


def build_report(today: date, grant: str | None = None, visible: list[str] | None = None) -> Report:
    """The report for one grant (or every grant); visible (None: all) limits grants and devices to these schools."""
    with gc_paused():
        return _build_report(today, grant, visible)


@contextmanager
def gc_paused():
    """The cyclic garbage collector paused for a while (reference counting still frees memory): building some
    hundred thousand small objects would otherwise set off full collections that walk every object of the process,
    a quarter of a large report's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build_report(today: date, grant: str | None, visible: list[str] | None) -> Report:
    if grant is not None and db.session.scalar(select(Grant.id).where(Grant.ref == grant)) is None:
        raise GrantNotFound(grant)
    devices = checks.funded_devices()
    facts = checks.load_facts(today, devices)
    ledger = Ledger(facts)
    carrier = db.session.scalar(select(Carrier.name).order_by(Carrier.id).limit(1)) or ""
    grants = {g.ref: g for g in db.session.scalars(select(Grant).order_by(Grant.decided, Grant.ref))}
    wanted = [ref for ref, g in grants.items() if (grant is None or ref == grant)
              and (visible is None or set(g.school_codes) & set(visible))]
    rows = {row.id: row for row in devices}
    rates = {ref: _rate(ledger, ref) for ref in wanted}
    earmarks: dict[tuple, date | None] = {}
    costs = eligible_costs(ledger)
    lines = [_line(entry, rows[entry.item.id], costs, rates, earmarks) for entry in ledger.funded
             if entry.grant.ref in rates and (visible is None or entry.item.school in visible)]
    # By grant, school, room, then device: ledger.funded is in device order already and the sort is stable.
    lines.sort(key=lambda line: (line.grant, line.school, line.room or ""))
    buckets: dict[tuple, Sums] = defaultdict(Sums)
    for line in lines:
        buckets[(line.grant, line.school, line.room or "", line.category or "")].add(line)
    per_grant = _regrouped(buckets, lambda grant, school, room, category: grant)
    figures = [GrantFigures(grants[ref], ledger.programmes[grants[ref].programme].cost_basis, rates[ref],
                            per_grant.get(ref, Sums())) for ref in wanted]
    findings = checks.run_checks(facts, grant=[grant] if grant else None, visible=visible, ledger=ledger)
    return Report(today, carrier, grant, figures, lines,
                  _regrouped(buckets, lambda grant, school, room, category: (school, category)),
                  _regrouped(buckets, lambda grant, school, room, category: (school, room)),
                  _regrouped(buckets, lambda grant, school, room, category: (grant, category)),
                  _receipts(lines), findings, checks.unknown_grants(devices) if grant is None else {})


def _rate(ledger: Ledger, ref: str) -> Decimal:
    grant = ledger.grants[ref]
    ceiling = 1 - ledger.programmes[grant.programme].own_share
    return ceiling if grant.rate is None else min(grant.rate, ceiling)


def _line(entry: Funded, row: checks.DeviceRow, costs: dict, rates: dict[str, Decimal], earmarks: dict) -> Line:
    item, grant, programme = entry
    ref, net, gross = grant.ref, item.net, item.gross
    share = (rates[ref] * costs.get(item.id, ZERO)).quantize(CENT, ROUND_HALF_UP)
    invoiced = bool(row.invoice and row.invoice.strip())
    start = item.commissioned or item.invoice_date
    reimbursed = invoiced and row.reimbursed_date is not None
    key = (ref, start)
    earmark = earmarks.get(key, False)
    if earmark is False:  # few distinct days: many devices share an invoice
        earmark = earmarks[key] = programme.grant_earmark_end(grant.project_end, start)
    # Positional, in Line's field order: tens of thousands of lines are built at a time.
    return Line(item.id, ref, grant.decided, programme.code, item.school, row.school_number, row.school_type,
                row.room_code, row.room_name, item.category, item.kind, row.vendor, row.model, row.serial,
                row.asset_tag, row.supplier, row.invoice, item.invoice_date, net, gross,
                programme.cost(net, gross), share, share if invoiced and not reimbursed else ZERO, earmark,
                item.status, row.parent_id, invoiced,
                not invoiced and (row.price_net is not None or row.price_gross is not None),
                row.paid_date if invoiced else None, item.commissioned, share if reimbursed else ZERO)


def _regrouped(buckets: dict, key) -> dict:
    """Sums of finer groups (grant, school, room, category) merged into coarser ones."""
    groups: dict = defaultdict(Sums)
    for parts, sums in buckets.items():
        groups[key(*parts)].merge(sums)
    return dict(sorted(groups.items()))


def _receipts(lines: list[Line]) -> list[Receipt]:
    groups: dict[tuple, list[Line]] = defaultdict(list)
    for line in lines:
        if line.invoiced:
            groups[(line.grant, line.supplier or "", line.invoice.strip())].append(line)
    receipts = []
    for (ref, supplier, invoice), group in groups.items():
        days = [line.invoice_date for line in group if line.invoice_date]
        kinds = Counter(line.kind for line in group)
        schools = sorted({line.school for line in group})
        purpose = ", ".join(f"{count} × {kind}" for kind, count in sorted(kinds.items())) + f" für {', '.join(schools)}"
        paid = [line.payment_date for line in group if line.payment_date]
        receipts.append(Receipt(ref, invoice, supplier or None, min(days) if days else None, purpose, len(group),
                                sum((line.net for line in group), ZERO), sum((line.gross for line in group), ZERO),
                                max(paid) if paid else None))
    return sorted(receipts, key=lambda r: (r.grant, r.invoice_date or date.max, r.invoice))


# JSON

def report_dict(report: Report) -> dict:
    """The report as JSON without the device lines: money as decimal text '1234.50', dates as ISO text."""
    return {
        "today": report.today.isoformat(), "carrier": report.carrier, "grant": report.grant,
        "paid_basis": PAID_BASIS, "reimbursed_basis": REIMBURSED_BASIS,
        "grants": [_grant_dict(figures) for figures in report.grants],
        "total": _sums_dict(report.total()),
        "schools": [{"school": school, "category": category or None, **_sums_dict(sums)}
                    for (school, category), sums in report.by_school_category.items()],
        "rooms": [{"school": school, "room": room or None, **_sums_dict(sums)}
                  for (school, room), sums in report.by_room.items()],
        "receipts": len(report.receipts),
        "unknown_grants": report.unknown_grants,
        "findings": [checks.finding_dict(finding) for finding in report.findings],
    }


def money(amount: Decimal) -> str:
    """Decimal → '1234.50'."""
    return str(amount.quantize(CENT))


def rate_text(rate: Decimal) -> str:
    """0.9000 → '0.90', 0.8750 → '0.875'."""
    return str(rate.quantize(CENT) if rate == rate.quantize(CENT) else rate.normalize())


def _grant_dict(figures: GrantFigures) -> dict:
    grant, sums = figures.grant, figures.sums
    return {"ref": grant.ref, "programme": grant.programme, "decided": grant.decided.isoformat(),
            "schools": grant.school_codes, "cost_basis": figures.cost_basis, "rate": rate_text(figures.rate),
            "approved": money(grant.amount), "committed": money(sums.committed), "invoiced": money(sums.invoiced),
            "paid": money(sums.paid), "reimbursed": money(sums.reimbursed),
            "requested_now": money(figures.requested_now), "cut": money(figures.cut),
            "beyond_approved": money(figures.beyond_approved), "remaining": money(figures.remaining),
            "devices": sums.devices, "net": money(sums.net), "gross": money(sums.gross)}


def _sums_dict(sums: Sums) -> dict:
    return {"devices": sums.devices, "net": money(sums.net), "gross": money(sums.gross),
            "committed": money(sums.committed), "invoiced": money(sums.invoiced), "paid": money(sums.paid),
            "eligible_share": money(sums.eligible_share), "reimbursed": money(sums.reimbursed),
            "requested_now": money(sums.requested_now)}
