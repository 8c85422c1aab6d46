"""Classification: what one host's evidence says it is (kind, vendor, confidence) and why.

Pure: plain data in, plain data out. The knowledge lives in a rules file (rules.yaml next to this module): rules are
tried in file order and the first whose conditions all hold decides, so a new make is one line there, not code here.
Confidence follows from the evidence a rule needs: SNMP (sysObjectID, sysDescr) is high; a specific OUI, open ports or
a hostname are medium; the OUI registry's organisation alone is low.

A locally administered (randomised) MAC is marked and its OUI is ignored: it names no maker and is never an identity.
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from netaddr import EUI, OUI, NotRegisteredError

from inventory.enums import DeviceKind
from inventory.yamlmarks import YamlSyntaxError, compose, did_you_mean

RULES_FILE = Path(__file__).with_name("rules.yaml")
KINDS = tuple(kind.value for kind in DeviceKind)
# Blocks the registry lists under a placeholder: the real owner sits in an MA-M/MA-S sub-block netaddr doesn't ship.
UNNAMED = frozenset({"IEEE Registration Authority", "Private"})
OID_TEXT = re.compile(r"\d+(\.\d+)*")
CANONICAL_MAC = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}")
OUI_TEXT = re.compile(r"[0-9A-Fa-f]{2}([:.-]?)[0-9A-Fa-f]{2}\1[0-9A-Fa-f]{2}")

# What a host showed, as bits: a rule needing evidence the host lacks is skipped with one test.
SNMP_OID, SNMP_DESCR, ORG, PREFIX, PORTS, NAME, NO_PORTS = 1, 2, 4, 8, 16, 32, 64
ALL_BITS = 127
NEEDS = {"sys_object_id_prefix": SNMP_OID, "sys_descr": SNMP_DESCR, "org": ORG, "oui": PREFIX, "ports": PORTS,
         "hostname": NAME}


@dataclass(frozen=True)
class Evidence:
    """What discovery saw of one host; every part is optional. mac in any notation netaddr reads."""

    ip: str | None = None
    mac: str | None = None
    hostname: str | None = None
    sys_name: str | None = None
    sys_descr: str | None = None
    sys_object_id: str | None = None
    open_ports: frozenset[int] = frozenset()
    model: str | None = None
    serial: str | None = None


@dataclass(frozen=True)
class Classification:
    """The verdict on one host: kind is a DeviceKind value ('other' when no rule held)."""

    kind: str
    vendor: str | None
    confidence: str  # 'high' | 'medium' | 'low'
    reasons: tuple[str, ...]
    randomised_mac: bool
    model: str | None = None  # the host's own (SNMP) model, else the deciding rule's hint


@dataclass(frozen=True)
class Rule:
    """One checked, compiled rule; number is its position in the file (from 1)."""

    number: int
    kind: str
    confidence: str
    needs: int
    vendor: str | None = None
    model: str | None = None
    note: str | None = None
    sys_object_id_prefix: tuple[str, ...] = ()  # each ends in '.', so a prefix matches whole arcs only
    sys_descr: re.Pattern | None = None
    org: re.Pattern | None = None
    oui: frozenset[int] = frozenset()
    ports: frozenset[int] = frozenset()
    no_open_ports: bool = False
    hostname: re.Pattern | None = None


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: it keys the sysDescr memo below
class Rules:
    """The rules of one file, in the order they are tried."""

    rules: tuple[Rule, ...]
    source: str
    # For each combination of evidence bits, the rules that can hold at all: a host without SNMP never looks at the
    # SNMP rules, which keeps a sweep of thousands of hosts well under a second.
    candidates: tuple[tuple[Rule, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        table = tuple(tuple(rule for rule in self.rules if not rule.needs & ~has) for has in range(ALL_BITS + 1))
        object.__setattr__(self, "candidates", table)


class _Seen(NamedTuple):
    """Evidence prepared once per host so that each rule costs a few comparisons."""

    has: int
    oid: str
    descr: str
    descr_hits: frozenset[int]  # numbers of the rules whose sys_descr pattern the host's sysDescr matches
    mac: int  # -1 when none was seen
    prefix: int  # the OUI; -1 when there is none or the MAC is randomised
    org: str | None
    randomised: bool
    ports: frozenset[int]
    names: tuple[tuple[str, str], ...]


def vendor_of(mac: str) -> str | None:
    """The IEEE registry's organisation for mac's OUI; None when unregistered or the MAC is randomised."""
    value = _mac_value(mac)
    return None if _randomised(value) else _organisation(value >> 24)


@lru_cache(maxsize=8192)
def _organisation(prefix: int) -> str | None:
    # Cached per block, not per MAC: a sweep sees thousands of MACs from a few hundred blocks, and each netaddr
    # lookup reads its registry files.
    try:
        org = OUI(prefix).registration(0).org
    except NotRegisteredError:
        return None
    org = " ".join(org.split())  # the registry text carries no-break spaces and stray blanks
    return None if org in UNNAMED else org


def _mac_value(mac: str) -> int:
    # The edge stores MACs canonically; reading those directly skips netaddr's parser, which would otherwise cost
    # more than the rest of a classification.
    if CANONICAL_MAC.fullmatch(mac):
        return int(mac.replace(":", ""), 16)
    return EUI(mac).value


def _mac_text(value: int) -> str:
    return ":".join(f"{(value >> shift) & 0xFF:02x}" for shift in range(40, -8, -8))


def _randomised(value: int) -> bool:
    return bool((value >> 40) & 2)


def classify(evidence: Evidence, rules: Rules) -> Classification:
    """The first rule the evidence satisfies decides the kind; the vendor falls back to the OUI registry."""
    seen = _prepare(evidence, rules)
    for rule in rules.candidates[seen.has]:
        if _holds(rule, seen):
            reasons = [*_randomised_note(seen), _sentence(rule, seen)]
            if rule.vendor is None and rule.org is None and seen.org:
                reasons.append(_registry_note(seen))
            return Classification(rule.kind, rule.vendor or seen.org, rule.confidence, tuple(reasons),
                                  seen.randomised, evidence.model or rule.model)
    reasons = [*_randomised_note(seen), "no rule matched → other"]
    if seen.org:
        reasons.append(_registry_note(seen))
    return Classification(DeviceKind.OTHER.value, seen.org, "low", tuple(reasons), seen.randomised, evidence.model)


def _prepare(evidence: Evidence, rules: Rules) -> _Seen:
    has, oid, hits, mac, prefix, org, randomised = 0, "", frozenset(), -1, -1, None, False
    if evidence.sys_object_id:
        oid = evidence.sys_object_id.strip().lstrip(".")
        if oid.startswith("iso."):
            oid = "1." + oid[4:]
        oid, has = oid + ".", has | SNMP_OID
    if evidence.sys_descr:
        has, hits = has | SNMP_DESCR, _descr_hits(rules, evidence.sys_descr)
    if evidence.mac:
        mac = _mac_value(evidence.mac)
        randomised = _randomised(mac)
        if not randomised:
            prefix, org = mac >> 24, _organisation(mac >> 24)
            has |= PREFIX | (ORG if org else 0)
    ports = frozenset(evidence.open_ports)
    names = tuple((label, name) for label, name in (("hostname", evidence.hostname), ("sysName", evidence.sys_name))
                  if name)
    has |= (PORTS if ports else NO_PORTS) | (NAME if names else 0)
    return _Seen(has, oid, evidence.sys_descr or "", hits, mac, prefix, org, randomised, ports, names)


@lru_cache(maxsize=4096)
def _descr_hits(rules: Rules, descr: str) -> frozenset[int]:
    # The patterns are alternations that cost microseconds each, and the hosts of a network share few sysDescr texts
    # (identical switches, printers, Windows builds), so each text meets every pattern once.
    return frozenset(rule.number for rule in rules.rules if rule.sys_descr is not None and rule.sys_descr.search(descr))


def _holds(rule: Rule, seen: _Seen) -> bool:
    """Whether the rule's conditions hold; the evidence bits were checked when the candidates were chosen."""
    if rule.sys_object_id_prefix and not seen.oid.startswith(rule.sys_object_id_prefix):
        return False
    if rule.oui and seen.prefix not in rule.oui:
        return False
    if rule.ports and rule.ports.isdisjoint(seen.ports):
        return False
    if rule.sys_descr is not None and rule.number not in seen.descr_hits:
        return False
    if rule.org is not None and not rule.org.search(seen.org):
        return False
    return rule.hostname is None or any(rule.hostname.search(name) for _, name in seen.names)


def _sentence(rule: Rule, seen: _Seen) -> str:
    """'sysObjectID 1.3.6.1.4.1.11.2.3.9.1 → printer (HP): JetDirect print server'."""
    said = []
    if rule.sys_object_id_prefix:
        said.append(f"sysObjectID {seen.oid[:-1]}")
    if rule.sys_descr is not None:
        said.append(f"sysDescr says '{rule.sys_descr.search(seen.descr).group(0)}'")
    if rule.oui:
        said.append(f"OUI {_mac_text(seen.mac)[:8]}")
    if rule.org is not None:
        said.append(f"OUI {_mac_text(seen.mac)[:8]} registered to {seen.org}")
    if rule.ports:
        said.append(f"TCP {', '.join(str(port) for port in sorted(rule.ports & seen.ports))} open")
    if rule.no_open_ports:
        said.append("no open ports")
    if rule.hostname is not None:
        label, name = next((label, name) for label, name in seen.names if rule.hostname.search(name))
        said.append(f"{label} '{name}'")
    label = " ".join(part for part in (rule.vendor, rule.model) if part)
    sentence = " and ".join(said) + f" → {rule.kind}" + (f" ({label})" if label else "")
    return sentence + (f": {rule.note}" if rule.note else "")


def _randomised_note(seen: _Seen) -> list[str]:
    if not seen.randomised:
        return []
    return [f"MAC {_mac_text(seen.mac)} is locally administered (randomised): no identity, and its OUI names no maker"]


def _registry_note(seen: _Seen) -> str:
    return f"OUI {_mac_text(seen.mac)[:8]} is registered to {seen.org}"


def load_rules(path: str | Path | None = None) -> Rules:
    """Read, check and compile a rules file (default: the shipped rules.yaml); ValueError names every problem."""
    path = Path(path) if path is not None else RULES_FILE
    try:
        marked = compose(path.read_text(encoding="utf-8"))
    except YamlSyntaxError as error:
        raise ValueError(f"{path} line {error.line}: {error.message}") from None
    problems = [f"{path} line {line}: {_where(at)}{message}" for line, at, message in marked.problems]
    data = marked.data
    if not isinstance(data, dict) or set(data) != {"rules"} or not isinstance(data["rules"], list):
        problems.append(f"{path}: the file must hold one key, 'rules', with a list of rules")
        raise ValueError("\n".join(problems))
    rules = []
    for index, item in enumerate(data["rules"]):
        line = marked.line(("rules", index))
        rule, found = _rule(item, index + 1)
        rules.append(rule)
        problems += [f"{path} line {line}: rule {index + 1}, {key}: {message}" for key, message in found]
    if problems:
        raise ValueError("\n".join(problems))
    return Rules(tuple(rules), str(path))


def _where(at: tuple) -> str:
    """'rule 3, hostname: ' for a problem YAML itself found inside a rule (a duplicate key)."""
    if len(at) > 2 and at[0] == "rules" and isinstance(at[1], int):
        return f"rule {at[1] + 1}, {at[2]}: "
    return ""


class _Bad(Exception):
    """A value a rule cannot use; the loader says where it is."""


def _rule(item, number: int) -> tuple[Rule | None, list[tuple[str, str]]]:
    if not isinstance(item, dict):
        return None, [("rule", "must be a mapping like {sys_descr: 'LaserJet', kind: printer}")]
    values, found = {}, []
    for key, value in item.items():
        if key not in PARSERS:
            found.append((key, f"unknown key{did_you_mean(key, PARSERS)}"))
            continue
        try:
            values[key] = PARSERS[key](value)
        except _Bad as error:
            found.append((key, str(error)))
    if "kind" not in item:
        found.append(("kind", "missing (required)"))
    if not NEEDS.keys() & item.keys():
        found.append(("conditions", f"a rule needs at least one of {', '.join(NEEDS)}"))
    if "ports" in item and "no_open_ports" in item:
        found.append(("no_open_ports", "contradicts 'ports' in the same rule"))
    if found:
        return None, found
    if values.keys() & {"sys_object_id_prefix", "sys_descr"}:
        confidence = "high"
    elif values.keys() & {"oui", "ports", "hostname"}:
        confidence = "medium"
    else:
        confidence = "low"
    needs = sum(bit for key, bit in NEEDS.items() if key in values) | (NO_PORTS if "no_open_ports" in values else 0)
    return Rule(number=number, confidence=confidence, needs=needs, **values), []


def _text(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f"{value!r} is not text; put it in quotes")
    return value.strip()


def _listed(parse):
    """A parser for one value or a non-empty list of them."""
    def parse_all(value) -> tuple:
        items = value if isinstance(value, list) else [value]
        if not items:
            raise _Bad("must not be an empty list")
        return tuple(parse(item) for item in items)
    return parse_all


def _pattern(value) -> re.Pattern:
    text = _text(value)
    try:
        # ASCII: hostnames and sysDescr texts are ASCII, and Unicode case folding would make every search slower.
        return re.compile(text, re.IGNORECASE | re.ASCII)
    except re.error as error:
        raise _Bad(f"'{text}' is not a valid regular expression: {error}") from None


def _oid(value) -> str:
    text = _text(value).lstrip(".")
    if not OID_TEXT.fullmatch(text):
        raise _Bad(f"'{text}' is not a numeric OID like '1.3.6.1.4.1.9'")
    return text + "."


def _oui(value) -> int:
    # Unquoted, YAML reads some prefixes (10:20:30) as base-60 numbers, hence text only.
    text = _text(value)
    if not OUI_TEXT.fullmatch(text):
        raise _Bad(f"'{text}' is not a MAC prefix like '00:02:75'")
    return int(re.sub("[:.-]", "", text), 16)


def _port(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise _Bad(f"{value!r} is not a TCP port (1-65535)")
    return value


def _kind(value) -> str:
    text = _text(value)
    if text not in KINDS:
        raise _Bad(f"'{text}' is not a device kind{did_you_mean(text, KINDS)}")
    return text


def _true(value) -> bool:
    if value is not True:
        raise _Bad("must be true (leave the key out otherwise)")
    return True


PARSERS = {
    "sys_object_id_prefix": _listed(_oid), "sys_descr": _pattern, "org": _pattern,
    "oui": lambda value: frozenset(_listed(_oui)(value)), "ports": lambda value: frozenset(_listed(_port)(value)),
    "no_open_ports": _true, "hostname": _pattern,
    "kind": _kind, "vendor": _text, "model": _text, "note": _text,
}
