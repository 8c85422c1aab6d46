"""linuxmuster.net 7 devices.csv: one network interface per line, 15 fields separated by ';'.

Fields: 1 room; 2 hostname; 3 device group (hardware class); 4 MAC; 5 IP or 'DHCP'; 6 office key; 7 windows key;
8 DHCP options; 9 sophomorixRole; 10 reserved; 11 pxe flag; 12-14 reserved; 15 comment. Blank lines and lines
starting with '#' are comments. The file names no school: the caller gives it (`--school`).

Reading:
- 5 to 15 fields per line; a pxe flag other than empty, 0, 1, 2 or 3 is an error. Keys and DHCP options are ignored.
- kind: a device group that names one of our kinds, as `write` writes it ('laptop', 'laptop-wlan'), gives the
  kind; otherwise the role does: printer, switch, router, server and addc, wlan → access_point, mobile and byod →
  laptop, the computer roles (classroom-studentcomputer, classroom-teachercomputer, faculty-teachercomputer,
  staffcomputer, thinclient, and an empty role, which linuxmuster reads as classroom-studentcomputer) → desktop,
  anything else (iponly, voip, ...) → other.
- interface kind: 'wlan' or 'mgmt' when the device group ends in '-wlan' or '-mgmt' as `write` writes it;
  otherwise 'wlan' when the device group or hostname holds the word wlan, wifi or wireless, or the hostname ends
  in a digit and 'w' (linuxmuster's documentation names a notebook's wireless entry nb-01w beside nb-01), unless
  the row is an access point itself (role wlan); else 'lan'.
- comment: `serial=X` or `sn:X` gives the serial, `asset=Y` or `inv:Y` the asset tag (keys in any case, '=' or
  ':', the value runs to the next space, comma or semicolon, or stands in double quotes); the rest is notes.
- Rows sharing a serial or asset tag become one device with several interfaces (see records.parse_records); its
  room, kind, hostname and notes come from its first row, its ip is the first row's fixed IP.

Writing: one line per interface of every device with a MAC (linuxmuster knows no device without one); a device
without a hostname is named 'd' and its first MAC's hex digits, further interfaces get the hostname and 'w', 'm'
or 'n' (wlan, mgmt, lan), cut to 15 characters. The device group is the kind, plus '-wlan' or '-mgmt'; the pxe
flag is 0, since LINBO groups are linuxmuster's to assign. The comment carries serial, asset tag and notes.
A ';' or line break inside a value would break the line and becomes ',' or a space. A device without a room gets
an empty room field, and linuxmuster skips such lines.
"""

import io
import itertools
import re
from collections.abc import Iterable, Mapping

from ..enums import DeviceKind
from .records import LINUXMUSTER_HOSTNAME_MAX, FormatError, Row, interfaces_of
from .tabular import decode_text, header_columns

FIELDS = 15
ROLE_KINDS = {
    "printer": "printer", "switch": "switch", "router": "router", "server": "server", "addc": "server",
    "wlan": "access_point", "mobile": "laptop", "byod": "laptop",
    "classroom-studentcomputer": "desktop", "classroom-teachercomputer": "desktop",
    "faculty-teachercomputer": "desktop", "staffcomputer": "desktop", "thinclient": "desktop",
}
KIND_ROLES = {
    "printer": "printer", "switch": "switch", "router": "router", "server": "server", "access_point": "wlan",
    "laptop": "mobile", "tablet": "mobile", "desktop": "classroom-studentcomputer",
    "ops_pc": "classroom-studentcomputer",
}
_KINDS = {kind.value for kind in DeviceKind}
_COMMENT_KEYS = {"serial": "serial", "sn": "serial", "asset": "asset_tag", "inv": "asset_tag"}
_COMMENT_ITEM = re.compile(r'\b(serial|sn|asset|inv)\s*[=:]\s*(?:"([^"]*)"|([^\s,;"]+))', re.IGNORECASE)
_WLAN_WORDS = {"wlan", "wifi", "wireless"}
_SUFFIXES = {"wlan": "w", "mgmt": "m", "lan": "n"}


def _kinds(group: str, role: str, hostname: str) -> tuple[str, str]:
    """(device kind, interface kind) of one line."""
    if group.lower() in _KINDS:
        return group.lower(), "lan"
    own, _, interface = group.lower().rpartition("-")
    if own in _KINDS and interface in ("wlan", "mgmt"):
        return own, interface
    role = role.lower() or "classroom-studentcomputer"
    words = set(re.split(r"[^a-z0-9]+", f"{group} {hostname}".lower()))
    wireless = bool(words & _WLAN_WORDS) or re.search(r"\dw$", hostname.lower()) is not None
    return ROLE_KINDS.get(role, "other"), "wlan" if wireless and role != "wlan" else "lan"


def _comment(text: str) -> dict[str, str]:
    """serial, asset_tag and notes out of a comment field."""
    values = {"serial": "", "asset_tag": ""}
    for match in _COMMENT_ITEM.finditer(text):
        column = _COMMENT_KEYS[match.group(1).lower()]
        values[column] = values[column] or (match.group(2) if match.group(2) is not None else match.group(3))
    values["notes"] = " ".join(_COMMENT_ITEM.sub(" ", text).split()).strip(" ,;")
    return values


def _is_table_header(line: str) -> bool:
    """A CSV table's header, named devices.csv by chance: a kind column among at least three known ones."""
    columns = set(header_columns(re.split(r"[;,]", line))) - {None}
    return "kind" in columns and len(columns) >= 3


def read_linuxmuster(data: bytes, filename: str, school: str | None) -> list[Row]:
    """A devices.csv → one row per line, each carrying its interface kind; every bad line is reported."""
    if not school:
        raise FormatError([f"{filename}: linuxmuster files carry no school: give --school"])
    rows, errors = [], []
    for number, line in enumerate(io.StringIO(decode_text(data, filename)), start=1):
        line = line.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split(";")
        if not rows and not errors and _is_table_header(line):
            raise FormatError([f"{filename}:{number}: this is a table with a header row, not a linuxmuster "
                               f"devices.csv: read it as csv"])
        if not 5 <= len(fields) <= FIELDS:
            errors.append(f"{filename}:{number}: {len(fields)} fields; a devices.csv line has 5 to {FIELDS} "
                          f"separated by ';'")
            continue
        room, hostname, group, mac, ip, *rest = (field.strip() for field in fields + [""] * (FIELDS - len(fields)))
        role, pxe, comment = rest[3], rest[5], rest[9]
        if pxe not in ("", "0", "1", "2", "3"):
            errors.append(f"{filename}:{number}: pxeFlag: '{pxe}' is not 0, 1, 2 or 3")
        kind, interface = _kinds(group, role, hostname)
        values = {"school": school, "room": room, "kind": kind, "hostname": hostname, "macs": mac,
                  "ip": "" if ip.upper() == "DHCP" else ip, **_comment(comment)}
        rows.append(Row(number, values, interface=interface))
    if errors:
        raise FormatError(errors)
    return rows


def _clean(value: object) -> str:
    return " ".join(str(value).replace(";", ",").splitlines()).strip() if value is not None else ""


def _quoted(value: str) -> str:
    return f'"{value}"' if re.search(r'[\s,;]', value) else value


def _further_name(hostname: str, interface: str, used: set[str]) -> str:
    """A hostname for a device's second, third ... line, unused in the file."""
    letter = _SUFFIXES.get(interface, "n")
    for number in itertools.count(1):
        suffix = letter if number == 1 else f"{letter}{number}"
        name = hostname[:LINUXMUSTER_HOSTNAME_MAX - len(suffix)] + suffix
        if name.lower() not in used:
            used.add(name.lower())
            return name


def write_linuxmuster(devices: Iterable[Mapping[str, object]]) -> bytes:
    """Devices → devices.csv lines that read back into the same records."""
    devices = list(devices)
    used = {str(device.get("hostname")).lower() for device in devices if device.get("hostname")}
    lines = []
    for device in devices:
        interfaces = interfaces_of(device)
        if not interfaces:
            continue
        kind = str(device.get("kind") or "other")
        hostname = _clean(device.get("hostname")) or "d" + re.sub(r"[^0-9a-f]", "", interfaces[0].mac.lower())
        used.add(hostname.lower())
        comment = " ".join(f"{key}={_quoted(_clean(device.get(column)))}"
                           for key, column in (("serial", "serial"), ("asset", "asset_tag")) if device.get(column))
        for index, interface in enumerate(interfaces):
            first = index == 0
            name = hostname if first else _further_name(hostname, interface.kind, used)
            ip = (device.get("ip") if first else None) or interface.ip
            group = kind if interface.kind == "lan" else f"{kind}-{interface.kind}"
            notes = _clean(device.get("notes")) if first else ""
            fields = [_clean(device.get("room")), name, group, interface.mac, _clean(ip) or "DHCP", "", "", "",
                      KIND_ROLES.get(kind, "iponly"), "", "0", "", "", "", " ".join(filter(None, (comment, notes)))]
            lines.append(";".join(fields))
    return "".join(line + "\n" for line in lines).encode("utf-8")
