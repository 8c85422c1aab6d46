"""School service for single edits over the API (schools.yaml sync handles schools in bulk)."""

from netaddr import IPNetwork
from sqlalchemy import func, select

from . import audit
from .db import db
from .devices import school_by_code
from .errors import Conflict
from .models import ApiToken, Device, School, Subnet


def _state(school: School) -> dict:
    return {"code": school.code, "name": school.name, "number": school.number, "type": school.type,
            "concept_date": school.concept_date, "subnets": [s.cidr for s in school.subnets]}


def _check_subnets(cidrs: list[str], school_id: int | None) -> None:
    """A subnet belongs to one school: overlaps with another school's subnets are refused, naming it."""
    others = db.session.execute(select(Subnet.cidr, School.code).join(School).where(School.id != (school_id or -1)))
    for cidr, code in others:
        for wanted in cidrs:
            if IPNetwork(wanted) in IPNetwork(cidr) or IPNetwork(cidr) in IPNetwork(wanted):
                raise Conflict(f"subnet {wanted} overlaps {cidr} of school '{code}'", {"subnets": ["overlap"]})


def create_school(data: dict) -> School:
    """Add a school; its code must be new and its subnets its own."""
    if db.session.scalar(select(School).where(School.code == data["code"])) is not None:
        raise Conflict(f"school '{data['code']}' already exists", {"code": ["already exists"]})
    cidrs = data.get("subnets", [])
    _check_subnets(cidrs, None)
    school = School(code=data["code"], name=data["name"], number=data.get("number"),
                    type=data.get("type", "general"), concept_date=data.get("concept_date"), discovery={},
                    subnets=[Subnet(cidr=cidr) for cidr in cidrs])
    db.session.add(school)
    db.session.flush()
    audit.record("create", "school", school.id, school.code, audit.diff({}, _state(school)), school.code)
    db.session.commit()
    return school


def update_school(code: str, data: dict) -> School:
    """Change a school's name, number, type, concept date or subnets."""
    school = school_by_code(code, "code")
    before = _state(school)
    for key in ("name", "number", "type", "concept_date"):
        if key in data:
            setattr(school, key, data[key])
    if "subnets" in data:
        _check_subnets(data["subnets"], school.id)
        school.subnets = [s for s in school.subnets if s.cidr in data["subnets"]]
        present = {s.cidr for s in school.subnets}
        school.subnets.extend(Subnet(cidr=cidr) for cidr in data["subnets"] if cidr not in present)
    db.session.flush()
    changes = audit.diff(before, _state(school))
    if changes:
        audit.record("update", "school", school.id, school.code, changes, school.code)
    db.session.commit()
    return school


def removal_refusal(school: School) -> str | None:
    """Why a school may not be removed: it held devices, or a token is limited to it (it would lose its limit)."""
    held = db.session.scalar(select(func.count()).where(Device.school_id == school.id))
    if held:
        live = db.session.scalar(select(func.count()).where(Device.school_id == school.id, Device.status != "retired"))
        return (f"school {school.code} still holds {held} device(s) ({live} not retired): it cannot be removed; "
                f"keep it in schools.yaml")
    tokens = db.session.scalars(select(ApiToken).join(ApiToken.schools)
                                .where(School.id == school.id, ApiToken.revoked_at.is_(None))).all()
    if tokens:
        names = ", ".join(f"{t.id} '{t.name}'" for t in tokens)
        return f"school {school.code} is the scope of API token(s) {names}: revoke them first"
    return None


def delete_school(code: str) -> None:
    """Remove a school that never held a device and scopes no token."""
    school = school_by_code(code, "code")
    refusal = removal_refusal(school)
    if refusal:
        raise Conflict(refusal, {"code": [refusal]})
    audit.record("delete", "school", school.id, school.code, audit.diff(_state(school), {}), school.code)
    db.session.delete(school)
    db.session.commit()
