"""Grants and the carrier's funding in schools.yaml: checked against the programmes and kept in step with the
database on `fleet schools sync`; read back for the API.

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
from inventory.errors import NotFound, UnknownSchool
from inventory.models import Carrier, Device, School
from inventory.queries import Page
from inventory.schoolsync import Changes, sync_step
from inventory.yamlmarks import did_you_mean

from .models import Grant
from .programmes import Catalogue, Programme, ProgrammesError, for_carrier, load_catalogue

CENT, BASIS_POINT = Decimal("0.01"), Decimal("0.0001")


class GrantNotFound(NotFound):
    def __init__(self, ref: str):
        super().__init__(f"no grant '{ref}'", {"ref": [f"no grant '{ref}'"]})


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
    """The carrier's programmes; raises SchoolsFileError (file:line) for overrides, budgets or grants that do not fit."""
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
        held = grant.school_codes
        if held != wanted:
            grant.schools = [schools[code] for code in wanted]
            changes.lines.append(f"~ grant {spec.ref}: schools {', '.join(held)} → {', '.join(wanted)}")
            audit.record("update", "grant", grant.id, spec.ref, {"schools": [held, wanted]})
    declared = {spec.ref for spec in declaration.grants}
    for ref, grant in sorted(existing.items()):
        if ref not in declared:
            _remove(grant, changes)


def _remove(grant: Grant, changes: Changes) -> None:
    funded = db.session.scalar(select(func.count()).where(Device.grant_ref == grant.ref))
    if funded:
        changes.refusals.append(f"grant {grant.ref} is named by {funded} device(s): give them another grant first, "
                                f"or keep the grant in schools.yaml")
        return
    changes.removed("grant", grant.ref, grant, {"programme": grant.programme, "amount": grant.amount,
                                                "schools": grant.school_codes})
    db.session.delete(grant)


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
        earmark = programme.earmark_end(grant.project_end, None) if programme else None
        views.append(GrantView(grant, devices.get(grant.ref, 0), due, earmark))
    return views


def carrier_programmes() -> dict[str, Programme]:
    """The programmes for the carrier as last synced (its Land and funding overrides); {} before the first sync."""
    carrier = db.session.scalar(select(Carrier).order_by(Carrier.id).limit(1))
    if carrier is None:
        return {}
    return for_carrier(catalogue(), {"state": carrier.state, "funding": carrier.funding})
