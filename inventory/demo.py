"""A realistic demo fleet for a carrier's declaration, the same every time for the same seed.

Pure: it reads the plain dict of schools.yaml and returns device rows in the import columns, so the demo goes
through the same import path as a carrier's own files.
"""

import random
import re
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from netaddr import IPAddress, IPNetwork

from .demo_catalog import (BRAND_WEIGHTS, CATEGORY, DISPLAY_BRANDS, GROUP_SUPPLIERS, HOST_SUFFIX, INTEL, NETWORKED,
                           PRODUCTS, STATIC_KINDS, STATUS_NOTES, STATUS_WEIGHTS, Brand, Product, Supplier)

VAT = Decimal("1.19")
CENT = Decimal("0.01")
FIRST_PURCHASE, LAST_PURCHASE = date(2020, 9, 1), date(2024, 6, 30)
ORDER_YEAR = 2024
INSTALLED_AFTER = timedelta(days=21)  # delivered devices go into service three weeks after their invoice
NOT_IN_SERVICE = frozenset({"planned", "ordered", "in_stock"})
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O: serial labels avoid them next to 1 and 0
DIGITS = "0123456789"
MEDIA = frozenset({"interactive_display", "ops_pc", "document_camera", "projector"})
NETWORK = frozenset({"access_point", "switch", "router"})
PHASED = frozenset({"media", "network", "it"})  # tenders repeated per rollout phase; the others are one-off
OPS_SHARE = 0.85      # most displays carry a slot-in PC; the rest run their built-in Android
SECOND_MAC = 0.4      # laptops with a LAN port besides their WLAN


class _Lot(NamedTuple):
    """One purchase: a supplier's invoice for a school (date and invoice empty while still on order)."""
    key: tuple
    supplier: str
    invoice: str
    day: date | None
    grant: str


def _mac_cell(kind: str, macs: list[str]) -> str:
    """The macs cell, marking Wi-Fi interfaces: a tablet's only MAC and a notebook's last (its WLAN module)."""
    wlan = {len(macs) - 1} if kind in ("laptop", "tablet") and macs else set()
    return " ".join(f"{mac} (wlan)" if n in wlan else mac for n, mac in enumerate(macs))


def generate_fleet(declaration: Mapping, seed: int = 2020) -> list[dict[str, str]]:
    """Device rows (the import columns, all strings) for every school of a schools.yaml declaration."""
    registry = _Registry(random.Random(seed))
    profiles = declaration.get("profiles") or {}
    grants = declaration.get("grants") or []
    rows: list[dict[str, str]] = []
    for school in declaration.get("schools") or []:
        rows.extend(_School(school, profiles, grants, registry).devices())
    return rows


def gross(net: Decimal) -> Decimal:
    """Net price plus 19 % VAT, rounded half up to the cent."""
    return (net * VAT).quantize(CENT, rounding=ROUND_HALF_UP)


class _Registry:
    """What must not repeat across the whole fleet: serials, MACs, asset tags, invoice and contract numbers."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.serials: set[str] = set()
        self.macs: set[str] = set()
        self.invoices: set[str] = set()
        self.prefixes: set[str] = set()
        self.used: set[str] = set()  # makes and models some school already has
        self.counters: dict[str, int] = {}

    def next(self, counter: str) -> int:
        self.counters[counter] = self.counters.get(counter, 0) + 1
        return self.counters[counter]

    def prefix(self, code: str) -> str:
        """A short hostname prefix per school, e.g. gs-linden → gsl."""
        parts = [p for p in re.split("[^a-z0-9]+", code.lower()) if p] or ["s"]
        base = parts[0][:2] + parts[-1][:1] if len(parts) > 1 else parts[0][:3]
        candidate, number = base, 1
        while candidate in self.prefixes:
            number += 1
            candidate = f"{base}{number}"
        self.prefixes.add(candidate)
        return candidate

    def mac(self, ouis: tuple[str, ...]) -> str:
        """A fresh MAC inside one of the maker's blocks, so its OUI and universal bit stay the maker's."""
        while True:
            low = self.rng.getrandbits(24)
            mac = f"{self.rng.choice(ouis).lower()}:{low >> 16:02x}:{(low >> 8) & 0xFF:02x}:{low & 0xFF:02x}"
            if mac not in self.macs:
                self.macs.add(mac)
                return mac

    def serial(self, template: str, macs: list[str]) -> str:
        """A fresh serial from the vendor's template; UniFi devices use their MAC instead."""
        if template == "MAC":
            serial = macs[0].replace(":", "").upper()
            self.serials.add(serial)
            return serial
        pools = {"#": DIGITS, "@": LETTERS, "*": LETTERS + DIGITS}
        while True:
            serial = "".join(self.rng.choice(pools[c]) if c in pools else c for c in template)
            if serial not in self.serials:
                self.serials.add(serial)
                return serial

    def asset_tag(self, year: int) -> str:
        return f"INV-{year}-{self.next(f'inv{year}'):05d}"

    def invoice(self, supplier: Supplier, day: date) -> str:
        while True:
            number = supplier.invoice.format(year=day.year, yy=f"{day.year % 100:02d}", n=self.rng.randint(1, 9999))
            if number not in self.invoices:
                self.invoices.add(number)
                return number


class _School:
    """Builds one school's devices room by room, with its own purchases and address plan."""

    def __init__(self, spec: Mapping, profiles: Mapping, grants: list, registry: _Registry):
        self.spec, self.profiles, self.reg, self.rng = spec, profiles, registry, registry.rng
        self.code = str(spec["code"])
        self.prefix = registry.prefix(self.code)
        mine = [g for g in grants if self.code in (g.get("schools") or ())]
        self.base = sorted((g for g in mine if g.get("programme") == "dp2019"), key=lambda g: _day(g["decided"]))
        self.sofort = [g for g in mine if g.get("programme") == "dp2019-sofort"]
        self.teachers = [g for g in mine if g.get("programme") == "dp2019-lehrkraefte"]
        self.lots: dict[tuple, _Lot] = {}
        self.choices: dict[tuple, object] = {}
        self.prices: dict[tuple, Decimal] = {}
        self.orders: dict[tuple, int] = {}  # one order number per supplier's order
        self._plan_addresses()

    def _plan_addresses(self) -> None:
        nets = [IPNetwork(str(s)) for s in self.spec.get("subnets") or []]
        self.net = nets[0] if nets else None  # devices get addresses from the first subnet, if there is one
        discovery = self.spec.get("discovery") or {}
        # Routers and switches get the addresses discovery harvests from, when those lie in the school's subnets.
        self.declared = {
            kind: [str(a) for a in discovery.get(key) or [] if any(IPAddress(str(a)) in net for net in nets)]
            for kind, key in (("router", "routers"), ("switch", "switches"))}
        self.taken = {int(IPAddress(a)) for addresses in self.declared.values() for a in addresses}
        if self.net is not None:
            self.taken |= {self.net.first, self.net.last}
            self.next_static = self.net.first + min(10, self.net.size // 4)

    def devices(self) -> list[dict[str, str]]:
        rooms = list(self.spec.get("rooms") or [])
        # The first three fifths of the rooms were fitted in the first phase, the rest later.
        phases = [1 if index < 0.6 * len(rooms) else 2 for index in range(len(rooms))]
        late = [i for i, room in enumerate(rooms) if room.get("kind") == "classroom" and phases[i] == 2]
        ordered = {late[-1]} if late and self.rng.random() < 0.7 else set()
        empty = {late[-2]} if len(late) > 1 and self.rng.random() < 0.3 else set()
        rows: list[dict[str, str]] = []
        for index, room in enumerate(rooms):
            if index in empty:
                continue  # not fitted yet: the rollout view shows it as open
            items = (self.profiles.get(room.get("profile")) or {}).get("items") or {}
            for kind, count in items.items():
                for number in range(1, int(count) + 1):
                    rows.extend(self._device(room, kind, number if count > 1 else 0, phases[index],
                                             index in ordered))
        return rows

    def _device(self, room: Mapping, kind: str, number: int, phase: int, ordered: bool) -> list[dict[str, str]]:
        line = "loan_laptop" if kind == "laptop" and room.get("kind") == "storage" else kind
        group = _group(kind, line, room.get("kind"))
        infrastructure = group == "network" or kind == "server"
        # Infrastructure first: network and servers came in the first phase, before anything used them;
        # what is still on order belongs to the latest tender.
        lot_phase = 0 if group not in PHASED else 2 if ordered else 1 if infrastructure else phase
        lot = self._lot(group, lot_phase, ordered)
        phase = 1 if infrastructure else phase
        status = "ordered" if ordered else self._status(line, kind)
        hostname = self._hostname(room, kind, number)
        if kind == "interactive_display":
            brand: Brand = self._choose(("brand", phase), None, lot)
            display = self._row(room, kind, self._choose(("display", phase), brand.displays, lot), lot, status,
                                hostname)
            rows = [display]
            if display["serial"] and brand.ops and self.rng.random() < OPS_SHARE:
                rows.append(self._row(room, "ops_pc", brand.ops, lot, display["status"],
                                      self._hostname(room, "ops_pc", number), parent=display["serial"]))
            return rows
        if kind not in PRODUCTS:
            return []
        product = self._choose((line, phase), PRODUCTS[line], lot)
        if status == "retired":
            return self._replaced(room, kind, line, product, lot, hostname)
        return [self._row(room, kind, product, lot, status, hostname)]

    def _replaced(self, room: Mapping, kind: str, line: str, product: Product, lot: _Lot,
                  hostname: str) -> list[dict[str, str]]:
        """A broken device taken out of service and its successor, bought later from the school's own budget."""
        start = lot.day + timedelta(days=120)
        if start > LAST_PURCHASE:
            return [self._row(room, kind, product, lot, "active", hostname)]
        key = ("replacement", lot.key)
        if key not in self.lots:
            supplier = self.rng.choice(GROUP_SUPPLIERS[lot.key[0]])
            day = _business_day(self.rng, start, LAST_PURCHASE)
            self.lots[key] = _Lot(key, supplier.name, self.reg.invoice(supplier, day), day, "")
        successor = self._row(room, kind, self._choose(("replacement", line), PRODUCTS[line], self.lots[key]),
                              self.lots[key], "active", hostname, notes="")
        old = self._row(room, kind, product, lot, "retired", hostname,
                        notes=f"Ausgesondert: irreparabel defekt, ersetzt durch {successor['asset_tag']}")
        successor["notes"] = f"Ersatzbeschaffung für {old['asset_tag']}"
        return [old, successor]

    def _row(self, room: Mapping, kind: str, product: Product, lot: _Lot, status: str, hostname: str,
             parent: str = "", notes: str | None = None) -> dict[str, str]:
        delivered = status != "ordered"
        macs = self._macs(kind, product) if delivered and kind in NETWORKED else []
        net = self._price(lot, product)
        day = lot.day
        return {
            "school": self.code, "room": str(room["code"]), "kind": kind, "vendor": product.vendor,
            "model": product.model, "serial": self.reg.serial(product.serial, macs) if delivered else "",
            "asset_tag": self.reg.asset_tag(day.year if day else ORDER_YEAR),
            "hostname": hostname if macs else "", "macs": _mac_cell(kind, macs),
            "ip": self._address(kind) if macs and status == "active" else "", "status": status,
            "parent_serial": parent, "purchase_date": day.isoformat() if day else "", "supplier": lot.supplier,
            "invoice": lot.invoice, "price_net": str(net), "price_gross": str(gross(net)), "grant": lot.grant,
            "category": CATEGORY.get(kind, "") if lot.grant else "",
            "warranty_end": _add_years(day, product.warranty).isoformat() if day else "",
            "commissioned": (day + INSTALLED_AFTER).isoformat() if day and status not in NOT_IN_SERVICE else "",
            "notes": self._note(status, kind, lot) if notes is None else notes,
        }

    def _note(self, status: str, kind: str, lot: _Lot) -> str:
        if status == "loaned":
            # A borrower is recorded by contract number, never by a pupil's or teacher's name.
            series, year = ("SL" if kind == "tablet" else "LK"), lot.day.year
            return f"Leihvertrag {series}-{year}-{self.reg.next(series + str(year)):04d}"
        if status == "ordered":
            if lot.key not in self.orders:
                self.orders[lot.key] = self.reg.next("order")
            return STATUS_NOTES["ordered"].format(n=self.orders[lot.key])
        return STATUS_NOTES.get(status, "").format(n=self.rng.randint(100000, 999999))

    def _macs(self, kind: str, product: Product) -> list[str]:
        if kind != "laptop":
            return [self.reg.mac(product.ouis)]
        lan = [self.reg.mac(product.ouis)] if self.rng.random() < SECOND_MAC else []
        return lan + [self.reg.mac(INTEL)]  # notebook WLAN modules are Intel's

    def _address(self, kind: str) -> str:
        if self.declared.get(kind):
            return self.declared[kind].pop(0)
        if self.net is None:
            return ""
        if kind in STATIC_KINDS:
            while self.next_static in self.taken:
                self.next_static += 1
            value = self.next_static
        else:
            value = self.rng.randint(self.net.first + self.net.size // 2, self.net.last - 1)
            while value in self.taken:
                value = self.rng.randint(self.net.first + self.net.size // 2, self.net.last - 1)
        self.taken.add(value)
        return str(IPAddress(value))

    def _hostname(self, room: Mapping, kind: str, number: int) -> str:
        if kind not in HOST_SUFFIX:
            return ""
        tail = HOST_SUFFIX[kind] + (f"{number:02d}" if number else "")
        slug = re.sub("[^a-z0-9]", "", str(room["code"]).lower())
        return f"{self.prefix}-{slug[:max(1, 13 - len(self.prefix) - len(tail))]}-{tail}"

    def _status(self, line: str, kind: str) -> str:
        weights = STATUS_WEIGHTS.get(line) or STATUS_WEIGHTS.get(kind)
        return self.rng.choices(list(weights), list(weights.values()))[0] if weights else "active"

    def _choose(self, key: tuple, options, lot: _Lot):
        """One make or model per school, line and phase: a school buys what its tender chose.

        Makes and models no school has yet are preferred, so the demo shows the variety discovery must handle.
        """
        if key not in self.choices:
            if options is None:  # a display brand; the second phase mostly stays with the first's
                first = self.choices.get(("brand", 1))
                if first is not None and self.rng.random() < 0.6:
                    self.choices[key] = first
                else:
                    names = [n for n in BRAND_WEIGHTS if n not in self.reg.used] or list(BRAND_WEIGHTS)
                    name = self.rng.choices(names, [BRAND_WEIGHTS[n] for n in names])[0]
                    self.reg.used.add(name)
                    self.choices[key] = DISPLAY_BRANDS[name]
            else:
                year = lot.day.year if lot.day else ORDER_YEAR
                sold = [o for o in options if o.since <= year] or list(options)
                fresh = [o for o in sold if o.model not in self.reg.used] or sold
                self.choices[key] = self.rng.choice(fresh)
                self.reg.used.add(self.choices[key].model)
        return self.choices[key]

    def _price(self, lot: _Lot, product: Product) -> Decimal:
        key = (lot.key, product.model)
        if key not in self.prices:
            low, high = product.price
            self.prices[key] = (Decimal(self.rng.randrange(low * 100, high * 100 + 1, 10)) / 100).quantize(CENT)
        return self.prices[key]

    def _lot(self, group: str, phase: int, ordered: bool) -> _Lot:
        key = (group, phase, ordered)
        if key not in self.lots:
            grant = self._grant(group, phase)
            supplier = self.rng.choice(GROUP_SUPPLIERS[group])
            ref = str(grant["ref"]) if grant else ""
            if ordered:
                self.lots[key] = _Lot(key, supplier.name, "", None, ref)
            else:
                day = _business_day(self.rng, *self._window(group, phase, grant))
                self.lots[key] = _Lot(key, supplier.name, self.reg.invoice(supplier, day), day, ref)
        return self.lots[key]

    def _grant(self, group: str, phase: int) -> Mapping | None:
        if group == "office":
            return None  # printers and administration are not fundable
        if group == "tablets" and self.sofort:
            return self.sofort[0]
        if group == "loan" and self.teachers:
            return self.teachers[0]
        if not self.base:
            return None
        return self.base[-1] if phase == 2 else self.base[0]

    def _window(self, group: str, phase: int, grant: Mapping | None) -> tuple[date, date]:
        """Dates a purchase may carry: inside its grant's term, base grants split into two phases."""
        if grant is None:
            return FIRST_PURCHASE, LAST_PURCHASE
        start = max(_day(grant["decided"]), FIRST_PURCHASE)
        end = min(_day(grant.get("project_end") or LAST_PURCHASE), LAST_PURCHASE)
        if start > end:
            return FIRST_PURCHASE, LAST_PURCHASE
        span = (end - start).days
        if group == "network":
            return start, start + timedelta(days=span // 4)
        if phase == 1:
            return start, start + timedelta(days=span // 2)
        if phase == 2:
            return start + timedelta(days=span // 2), end
        return start, end


def _group(kind: str, line: str, room_kind: str | None) -> str:
    """Which tender bought a device; it decides supplier, date and grant."""
    if room_kind == "admin" or kind == "printer":
        return "office"
    if line == "loan_laptop":
        return "loan"
    if kind == "tablet":
        return "tablets"
    if kind in MEDIA:
        return "media"
    if kind in NETWORK:
        return "network"
    return "it"


def _day(value) -> date:
    """YAML gives dates as date objects, quoted ones as text."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _business_day(rng: random.Random, start: date, end: date) -> date:
    """A random weekday between start and end (invoices are not written at weekends)."""
    day = start + timedelta(days=rng.randint(0, max(0, (end - start).days)))
    back = day - timedelta(days=max(0, day.weekday() - 4))
    return back if back >= start else day + timedelta(days=7 - day.weekday())


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
