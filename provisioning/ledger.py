"""The facts indexed once for the funding rules: funded items with their grant and programme, R3's exclusions and
what each item contributes to the eligible cost. Pure, like the rules that read it.

An item is eligible when nothing R3 checks excludes it and its invoice date is inside the programme's window (or not
yet recorded: R5 warns, the money still counts). A device over the programme's gross cap counts only up to the cap;
the rest is the carrier's, and R10 reports it.
"""

from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal
from typing import NamedTuple

from inventory.enums import FundingCategory

from .facts import Facts, Grant, Item
from .programmes import Programme

ZERO, CENT = Decimal(0), Decimal("0.01")
INVESTMENT = "investment"
INFRASTRUCTURE = frozenset({FundingCategory.NETWORK.value, FundingCategory.WLAN.value})
EXCLUDING = frozenset({"kind", "cost", "use", "category"})  # R3 reasons that take an item out of the funding


class Funded(NamedTuple):
    item: Item
    grant: Grant
    programme: Programme


class Ledger:
    """The facts indexed by code, ref and school; raises ValueError when they do not fit together."""

    def __init__(self, facts: Facts):
        self.facts = facts
        self.today, self.reminder_days, self.carrier = facts.today, facts.reminder_days, facts.carrier
        self.programmes = dict(facts.programmes)
        self.schools = _index(facts.schools, "code", "school")
        self.grants = _index(facts.grants, "ref", "grant")
        items = sorted(_index(facts.items, "id", "item").values(), key=lambda item: id_key(item.id))
        for code, programme in self.programmes.items():
            if programme.state != self.carrier.state:
                raise ValueError(f"programme {code} is resolved for {programme.state}, the carrier is in "
                                 f"{self.carrier.state}")
        for grant in self.grants.values():
            _known(grant.programme, self.programmes, f"grant {grant.ref} names programme")
            for school in grant.schools:
                _known(school, self.schools, f"grant {grant.ref} names school")
        self.funded: list[Funded] = []  # sorted by item id
        self.infrastructure: dict[str, list[Item]] = defaultdict(list)
        for item in items:
            _known(item.school, self.schools, f"item {item.id} names school")
            if item.category in INFRASTRUCTURE:
                self.infrastructure[item.school].append(item)
            if item.grant is not None:
                grant = _known(item.grant, self.grants, f"item {item.id} names grant")
                self.funded.append(Funded(item, grant, self.programmes[grant.programme]))
        self.reasons = {entry.item.id: exclusions(entry.item, entry.programme) for entry in self.funded}

    def eligible(self, entry: Funded) -> bool:
        """Whether the item counts for its programme: nothing excludes it and it was not invoiced outside the window."""
        day = entry.item.invoice_date
        return not EXCLUDING.intersection(self.reasons[entry.item.id]) and (
            day is None or entry.programme.window.contains(day))

    def eligible_cost(self, entry: Funded) -> Decimal:
        """What the item contributes to the funded cost; zero when it is not eligible."""
        if not self.eligible(entry):
            return ZERO
        item, programme = entry.item, entry.programme
        cost, cap = programme.cost(item.net, item.gross), programme.device_gross_cap
        if cap is not None and item.cost == INVESTMENT and item.gross > cap:
            cost = (cost * cap / item.gross).quantize(CENT, ROUND_DOWN)
        return cost

    def has_infrastructure(self, entry: Funded) -> bool:
        """Whether LAN/WLAN was at the item's school by its invoice date (else today), or comes with the same grant."""
        when = entry.item.invoice_date or self.today
        since = self.schools[entry.item.school].network_since
        if since is not None and since <= when:
            return True
        for other in self.infrastructure[entry.item.school]:
            there = other.commissioned or other.invoice_date
            gone = other.retired_at is not None and other.retired_at <= when
            if other.grant == entry.grant.ref or (there is not None and there <= when and not gone):
                return True
        return False

    def school(self, code: str) -> str:
        """'gs-linden (112233)' for sentences."""
        number = self.schools[code].number
        return f"{code} ({number})" if number else code


def exclusions(item: Item, programme: Programme) -> tuple[str, ...]:
    """R3's reasons against an item under a programme: kind, cost, use, category, or no_category (a gap only)."""
    reasons = []
    if item.kind in programme.excluded.kinds:
        reasons.append("kind")
    if item.cost not in programme.costs:
        reasons.append("cost")
    if item.use in programme.excluded.uses:
        reasons.append("use")
    if item.cost == INVESTMENT:
        if item.category is None:
            reasons.append("no_category")
        elif item.category not in programme.categories:
            reasons.append("category")
    return tuple(reasons)


def id_key(value) -> tuple:
    """Sort key for item ids: device ids are ints and sort numerically, before any text id of a cost line."""
    return (0, value, "") if isinstance(value, int) else (1, 0, str(value))


def _index(entries: Iterable, key: str, noun: str) -> dict:
    index = {}
    for entry in entries:
        value = getattr(entry, key)
        if value in index:
            raise ValueError(f"duplicate {noun} '{value}'")
        index[value] = entry
    return index


def _known(value, index: dict, what: str):
    if value not in index:
        raise ValueError(f"{what} '{value}', which is not among the facts")
    return index[value]
