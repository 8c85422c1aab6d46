"""Funding programmes as data: programmes.yaml checked with line marks, then resolved for a Land and a carrier.

The file states each programme's parameters and, under `states:`, what a Land changes; a carrier's schools.yaml may
override again (`carrier.funding.<programme>`). An override replaces whole keys: a nested block (window, earmark,
proof_due, mobile_cap, excluded) is replaced as a whole, so an override reads complete on its own and no half-merged
block can arise. Money is Decimal, never float; dates are `date`.
"""

import calendar
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from marshmallow import Schema, ValidationError, fields, validates_schema

from inventory.enums import FEDERAL_STATES, DeviceKind, FundingCategory, SchoolType
from inventory.yamlmarks import (Choice, Code, Day, DecimalText, Integer, Nested, Path as KeyPath, Plain, Sequence,
                                 StrictSchema, Table, Text, YamlSyntaxError, between, compose, dotted,
                                 flatten_errors)

PROGRAMMES_FILE = Path(__file__).with_name("programmes.yaml")
COSTS = ("investment", "recurring", "maintenance", "support", "staff")
USES = ("teaching", "administration")
# A purchase line may name a smartphone even though the inventory never tracks one as a device kind.
EXCLUDABLE_KINDS = (*(kind.value for kind in DeviceKind), "smartphone")
EARMARK_ANCHORS = ("project_end", "commissioned")
COST_BASES = ("gross", "net")


class ProgrammesError(ValueError):
    """programmes.yaml or a carrier's override is wrong; .errors holds one '<file>:<line> <path>: <message>' each."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


@dataclass(frozen=True, slots=True)
class Window:
    """A span of days, both ends included; None leaves that end open."""

    start: date | None = None
    end: date | None = None

    def contains(self, day: date) -> bool:
        """Whether day lies inside the window, its ends included."""
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class MobileCap:
    share: Decimal  # of the carrier's investment under the programme at the school types below
    per_school: Decimal
    school_types: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Exclusions:
    kinds: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Earmark:
    years: int
    after: str = "project_end"  # or 'commissioned'


@dataclass(frozen=True, slots=True)
class ProofDue:
    """When the proof of use is due: months after the project ends, or a fixed date (exactly one is set)."""

    months_after_end: int | None = None
    fixed: date | None = None


@dataclass(frozen=True, slots=True)
class Programme:
    """One programme's parameters; state is the Land they were resolved for (None: the federal figures)."""

    code: str
    title: str
    period: Window
    window: Window
    own_share: Decimal
    cost_basis: str
    categories: tuple[str, ...]
    costs: tuple[str, ...]
    excluded: Exclusions
    mobile_cap: MobileCap | None
    infrastructure_first: bool
    concept_required: bool
    device_gross_cap: Decimal | None
    inventory_threshold: Decimal | None
    earmark: Earmark | None
    proof_due: ProofDue | None
    state: str | None = None

    def cost(self, net: Decimal, gross: Decimal) -> Decimal:
        """What an item costs the programme: its gross or net amount, as the programme counts."""
        return gross if self.cost_basis == "gross" else net

    def earmark_end(self, project_end: date | None, commissioned: date | None) -> date | None:
        """The last day of the earmark, or None when there is none or its starting day is unknown."""
        if self.earmark is None:
            return None
        start = commissioned if self.earmark.after == "commissioned" else project_end
        return None if start is None else add_months(start, 12 * self.earmark.years)

    def grant_earmark_end(self, project_end: date | None, commissioned: date | None) -> date | None:
        """The earmark end of an item of a grant: a notice without a project end runs to the programme's window end."""
        return self.earmark_end(project_end or self.window.end, commissioned)

    def proof_due_on(self, project_end: date | None) -> date | None:
        """The day the proof of use is due by the programme's rule, or None when it sets none."""
        if self.proof_due is None:
            return None
        if self.proof_due.fixed is not None:
            return self.proof_due.fixed
        return None if project_end is None else add_months(project_end, self.proof_due.months_after_end)


@dataclass(frozen=True)
class Catalogue:
    """The checked programmes file: the federal figures and, per programme, each Land's replaced parameters."""

    programmes: dict[str, Programme]
    states: dict[str, dict[str, dict[str, object]]]


def add_months(day: date, months: int) -> date:
    """day plus months, as BGB §188 counts: the same day of the month, or the month's last day if it has none."""
    years, month = divmod(day.month - 1 + months, 12)
    year = day.year + years
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read and check a programmes file (default: the shipped programmes.yaml); raises ProgrammesError."""
    path = Path(path) if path is not None else PROGRAMMES_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProgrammesError([f"{path.name}: cannot be read: {error}"]) from None
    return parse_catalogue(text, path.name)


def parse_catalogue(text: str, filename: str = "programmes.yaml") -> Catalogue:
    """Check the text of a programmes file; raises ProgrammesError naming file:line and path of every problem."""
    try:
        marked = compose(text)
    except YamlSyntaxError as error:
        raise ProgrammesError([f"{filename}:{error.line} {error.message}"]) from None
    problems = list(marked.problems)
    if not isinstance(marked.data, dict):
        problems.append((marked.line(()), (), "the document must be a mapping with the key programmes"))
        valid = {}
    else:
        try:
            valid = _FileSchema().load(marked.data)
        except ValidationError as error:
            valid = error.valid_data or {}
            problems += [(marked.line(path), path, message) for path, message in flatten_errors(error.messages)]
    if problems:
        lines = [f"{filename}:{line} {dotted(path)}: {message}" if path else f"{filename}:{line} {message}"
                 for line, path, message in sorted(problems, key=lambda problem: problem[0])]
        raise ProgrammesError(list(dict.fromkeys(lines)))
    programmes, states = {}, {}
    for code, spec in valid["programmes"].items():
        programmes[code] = Programme(code=code, title=spec["title"], **_built(spec, exclude=("title", "states")))
        states[code] = {state: _built(override) for state, override in (spec.get("states") or {}).items()}
    return Catalogue(programmes, states)


def for_state(catalogue: Catalogue, state: str) -> dict[str, Programme]:
    """Every programme with the Land's overrides applied, keyed by code."""
    if state not in FEDERAL_STATES:
        raise ValueError(f"'{state}' is not a federal state code")
    return {code: replace(programme, state=state, **catalogue.states[code].get(state, {}))
            for code, programme in sorted(catalogue.programmes.items())}


def for_carrier(catalogue: Catalogue, carrier: Mapping, source: str = "schools.yaml",
                line_of: Callable[[KeyPath], int] | None = None) -> dict[str, Programme]:
    """The programmes for a carrier as schools.yaml declares it ({state, funding: {code: overrides}, ...})."""
    # line_of maps a path such as ('carrier', 'state') to its line, so that errors read 'schools.yaml:LINE path: …';
    # keys other than state and funding (name, …) belong to schools.yaml and are not looked at.
    if not isinstance(carrier, Mapping):
        raise ProgrammesError([f"{source} carrier: must be a mapping (key: value)"])
    schema = Schema.from_dict({
        "state": Choice(FEDERAL_STATES, "federal state code", required=True),
        "funding": Table(keys=Choice(catalogue.programmes, "programme"), values=Nested(_OverrideSchema),
                         allow_none=True),
    })()
    given = {key: carrier[key] for key in ("state", "funding") if key in carrier}
    try:
        valid = schema.load(given)
    except ValidationError as error:
        lines = []
        for path, message in flatten_errors(error.messages):
            path = ("carrier", *path)
            lines.append(f"{source}:{line_of(path)} {dotted(path)}: {message}" if line_of
                         else f"{source} {dotted(path)}: {message}")
        raise ProgrammesError(lines) from None
    programmes = for_state(catalogue, valid["state"])
    for code, override in (valid.get("funding") or {}).items():
        programmes[code] = replace(programmes[code], **_built(override))
    return programmes


def _built(spec: dict, exclude: tuple[str, ...] = ()) -> dict[str, object]:
    """Checked parameters (nested dicts and lists) → the values a Programme holds; only the keys given."""
    built = {}
    for key, value in spec.items():
        if key in exclude:
            continue
        if key in ("period", "window"):
            value = Window(**value)
        elif key in ("categories", "costs"):
            value = tuple(value)
        elif key == "excluded":
            value = Exclusions(kinds=tuple(value.get("kinds") or ()), uses=tuple(value.get("uses") or ()))
        elif key == "mobile_cap" and value is not None:
            value = MobileCap(**{**value, "school_types": tuple(value["school_types"])})
        elif key == "earmark" and value is not None:
            value = Earmark(**value)
        elif key == "proof_due" and value is not None:
            value = ProofDue(**value)
        built[key] = value
    return built


# Fields and schemas: the structure of the file.

class _Flag(Plain, fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError(f"'{value}' is not true or false")
        return value


class _Money(DecimalText):
    """An amount written in quotes, so it never passes through binary floating point."""

    def __init__(self, **kwargs):
        super().__init__(2, "800.00", **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError(f"write the amount in quotes, e.g. \"{value}\"")
        return super()._deserialize(value, attr, data, **kwargs)


class _Share(DecimalText):
    """A share between 0 and 1, written in quotes like money."""

    def __init__(self, **kwargs):
        super().__init__(4, "0.10", validate=between(0, 1), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError(f"write the share in quotes, e.g. \"{value}\"")
        return super()._deserialize(value, attr, data, **kwargs)


class _WindowSchema(StrictSchema):
    start = Day(required=True, allow_none=True)
    end = Day(required=True, allow_none=True)

    @validates_schema
    def _ordered(self, data, **kwargs):
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError({"end": [f"{data['end']} is before the start ({data['start']})"]})


class _MobileCapSchema(StrictSchema):
    share = _Share(required=True)
    per_school = _Money(required=True)
    school_types = Sequence(Choice(SchoolType, "school type"), required=True)


class _ExcludedSchema(StrictSchema):
    kinds = Sequence(Choice(EXCLUDABLE_KINDS, "device kind"))
    uses = Sequence(Choice(USES, "use"))


class _EarmarkSchema(StrictSchema):
    years = Integer(required=True, validate=between(0, 50))
    after = Choice(EARMARK_ANCHORS, "starting point for the earmark")


class _ProofDueSchema(StrictSchema):
    months_after_end = Integer(validate=between(0, 120))
    fixed = Day()

    @validates_schema(pass_original=True)
    def _exactly_one(self, data, original, **kwargs):
        if not isinstance(original, Mapping):
            return  # reported as a wrong type already
        given = [key for key in ("months_after_end", "fixed") if key in original]
        if len(given) != 1:
            raise ValidationError("give either months_after_end or fixed, not both" if given else
                                  "give months_after_end or fixed (or write proof_due: null)")


def _parameters(required: bool) -> dict[str, fields.Field]:
    """The parameter fields, all required in a programme (so none is silently defaulted) and optional in an override."""
    need = {"required": required}
    return {
        "window": Nested(_WindowSchema, **need),
        "own_share": _Share(**need),
        "cost_basis": Choice(COST_BASES, "cost basis", **need),
        "categories": Sequence(Choice(FundingCategory, "funding category"), **need),
        "costs": Sequence(Choice(COSTS, "cost type"), **need),
        "excluded": Nested(_ExcludedSchema, **need),
        "mobile_cap": Nested(_MobileCapSchema, allow_none=True, **need),
        "infrastructure_first": _Flag(**need),
        "concept_required": _Flag(**need),
        "device_gross_cap": _Money(allow_none=True, validate=between(0, low_inclusive=False), **need),
        "inventory_threshold": _Money(allow_none=True, **need),
        "earmark": Nested(_EarmarkSchema, allow_none=True, **need),
        "proof_due": Nested(_ProofDueSchema, allow_none=True, **need),
    }


_OverrideSchema = type("_OverrideSchema", (StrictSchema,), _parameters(required=False))

_ProgrammeSchema = type("_ProgrammeSchema", (StrictSchema,), {
    "title": Text(required=True),
    "period": Nested(_WindowSchema, required=True),
    **_parameters(required=True),
    "states": Table(keys=Choice(FEDERAL_STATES, "federal state code"), values=Nested(_OverrideSchema),
                    allow_none=True),
})


class _FileSchema(StrictSchema):
    programmes = Table(keys=Code(), values=Nested(_ProgrammeSchema), required=True)
