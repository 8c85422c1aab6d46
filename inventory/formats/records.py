"""Rows of a device file → validated device records: every field rule of an import lives here.

Rows come from any format (see tabular.py and linuxmuster.py). A row of a linuxmuster devices.csv is one network
interface, so `parse_records` merges such rows into one device when they share a serial or an asset tag, and applies
linuxmuster's own limits to them: hostnames of at most 15 characters, every fixed IP once per file.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from netaddr import AddrFormatError, IPAddress

from ..enums import DeviceKind, DeviceStatus, FundingCategory, InterfaceKind
from .. import netvalues
from ..errors import FileRejected, InvalidInput

COLUMNS = (
    "school", "room", "kind", "vendor", "model", "serial", "asset_tag", "hostname", "macs", "ip", "status",
    "parent_serial", "purchase_date", "supplier", "invoice", "price_net", "price_gross", "grant", "category",
    "warranty_end", "commissioned", "notes",
)

LIMITS = {
    "school": 40, "room": 40, "vendor": 80, "model": 120, "serial": 80, "asset_tag": 40, "hostname": 63,
    "parent_serial": 80, "supplier": 120, "invoice": 80, "grant": 60, "notes": 2000,
}

# A linuxmuster hostname becomes a machine account name (sAMAccountName): 15 characters before the '$'.
LINUXMUSTER_HOSTNAME_MAX = 15

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_GERMAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
# Thousands separators are only taken as such in groups of three: 1.190,00 and 1,190.00 are both 1190.00.
# An English 1,190 without decimals could be a German 1,190 (1.19 with a stray digit): it is refused as such.
_GERMAN_GROUPED = re.compile(r"[1-9]\d{0,2}(\.\d{3})+(,\d+)?")
_ENGLISH_GROUPED = re.compile(r"[1-9]\d{0,2}(,\d{3})+\.\d+")
_PLAIN_AMOUNT = re.compile(r"\d+([.,]\d+)?")
_MAC_TOKEN = re.compile(r"\([^)]*\)|[^\s,;()]+")
_INTERFACE_KINDS = {kind.value for kind in InterfaceKind}


class FormatError(FileRejected):
    """A device file that cannot be imported as it stands; `.errors` holds '<file>:<line>: <column>: <message>'."""


@dataclass(frozen=True)
class Row:
    """One data row of a file: canonical column → stripped cell text ('' when empty)."""

    line: int
    values: dict[str, str]
    # Set on linuxmuster rows, each of which is one network interface: 'lan', 'wlan' or 'mgmt'.
    interface: str | None = None


@dataclass(frozen=True)
class InterfaceRecord:
    """One network interface of a device: canonical MAC, 'lan' | 'wlan' | 'mgmt', and its IP if the file gives one."""

    mac: str
    kind: str
    ip: str | None = None


@dataclass(frozen=True)
class DeviceRecord:
    """One device as a file describes it; `line` is the first of its source `lines`."""

    line: int
    school: str | None
    room: str | None
    kind: str
    vendor: str | None
    model: str | None
    serial: str | None
    asset_tag: str | None
    hostname: str | None
    interfaces: tuple[InterfaceRecord, ...]
    ip: str | None
    status: str | None
    parent_serial: str | None
    purchase_date: date | None
    supplier: str | None
    invoice: str | None
    price_net: Decimal | None
    price_gross: Decimal | None
    grant: str | None
    category: str | None
    warranty_end: date | None
    commissioned: date | None
    notes: str | None
    lines: tuple[int, ...]


def mac_tokens(text: str) -> list[tuple[str, str]]:
    """'aa:.. bb:.. (wlan)' → [(mac text, interface kind)]; an annotation in brackets names the MAC before it."""
    pairs: list[tuple[str, str]] = []
    for token in _MAC_TOKEN.findall(text):
        if token.startswith("("):
            if not pairs:
                raise ValueError(f"'{token}' must follow a MAC address")
            kind = token[1:-1].strip().lower()
            if kind not in _INTERFACE_KINDS:
                raise ValueError(f"'{token}' is not an interface kind (lan, wlan or mgmt)")
            pairs[-1] = (pairs[-1][0], kind)
        else:
            pairs.append((token, InterfaceKind.LAN.value))
    return pairs


def canonical_mac(text: str) -> str:
    """Any common MAC notation → 'aa:bb:cc:dd:ee:ff'."""
    try:
        return netvalues.canonical_mac(text)
    except InvalidInput as error:
        raise ValueError(error.message) from None


def interfaces_of(device: Mapping[str, object]) -> list[InterfaceRecord]:
    """The interfaces of a device mapping: its 'interfaces' (mappings or records) when given, else its 'macs'."""
    listed = device.get("interfaces")
    if listed:
        return [InterfaceRecord(str(_attr(i, "mac")), str(_attr(i, "kind") or "lan"), _attr(i, "ip") or None)
                for i in listed]
    macs = device.get("macs") or []
    pairs = mac_tokens(macs) if isinstance(macs, str) else [(str(m), "lan") for m in macs]
    return [InterfaceRecord(mac, kind) for mac, kind in pairs]


def _attr(item, name: str):
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def _text(column: str, value: str) -> str:
    limit = LIMITS.get(column)
    if limit and len(value) > limit:
        raise ValueError(f"{len(value)} characters; at most {limit} are allowed")
    return value


def _choice(vocabulary) -> Callable[[str, str], str]:
    allowed = [member.value for member in vocabulary]

    def parse(column: str, value: str) -> str:
        normal = value.lower().replace("-", "_").replace(" ", "_")
        if normal not in allowed:
            raise ValueError(f"'{value}' is not one of: {', '.join(allowed)}")
        return normal
    return parse


def _hostname(column: str, value: str) -> str:
    _text(column, value)
    if not netvalues.is_hostname(value):
        raise ValueError(f"'{value}' is not a hostname (letters, digits and inner hyphens, labels joined by dots)")
    return value


def _macs(column: str, value: str) -> list[InterfaceRecord]:
    problems, interfaces = [], []
    for text, kind in mac_tokens(value):
        try:
            mac = canonical_mac(text)
        except ValueError as error:
            problems.append(str(error))
            continue
        if any(interface.mac == mac for interface in interfaces):
            problems.append(f"'{mac}' is listed twice")
        else:
            interfaces.append(InterfaceRecord(mac, kind))
    if problems:
        raise ValueError(*problems)
    return interfaces


def _ip(column: str, value: str) -> str:
    try:
        if "/" in value:
            raise ValueError(value)
        return str(IPAddress(value))
    except (AddrFormatError, ValueError, TypeError):
        raise ValueError(f"'{value}' is not an IP address") from None


def date_cell(column: str, value: str) -> date:
    """A date cell: YYYY-MM-DD or TT.MM.JJJJ."""
    try:
        if _ISO_DATE.fullmatch(value):
            return date.fromisoformat(value)
        german = _GERMAN_DATE.fullmatch(value)
        if german:
            day, month, year = (int(part) for part in german.groups())
            return date(year, month, day)
    except ValueError:
        pass
    raise ValueError(f"'{value}' is not a date (YYYY-MM-DD or TT.MM.JJJJ)")


MAX_AMOUNT = Decimal("9999999999.99")  # Numeric(12, 2)


def money_cell(column: str, value: str) -> Decimal:
    """An amount cell: 1190.00, 1.190,00, 1,190.00, with or without €; at most 2 decimals, never negative."""
    text = re.sub(r"\s", "", value.replace("€", "").replace("EUR", ""))
    negative = text.startswith("-")
    digits = text.lstrip("-+")
    if _GERMAN_GROUPED.fullmatch(digits):
        digits = digits.replace(".", "").replace(",", ".")
    elif _ENGLISH_GROUPED.fullmatch(digits):
        digits = digits.replace(",", "")
    elif _PLAIN_AMOUNT.fullmatch(digits):
        digits = digits.replace(",", ".")
    else:
        raise ValueError(f"'{value}' is not an amount (such as 1190.00 or 1.190,00)")
    try:
        amount = Decimal(digits)
    except InvalidOperation:
        raise ValueError(f"'{value}' is not an amount (such as 1190.00 or 1.190,00)") from None
    if negative and amount:
        raise ValueError(f"'{value}' is negative")
    if amount.as_tuple().exponent < -2:
        raise ValueError(f"'{value}' has more than 2 decimals")
    if amount > MAX_AMOUNT:
        raise ValueError(f"'{value}' is more than {MAX_AMOUNT} (the largest amount the inventory stores)")
    return amount.quantize(Decimal("0.01"))


_PARSERS = {
    "kind": _choice(DeviceKind), "status": _choice(DeviceStatus), "category": _choice(FundingCategory),
    "hostname": _hostname, "macs": _macs, "ip": _ip, "purchase_date": date_cell, "warranty_end": date_cell,
    "commissioned": date_cell,
    "price_net": money_cell, "price_gross": money_cell,
}


@dataclass
class _Draft:
    """A device being assembled from one or more rows."""

    row: Row
    fields: dict[str, object]
    interfaces: list[tuple[InterfaceRecord, int]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    def record(self) -> DeviceRecord:
        values = {column: self.fields[column] for column in COLUMNS if column not in ("macs", "ip")}
        interfaces = tuple(interface for interface, _ in self.interfaces)
        ip = interfaces[0].ip if self.row.interface and interfaces else self.fields["ip"]
        return DeviceRecord(line=self.lines[0], interfaces=interfaces, ip=ip, lines=tuple(self.lines), **values)


def _parse_row(row: Row) -> tuple[_Draft, list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    fields: dict[str, object] = {}
    for column in COLUMNS:
        value = row.values.get(column)
        text = "" if value is None else str(value).strip()
        fields[column] = None
        if not text:
            if column == "kind":
                problems.append((column, f"missing (one of: {', '.join(k.value for k in DeviceKind)})"))
            continue
        try:
            fields[column] = _PARSERS.get(column, _text)(column, text)
        except ValueError as error:
            problems.extend((column, str(message)) for message in error.args)
    if row.interface:
        problems.extend(_linuxmuster_problems(fields, row))
    # A linuxmuster row's IP belongs to its one interface; a table's ip column is the device's.
    ip = fields["ip"] if row.interface else None
    interfaces = [(InterfaceRecord(i.mac, row.interface or i.kind, ip), row.line) for i in fields["macs"] or []]
    return _Draft(row, fields, interfaces, [row.line]), problems


def _linuxmuster_problems(fields: dict[str, object], row: Row) -> list[tuple[str, str]]:
    problems = []
    hostname = fields["hostname"]
    if not row.values.get("hostname"):
        problems.append(("hostname", "missing (linuxmuster needs one on every row)"))
    elif hostname and len(hostname) > LINUXMUSTER_HOSTNAME_MAX:
        problems.append(("hostname", f"'{hostname}' is longer than {LINUXMUSTER_HOSTNAME_MAX} characters, "
                                     f"linuxmuster's limit"))
    if not row.values.get("macs"):
        problems.append(("macs", "missing (linuxmuster needs a MAC address on every row)"))
    return problems


def _merge_interface_rows(drafts: list[_Draft]) -> list[_Draft]:
    """linuxmuster rows sharing a serial or asset tag (and not contradicting each other) become one device."""
    merged: list[_Draft] = []
    by_identity: dict[tuple[str, object], _Draft] = {}
    for draft in drafts:
        serial, tag = draft.fields["serial"], draft.fields["asset_tag"]
        target = draft.row.interface and (by_identity.get(("serial", serial)) or by_identity.get(("tag", tag)))
        if target and all(target.fields[name] in (None, value) for name, value in
                          (("serial", serial), ("asset_tag", tag)) if value):
            target.interfaces.extend(draft.interfaces)
            target.lines.extend(draft.lines)
            target.fields["serial"] = target.fields["serial"] or serial
            target.fields["asset_tag"] = target.fields["asset_tag"] or tag
        else:
            merged.append(draft)
            target = draft
        if draft.row.interface:
            for key in (("serial", serial), ("tag", tag)):
                if key[1]:
                    by_identity.setdefault(key, target)
    return merged


def _duplicates(drafts: list[_Draft]) -> list[tuple[int, str, str]]:
    """The same serial, asset tag or MAC on two devices; on linuxmuster rows also the same fixed IP.

    Retired devices are left out: their identities may have been reused by the device that replaced them.
    """
    problems = []
    first: dict[tuple[str, object], int] = {}
    for draft in drafts:
        if draft.fields.get("status") == "retired":
            continue
        identities = [(column, draft.fields[column], draft.lines[0])
                      for column in ("serial", "asset_tag") if draft.fields[column]]
        for interface, line in draft.interfaces:
            identities.append(("macs", interface.mac, line))
            if draft.row.interface and interface.ip:
                identities.append(("ip", interface.ip, line))
        for column, value, line in identities:
            where = first.setdefault((column, value), line)
            if where != line:
                problems.append((line, column, f"'{value}' is also on line {where}"))
    return problems


def check_records(rows: Iterable[Row], filename: str) -> tuple[list[DeviceRecord], list[tuple[int, str]]]:
    """The records of the devices without problems, and (line, message) for every problem found."""
    problems: list[tuple[int, str, str]] = []
    drafts = []
    for row in rows:
        if not any(str(value).strip() for value in row.values.values() if value is not None):
            continue
        draft, found = _parse_row(row)
        problems.extend((row.line, column, message) for column, message in found)
        drafts.append(draft)
    drafts = _merge_interface_rows(drafts)
    problems.extend(_duplicates(drafts))
    problems.sort(key=lambda problem: problem[0])
    bad_lines = {line for line, _column, _message in problems}
    records = [draft.record() for draft in drafts if not bad_lines.intersection(draft.lines)]
    return records, [(line, f"{filename}:{line}: {column}: {message}") for line, column, message in problems]


def parse_records(rows: Iterable[Row], filename: str) -> list[DeviceRecord]:
    """Validate rows into device records; raises FormatError listing every problem on every line."""
    records, problems = check_records(rows, filename)
    if problems:
        raise FormatError([message for _line, message in problems])
    return records
