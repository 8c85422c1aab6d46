"""schools.yaml, the carrier's declaration: loaded, checked as a whole, and returned as frozen dataclasses."""

import os
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from marshmallow import ValidationError
from netaddr import IPNetwork

from .enums import RoomKind
from .errors import FileRejected
from .schoolsschema import ENV_REFERENCE, SECRET_FIELDS, DeclarationSchema
from .yamlmarks import Marked, Path, YamlSyntaxError, compose, did_you_mean, dotted, flatten_errors


class SchoolsFileError(FileRejected):
    """schools.yaml is unreadable or wrong; .errors holds one '<file>:<line> <path>: <message>' line per problem."""


@dataclass(frozen=True, slots=True)
class Carrier:
    """The Schulträger; funding holds per-programme overrides as written, budgets the amount per programme."""

    name: str
    state: str
    funding: dict[str, dict] = field(default_factory=dict)
    budgets: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Profile:
    code: str
    label: str
    items: dict[str, int]


@dataclass(frozen=True, slots=True)
class SnmpCredential:
    """One SNMP credential; community and keys are ${ENV} references, the secrets stay in the environment."""

    version: str
    community: str | None = None
    user: str | None = None
    auth_protocol: str | None = None
    auth_key: str | None = None
    priv_protocol: str | None = None
    priv_key: str | None = None

    def resolve(self, environ: Mapping[str, str] | None = None) -> dict:
        """The credential as a dict with the secrets substituted; never log or return it."""
        environ = os.environ if environ is None else environ
        plain = asdict(self)
        for name in SECRET_FIELDS:
            if plain[name] is not None:
                variable = ENV_REFERENCE.fullmatch(plain[name]).group(1)
                if problem := _unset(variable, environ):
                    raise SchoolsFileError([f"SNMP {name}: {problem}"])
                plain[name] = environ[variable]
        return plain


def _unset(variable: str, environ: Mapping[str, str]) -> str | None:
    if environ.get(variable):
        return None
    return f"environment variable {variable} {'is empty' if variable in environ else 'is not set'}"


@dataclass(frozen=True, slots=True)
class DiscoverySettings:
    schedule: str | None = None
    timeout: float = 1.0
    retries: int = 1
    concurrency: int = 512
    port: int = 161
    missing_after: int = 3
    snmp: tuple[SnmpCredential, ...] = ()
    routers: tuple[str, ...] = ()
    switches: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Room:
    code: str
    name: str
    kind: str = RoomKind.CLASSROOM.value
    building: str | None = None
    floor: int | None = None
    profile: str | None = None
    items: dict[str, int] = field(default_factory=dict)  # kind → count laid over the profile's; 0 drops the kind
    target: date | None = None


@dataclass(frozen=True, slots=True)
class School:
    code: str
    name: str
    number: str | None
    type: str
    subnets: tuple[str, ...] = ()
    discovery: DiscoverySettings = field(default_factory=DiscoverySettings)
    rooms: tuple[Room, ...] = ()
    concept_date: date | None = None
    network_since: date | None = None
    target: date | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    ref: str
    programme: str
    schools: tuple[str, ...]
    decided: date
    amount: Decimal
    rate: Decimal
    project_end: date | None = None
    proof_due: date | None = None
    applied: date | None = None
    proof_submitted: date | None = None


@dataclass(frozen=True, slots=True)
class Declaration:
    """The checked file; source and lines let later checks (provisioning's, on sync) name file and line too."""

    carrier: Carrier
    profiles: dict[str, Profile]
    schools: tuple[School, ...]
    grants: tuple[Grant, ...] = ()
    source: str = field(default="schools.yaml", compare=False)
    lines: Mapping[Path, int] = field(default_factory=dict, compare=False, repr=False)

    def school(self, code: str) -> School | None:
        """The declared school with this code, or None."""
        return next((school for school in self.schools if school.code == code), None)

    def line(self, path: Path) -> int | None:
        """The line of path (or of the nearest enclosing value), None when the lines are not known."""
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path)

    def describe(self, path: Path, message: str) -> str:
        """'<file>:<line> <path>: <message>', like the loader's own lines (without the line when it is unknown)."""
        line = self.line(path)
        return f"{self.source}{'' if line is None else f':{line}'} {dotted(path)}: {message}"

    def rejected(self, lines: list[str]) -> "SchoolsFileError":
        """The error for problems found after loading (by a sync step), in line order: nothing was changed."""
        def line_of(text: str) -> int:
            number = text.removeprefix(f"{self.source}:").split(" ", 1)[0]
            return int(number) if text.startswith(f"{self.source}:") and number.isdigit() else 0
        lines = sorted(dict.fromkeys(lines), key=line_of)
        return SchoolsFileError(lines, f"{len(lines)} error(s) in {self.source}; nothing was changed")


def load_declaration(path: str | os.PathLike, environ: Mapping[str, str] | None = None) -> Declaration:
    """Read and check schools.yaml; raises SchoolsFileError listing every problem."""
    filename = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as error:
        raise _rejected(filename, [f"{filename}: cannot be read: {error.strerror or error}"]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise _rejected(filename, [f"{filename}:{line} not UTF-8 text (byte 0x{raw[error.start]:02x})"]) from None
    return parse_declaration(text, filename, environ)


def parse_declaration(text: str, filename: str = "schools.yaml",
                      environ: Mapping[str, str] | None = None) -> Declaration:
    """Check the text of schools.yaml; raises SchoolsFileError listing every problem."""
    environ = os.environ if environ is None else environ
    try:
        marked = compose(text)
    except YamlSyntaxError as error:
        raise _rejected(filename, [f"{filename}:{error.line} {error.message}"]) from None
    if not isinstance(marked.data, dict):
        raise _rejected(filename, [f"{filename}:{marked.line(())} the document must be a mapping with the keys "
                                   f"carrier and schools"])
    problems = list(marked.problems)
    try:
        valid = DeclarationSchema().load(marked.data)
    except ValidationError as error:
        valid = error.valid_data or {}
        problems += [(marked.line(path), path, message) for path, message in flatten_errors(error.messages)]
    problems += [(marked.line(path), path, message) for path, message in _cross_check(valid, marked, environ)]
    if problems:
        lines = [f"{filename}:{line} {dotted(path)}: {message}" if path else f"{filename}:{line} {message}"
                 for line, path, message in sorted(problems, key=lambda problem: problem[0])]
        raise _rejected(filename, list(dict.fromkeys(lines)))
    return _build(valid, filename, marked.lines)


def _rejected(filename: str, lines: list[str]) -> SchoolsFileError:
    return SchoolsFileError(lines, f"{len(lines)} error(s) in {filename}; nothing was loaded")


# Checks across entries. They run on whatever passed the structure, so one file shows every problem at once.

def _cross_check(valid: dict, marked: Marked, environ: Mapping[str, str]) -> Iterator[tuple[Path, str]]:
    schools = [school or {} for school in valid.get("schools") or []]
    yield from _duplicates(schools, ("schools",), "code", "school code", marked)
    yield from _duplicates([grant or {} for grant in valid.get("grants") or []], ("grants",), "ref", "grant", marked)
    for index, school in enumerate(schools):
        rooms = [room or {} for room in school.get("rooms") or []]
        yield from _duplicates(rooms, ("schools", index, "rooms"), "code", "room code", marked)
    yield from _overlapping_subnets(schools, marked)
    yield from _unknown_profiles(schools, marked.data.get("profiles") or {})
    yield from _unknown_grant_schools(valid.get("grants") or [], marked.data.get("schools"))
    yield from _grant_dates(valid.get("grants") or [])
    yield from _unset_secrets(schools, environ)


def _duplicates(entries: list[dict], base: Path, key: str, noun: str, marked: Marked):
    first: dict[str, Path] = {}
    for index, entry in enumerate(entries):
        if key in entry:
            path = base + (index, key)
            if entry[key] in first:
                yield path, f"duplicate {noun} '{entry[key]}' (first at line {marked.line(first[entry[key]])})"
            first.setdefault(entry[key], path)


class _Span(NamedTuple):
    start: tuple[int, int]
    end: tuple[int, int]
    position: tuple[int, int]
    cidr: str
    school: str

    @property
    def path(self) -> Path:
        return "schools", self.position[0], "subnets", self.position[1]


def _overlapping_subnets(schools: list[dict], marked: Marked):
    spans = []
    for i, school in enumerate(schools):
        for j, cidr in enumerate(school.get("subnets") or []):
            if cidr is not None:
                net = IPNetwork(cidr)
                label = f"school '{school['code']}'" if "code" in school else f"schools[{i}]"
                spans.append(_Span((net.version, net.first), (net.version, net.last), (i, j), cidr, label))
    # Two CIDR blocks are either disjoint or one contains the other: sorted with the widest first, each block
    # overlaps something exactly when the block enclosing it is still open on the stack.
    spans.sort(key=lambda span: (span.start, -span.end[1]))
    enclosing: list[_Span] = []
    for span in spans:
        while enclosing and enclosing[-1].end < span.start:
            enclosing.pop()
        if enclosing:
            earlier, later = sorted((enclosing[-1], span), key=lambda s: s.position)
            where = "the same school" if earlier.position[0] == later.position[0] else earlier.school
            line = marked.line(earlier.path)
            yield later.path, f"{later.cidr} overlaps {earlier.cidr} of {where} (line {line})"
        enclosing.append(span)


def _unknown_profiles(schools: list[dict], declared):
    if not isinstance(declared, dict):
        return  # the profiles themselves are malformed and already reported
    for i, school in enumerate(schools):
        for j, room in enumerate(school.get("rooms") or []):
            profile = (room or {}).get("profile")
            if profile is not None and profile not in declared:
                hint = did_you_mean(profile, list(declared)) if declared else "; no profiles are declared"
                yield ("schools", i, "rooms", j, "profile"), f"unknown profile '{profile}'{hint}"


def _unknown_grant_schools(grants: list, raw_schools):
    if not isinstance(raw_schools, list):
        return
    # Codes as written, so a school with another mistake does not also make its grants fail.
    declared = [school["code"] for school in raw_schools if isinstance(school, dict) and "code" in school]
    for i, grant in enumerate(grants):
        for j, code in enumerate((grant or {}).get("schools") or []):
            if code is not None and code not in declared:
                yield ("grants", i, "schools", j), f"unknown school '{code}'{did_you_mean(code, declared)}"


def _grant_dates(grants: list):
    for i, grant in enumerate(grant or {} for grant in grants):
        applied, decided, end = grant.get("applied"), grant.get("decided"), grant.get("project_end")
        due, submitted = grant.get("proof_due"), grant.get("proof_submitted")
        if applied and decided and decided < applied:
            yield ("grants", i, "applied"), f"{applied} is after the grant was decided ({decided})"
        if decided and end and end < decided:
            yield ("grants", i, "project_end"), f"{end} is before the grant was decided ({decided})"
        if end and due and due < end:
            yield ("grants", i, "proof_due"), f"{due} is before the project ends ({end})"
        if decided and submitted and submitted < decided:
            yield ("grants", i, "proof_submitted"), f"{submitted} is before the grant was decided ({decided})"


def _unset_secrets(schools: list[dict], environ: Mapping[str, str]):
    for i, school in enumerate(schools):
        for j, credential in enumerate((school.get("discovery") or {}).get("snmp") or []):
            for name in SECRET_FIELDS:
                reference = (credential or {}).get(name)
                variable = reference and ENV_REFERENCE.fullmatch(reference).group(1)
                if variable and (problem := _unset(variable, environ)):
                    yield ("schools", i, "discovery", "snmp", j, name), problem


# Building the dataclasses: only reached when nothing was wrong, so every required key is present.

def _build(valid: dict, source: str, lines: Mapping[Path, int]) -> Declaration:
    carrier = valid["carrier"]
    return Declaration(
        carrier=Carrier(name=carrier["name"], state=carrier["state"], funding=dict(carrier.get("funding") or {}),
                        budgets=dict(carrier.get("budgets") or {})),
        profiles={code: Profile(code=code, label=spec["label"], items=dict(spec["items"]))
                  for code, spec in (valid.get("profiles") or {}).items()},
        schools=tuple(_build_school(spec) for spec in valid["schools"]),
        grants=tuple(Grant(**{**spec, "schools": tuple(spec["schools"])}) for spec in valid.get("grants") or []),
        source=source,
        lines=lines,
    )


def _build_school(spec: dict) -> School:
    discovery = dict(spec.get("discovery") or {})
    discovery["snmp"] = tuple(SnmpCredential(**credential) for credential in discovery.get("snmp") or ())
    for key in ("routers", "switches"):
        discovery[key] = tuple(discovery.get(key) or ())
    return School(
        code=spec["code"], name=spec["name"], number=spec.get("number"), type=spec["type"],
        subnets=tuple(spec.get("subnets") or ()), discovery=DiscoverySettings(**discovery),
        rooms=tuple(Room(**{**room, "items": dict(room.get("items") or {})}) for room in spec.get("rooms") or ()),
        concept_date=spec.get("concept_date"), network_since=spec.get("network_since"), target=spec.get("target"),
    )
