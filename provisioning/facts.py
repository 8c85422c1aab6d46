"""What the funding rules read (carrier, schools, grants, items, programmes, today) and what they return (findings).

Plain frozen dataclasses: the funding service builds them from rows and schools.yaml; check() never sees the database.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from .programmes import Programme


class Severity(StrEnum):
    ERROR = "error"  # a rule is broken: costs will not be funded, or a deadline has passed
    RISK = "risk"  # money already paid may have to be repaid (the earmark)
    WARNING = "warning"  # worth a look: a gap in the records, a grant not yet covered, a deadline coming


@dataclass(frozen=True, slots=True)
class Carrier:
    """The Schulträger: its Land and, per programme code, the budget the Land allotted it (absent: not checked)."""

    state: str
    budgets: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class School:
    """A school as the rules see it; network_since is when LAN/WLAN were in place before any recorded item."""

    code: str
    type: str  # general | vocational
    number: str | None = None  # Schulnummer
    concept_date: date | None = None  # technisch-pädagogisches Einsatzkonzept / Medienentwicklungsplan
    network_since: date | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    """A grant notice (Zuwendungsbescheid); rate is the funding rate it states (None: 1 - the own share)."""

    ref: str
    programme: str
    schools: tuple[str, ...]
    decided: date
    amount: Decimal
    rate: Decimal | None = None
    project_end: date | None = None
    proof_due: date | None = None  # written on the notice; wins over the programme's rule
    proof_submitted: date | None = None
    applied: date | None = None  # the application; R6 falls back to decided when it is unknown


@dataclass(frozen=True, slots=True)
class Item:
    """One device or one cost line (a purchase with a quantity is one item per unit); grant None: not funded."""

    id: int | str
    school: str
    kind: str  # a DeviceKind value, or 'smartphone' for a purchase line
    category: str | None  # FundingCategory value; None for staff and service lines
    grant: str | None
    net: Decimal
    gross: Decimal
    invoice_date: date | None = None
    asset_tag: str | None = None  # Inventarnummer
    status: str = "active"  # DeviceStatus value
    retired_at: date | None = None
    retire_reason: str | None = None
    commissioned: date | None = None
    cost: str = "investment"  # investment | recurring | maintenance | support | staff
    use: str = "teaching"  # teaching | administration (e.g. a device in the school office)


@dataclass(frozen=True)
class Facts:
    """Everything check() reads; programmes resolved for the carrier's Land (programmes.for_carrier)."""

    carrier: Carrier
    programmes: Mapping[str, Programme]
    today: date
    schools: Sequence[School] = ()
    grants: Sequence[Grant] = ()
    items: Sequence[Item] = ()
    reminder_days: int = 60  # how long before its due date a proof of use is reported as coming


@dataclass(frozen=True, slots=True)
class RuleFinding:
    """One rule's verdict on one school and grant (None: carrier-wide), with its items, figures and two sentences."""

    rule: str  # 'R1' … 'R10'
    severity: str  # Severity value
    reason: str  # which part of the rule, e.g. 'retired' or 'missing' under R8
    school: str | None
    grant: str | None
    programme: str | None
    items: tuple[int | str, ...]
    figures: Mapping[str, object]  # Decimal, date, int or str values, named in English snake_case
    de: str
    en: str
