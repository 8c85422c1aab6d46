"""Grants and the carrier's funding in schools.yaml: checked against the programmes and kept in step with the
database on `fleet schools sync`; read back for the API, and written by it.

A grant created over the API carries `source: api` in its create event. The sync overwrites every grant the file
declares (the file wins), and removes a grant the file does not declare only when it came from the file: grants created
over the API and never declared are left alone. Provenance lives in the audit trail, so no column was needed.

schools.yaml belongs to the inventory, which must not import provisioning. So the loader checks the carrier's
`funding:` block only as a mapping per programme code, and this module, added as a step of every sync, checks it
against programmes.yaml (programmes.for_carrier), together with the programme codes of budgets and grants, naming
file and line as the loader does. A mistake there stops the sync before anything is written.
"""

import functools
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from inventory import audit
from inventory.db import db
from inventory.errors import Conflict, InvalidInput, NotFound, UnknownSchool
from inventory.models import AuditEvent, Carrier, Device, School
from inventory.queries import Page
from inventory.schoolsync import Changes, sync_step
from inventory.yamlmarks import did_you_mean

from .models import Grant
from .programmes import Catalogue, Programme, ProgrammesError, for_carrier, load_catalogue

CENT, BASIS_POINT = Decimal("0.01"), Decimal("0.0001")


class GrantNotFound(NotFound):
    def __init__(self, ref: str):
        super().__init__(f"no grant '{ref}'", {"ref": [f"no grant '{ref}'"]})


class DuplicateGrant(Conflict):
    def __init__(self, ref: str):
        super().__init__(f"grant '{ref}' exists already", {"ref": [f"grant '{ref}' exists already"]})


class GrantInUse(Conflict):
    def __init__(self, ref: str, count: int):
        msg = f"grant {ref} is named by {count} device(s): give them another grant first"
        super().__init__(msg, {"ref": [msg]})


class RetireReasonRequired(InvalidInput):
    """A funded device retired before its earmark ends: a repayment risk (R8) that needs a stated reason."""

    def __init__(self, field: str, device_id: int, ref: str, end: date):
        msg = (f"device {device_id} is funded by {ref} whose earmark runs until {end.isoformat()}: "
               f"retiring it now is a repayment risk (R8); give a {field}")
        super().__init__(msg, {field: [f"required: the earmark of {ref} runs until {end.isoformat()}"]})
        self.earmark_end = end


API_SOURCE, FILE_SOURCE = "api", "schools.yaml"


class GrantView(NamedTuple):
    """A grant with what the API shows beside it: its devices, and its dates by the programme's rules."""

    grant: Grant
    devices: int  # devices that name the grant, retired ones included
    proof_due: date | None  # the notice's own date, else the programme's rule
    earmark_end: date | None  # counted from the project end; None when the programme counts per device


@functools.cache
def catalogue() -> Catalogue:
    """The shipped programmes.yaml, read once per process."""
    return load_catalogue()


def check_funding(declaration) -> dict[str, Programme]:
    """The carrier's programmes; SchoolsFileError (file:line) for overrides, budgets or grants that do not fit."""
    known, carrier = catalogue(), declaration.carrier
    lines: list[str] = []
    programmes = {}
    try:
        programmes = for_carrier(known, {"state": carrier.state, "funding": carrier.funding}, declaration.source,
                                 declaration.line if declaration.lines else None)
    except ProgrammesError as error:
        lines += error.errors
    for code in carrier.budgets:
        if code not in known.programmes:
            lines.append(declaration.describe(("carrier", "budgets", code), _not_a_programme(code, known)))
    for index, grant in enumerate(declaration.grants):
        if grant.programme not in known.programmes:
            lines.append(declaration.describe(("grants", index, "programme"), _not_a_programme(grant.programme, known)))
    if lines:
        raise declaration.rejected(lines)
    return programmes


def _not_a_programme(code: str, known: Catalogue) -> str:
    return f"'{code}' is not a programme{did_you_mean(code, known.programmes)}"


def _fields(spec) -> dict:
    # Decimals at the columns' scale, so a stored grant and its unchanged declaration compare equal.
    return {"programme": spec.programme, "applied": spec.applied, "decided": spec.decided,
            "amount": spec.amount.quantize(CENT), "rate": spec.rate.quantize(BASIS_POINT),
            "project_end": spec.project_end, "proof_due": spec.proof_due, "proof_submitted": spec.proof_submitted}


@sync_step
def sync_grants(declaration, changes: Changes) -> None:
    """Check the funding part of the declaration, then create, change and remove grants to match it."""
    check_funding(declaration)
    schools = {school.code: school for school in db.session.scalars(select(School))}
    existing = {grant.ref: grant for grant in db.session.scalars(select(Grant).options(selectinload(Grant.schools)))}
    for spec in declaration.grants:
        fields, wanted = _fields(spec), sorted(spec.schools)
        grant = existing.get(spec.ref)
        if grant is None:
            grant = Grant(ref=spec.ref, schools=[schools[code] for code in wanted], **fields)
            db.session.add(grant)
            db.session.flush()
            changes.created("grant", spec.ref, grant, {**fields, "schools": wanted})
            continue
        changes.updated("grant", spec.ref, grant, fields)
        if _source(grant) == API_SOURCE:  # declared now: from here on the file owns it
            audit.record("update", "grant", grant.id, spec.ref, {"source": [API_SOURCE, FILE_SOURCE]})
        held = grant.school_codes
        if held != wanted:
            grant.schools = [schools[code] for code in wanted]
            changes.lines.append(f"~ grant {spec.ref}: schools {', '.join(held)} → {', '.join(wanted)}")
            audit.record("update", "grant", grant.id, spec.ref, {"schools": [held, wanted]})
    declared = {spec.ref for spec in declaration.grants}
    for ref, grant in sorted(existing.items()):
        if ref not in declared and _source(grant) != API_SOURCE:
            _remove(grant, changes)


def _source(grant: Grant) -> str:
    """'api' when the grant's latest create or source event says so, else 'schools.yaml'."""
    query = (select(AuditEvent.action, AuditEvent.changes)
             .where(AuditEvent.object_type == "grant", AuditEvent.object_id == grant.id,
                    AuditEvent.object_repr == grant.ref)
             .order_by(AuditEvent.id.desc()))
    for action, changes in db.session.execute(query):
        source = (changes or {}).get("source")
        if isinstance(source, list) and len(source) == 2:
            return source[1]
        if action == "create":
            return FILE_SOURCE
    return FILE_SOURCE


def _devices_naming(ref: str) -> int:
    return db.session.scalar(select(func.count()).where(Device.grant_ref == ref))


def _remove(grant: Grant, changes: Changes) -> None:
    funded = _devices_naming(grant.ref)
    if funded:
        changes.refusals.append(f"grant {grant.ref} is named by {funded} device(s): give them another grant first, "
                                f"or keep the grant in schools.yaml")
        return
    changes.removed("grant", grant.ref, grant, {"programme": grant.programme, "amount": grant.amount,
                                                "schools": grant.school_codes})
    db.session.delete(grant)


# Writing over the API: the sync's checks, one transaction per call, an audit event per change

def create_grant(data: dict) -> GrantView:
    """Create a grant from GrantSchema data; 409 when the ref exists, 404 for an unknown school."""
    if db.session.scalar(select(Grant.id).where(Grant.ref == data["ref"])) is not None:
        raise DuplicateGrant(data["ref"])
    _known_programme(data["programme"])
    wanted = sorted(set(data["schools"]))
    fields = _fields_of(data)
    grant = Grant(ref=data["ref"], schools=_schools(wanted), **fields)
    db.session.add(grant)
    db.session.flush()
    audit.record("create", "grant", grant.id, grant.ref,
                 {**audit.diff({}, {**fields, "schools": wanted}), "source": [None, API_SOURCE]})
    db.session.commit()
    return get_grant(grant.ref)


def update_grant(ref: str, data: dict) -> GrantView:
    """Change some fields of a grant (not its ref, which devices name); records before/after."""
    grant = get_grant(ref).grant
    if "programme" in data:
        _known_programme(data["programme"])
    changes = Changes()
    changes.updated("grant", ref, grant, _fields_of(data))
    if "schools" in data:
        held, wanted = grant.school_codes, sorted(set(data["schools"]))
        if held != wanted:
            grant.schools = _schools(wanted)
            audit.record("update", "grant", grant.id, ref, {"schools": [held, wanted]})
    db.session.commit()
    return get_grant(ref)


def delete_grant(ref: str) -> None:
    """Delete a grant; refused (409) while devices name it, as the sync refuses."""
    grant = get_grant(ref).grant
    count = _devices_naming(ref)
    if count:
        raise GrantInUse(ref, count)
    audit.record("delete", "grant", grant.id, ref,
                 audit.diff({"programme": grant.programme, "amount": grant.amount, "schools": grant.school_codes}, {}))
    db.session.delete(grant)
    db.session.commit()


def _fields_of(data: dict) -> dict:
    """The given columns at the columns' scale (as _fields does for the file)."""
    fields = {key: data[key] for key in ("programme", "applied", "decided", "project_end", "proof_due",
                                         "proof_submitted") if key in data}
    if "amount" in data:
        fields["amount"] = Decimal(data["amount"]).quantize(CENT)
    if "rate" in data:
        fields["rate"] = Decimal(data["rate"]).quantize(BASIS_POINT)
    return fields


def _known_programme(code: str) -> None:
    known = catalogue()
    if code not in known.programmes:
        msg = _not_a_programme(code, known)
        raise InvalidInput(msg, {"programme": [msg]})


def _schools(codes: list[str]) -> list[School]:
    found = {school.code: school for school in db.session.scalars(select(School).where(School.code.in_(codes)))}
    for code in codes:
        if code not in found:
            raise UnknownSchool(code, "schools")
    return [found[code] for code in codes]


# Retiring a funded device (R8)

def earmark_end_of(grant_ref: str | None, start: date | None) -> date | None:
    """The end of a device's earmark as rule R8 counts it; None when it names no known grant or has no earmark."""
    if not grant_ref:
        return None
    grant = db.session.scalar(select(Grant).where(Grant.ref == grant_ref))
    programme = carrier_programmes().get(grant.programme) if grant is not None else None
    if programme is None:
        return None
    # start: the commissioning date, else the invoice date, as checks.py and rule R8 count it.
    return programme.grant_earmark_end(grant.project_end, start)


def check_retirement(device: Device, reason: str | None, field: str, today: date | None = None) -> None:
    """Raise RetireReasonRequired when device is funded and its earmark runs past today and no reason is given."""
    if reason:
        return
    end = earmark_end_of(device.grant_ref, device.commissioned_on or device.purchase_date)
    if end is not None and (today or date.today()) < end:  # retiring on the last day is allowed, as in R8
        raise RetireReasonRequired(field, device.id, device.grant_ref, end)


# Reading

def list_grants(school: list[str] | None = None, programme: list[str] | None = None,
                visible: list[str] | None = None, page: int = 1, per_page: int = 50) -> Page:
    """Grants by decision date; school and programme filter, visible (None: all) limits to grants of those schools."""
    query = select(Grant)
    if school:
        _known_schools(school)
        query = query.where(Grant.schools.any(School.code.in_(school)))
    if visible is not None:
        query = query.where(Grant.schools.any(School.code.in_(visible)))
    if programme:
        query = query.where(Grant.programme.in_(programme))
    count = db.session.scalar(select(func.count()).select_from(query.subquery()))
    grants = list(db.session.scalars(query.options(selectinload(Grant.schools))
                                     .order_by(Grant.decided, Grant.ref).limit(per_page)
                                     .offset((page - 1) * per_page)))
    return Page(count, page, per_page, _views(grants))


def get_grant(ref: str) -> GrantView:
    """One grant, or GrantNotFound."""
    grant = db.session.scalar(select(Grant).where(Grant.ref == ref))
    if grant is None:
        raise GrantNotFound(ref)
    return _views([grant])[0]


def _known_schools(codes: list[str]) -> None:
    found = set(db.session.scalars(select(School.code).where(School.code.in_(codes))))
    for code in codes:
        if code not in found:
            raise UnknownSchool(code)


def _views(grants: list[Grant]) -> list[GrantView]:
    refs = [grant.ref for grant in grants]
    devices = dict(db.session.execute(select(Device.grant_ref, func.count()).where(Device.grant_ref.in_(refs))
                                      .group_by(Device.grant_ref)).all()) if refs else {}
    programmes = carrier_programmes() if grants else {}
    views = []
    for grant in grants:
        programme = programmes.get(grant.programme)
        due = grant.proof_due or (programme.proof_due_on(grant.project_end) if programme else None)
        earmark = programme.grant_earmark_end(grant.project_end, None) if programme else None
        views.append(GrantView(grant, devices.get(grant.ref, 0), due, earmark))
    return views


def carrier_programmes() -> dict[str, Programme]:
    """The programmes for the carrier as last synced (its Land and funding overrides); {} before the first sync."""
    carrier = db.session.scalar(select(Carrier).order_by(Carrier.id).limit(1))
    if carrier is None:
        return {}
    return for_carrier(catalogue(), {"state": carrier.state, "funding": carrier.funding})
