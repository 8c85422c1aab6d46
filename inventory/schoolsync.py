"""Apply the declaration in schools.yaml to the database: idempotent, all or nothing, every change printed."""

import dataclasses
import json
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import func, select

from . import audit
from .db import db
from .errors import FileRejected
from .models import Carrier, Profile, Room, School, Subnet
from .rooms import detach_retired, device_count
from .schools import removal_refusal


class SyncRefused(FileRejected):
    """The declaration would remove something that still holds devices."""


CENT = Decimal("0.01")
# Parts of the declaration that other domain packages keep (provisioning: grants, the carrier's funding). They add
# a step here when imported, so the inventory never imports them; each step runs in the same transaction, after
# carrier, profiles, schools and rooms, before anything is removed, and may raise or add to Changes.refusals.
STEPS: list[Callable[[object, "Changes"], None]] = []


def sync_step(step: Callable[[object, "Changes"], None]):
    """Decorator: run step(declaration, changes) in every sync (registering the same step twice adds it once)."""
    if step not in STEPS:
        STEPS.append(step)
    return step


def _plain(value):
    """JSON-normal form (tuples → lists, dates → text) so stored and declared values compare equal."""
    if dataclasses.is_dataclass(value):
        value = dataclasses.asdict(value)
    return json.loads(json.dumps(value, default=str))


def _show(value) -> str:
    return repr(value) if isinstance(value, str) else json.dumps(_plain(value), ensure_ascii=False)


class Changes:
    """Collects printable change lines and audit events."""

    def __init__(self):
        self.lines: list[str] = []
        self.refusals: list[str] = []

    def created(self, kind: str, label: str, obj, state: dict, school: str | None = None):
        self.lines.append(f"+ {kind} {label}")
        audit.record("create", kind, obj.id, label, audit.diff({}, state), school)

    def removed(self, kind: str, label: str, obj, state: dict, school: str | None = None):
        self.lines.append(f"- {kind} {label}")
        audit.record("delete", kind, obj.id, label, audit.diff(state, {}), school)

    def updated(self, kind: str, label: str, obj, fields: dict, school: str | None = None):
        """Set changed fields on obj; one line per object naming old → new."""
        before = {key: _plain(getattr(obj, key)) for key in fields}
        after = {key: _plain(value) for key, value in fields.items()}
        changed = {key: after[key] for key in fields if before[key] != after[key]}
        if not changed:
            return
        for key in changed:
            setattr(obj, key, fields[key])
        text = ", ".join(f"{key} {_show(before[key])} → {_show(after[key])}" for key in changed)
        self.lines.append(f"~ {kind} {label}: {text}")
        audit.record("update", kind, obj.id, label, audit.diff(before, after), school)


def sync_declaration(declaration, dry_run: bool = False) -> list[str]:
    """Make the database match the declaration; returns the change lines, raises SyncRefused."""
    changes = Changes()
    try:
        _sync_carrier(declaration.carrier, changes)
        profiles = _sync_profiles(declaration, changes)
        declared = {school.code for school in declaration.schools}
        _release_subnets(declaration, changes)
        for spec in declaration.schools:
            _sync_school(spec, profiles, changes)
        for step in STEPS:
            step(declaration, changes)
        for school in db.session.scalars(select(School).where(School.code.not_in(declared))):
            _remove_school(school, changes)
        _remove_unused_profiles(declaration, changes)
        if changes.refusals:
            raise SyncRefused(changes.refusals, "schools.yaml was not applied; nothing was changed")
        db.session.flush()
    except BaseException:
        db.session.rollback()
        raise
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return changes.lines


def _carrier_fields(spec) -> dict:
    return {"name": spec.name, "state": spec.state, "funding": _plain(spec.funding),
            "budgets": {code: str(amount.quantize(CENT)) for code, amount in sorted(spec.budgets.items())}}


def _sync_carrier(spec, changes: Changes) -> None:
    carrier = db.session.scalar(select(Carrier).order_by(Carrier.id).limit(1))
    fields = _carrier_fields(spec)
    if carrier is None:
        carrier = Carrier(**fields)
        db.session.add(carrier)
        db.session.flush()
        changes.created("carrier", spec.name, carrier, fields)
    else:
        changes.updated("carrier", spec.name, carrier, fields)


def _sync_profiles(declaration, changes: Changes) -> dict[str, Profile]:
    existing = {p.code: p for p in db.session.scalars(select(Profile))}
    for code, spec in declaration.profiles.items():
        items = dict(spec.items)
        profile = existing.get(code)
        if profile is None:
            profile = existing[code] = Profile(code=code, label=spec.label, items=items)
            db.session.add(profile)
            db.session.flush()
            changes.created("profile", code, profile, {"label": spec.label, "items": items})
        else:
            changes.updated("profile", code, profile, {"label": spec.label, "items": items})
    return existing


def _remove_unused_profiles(declaration, changes: Changes) -> None:
    db.session.flush()
    for profile in db.session.scalars(select(Profile).where(Profile.code.not_in(list(declaration.profiles)))):
        if db.session.scalar(select(func.count()).where(Room.profile_id == profile.id)) == 0:
            changes.removed("profile", profile.code, profile, {"label": profile.label})
            db.session.delete(profile)


def _release_subnets(declaration, changes: Changes) -> None:
    """Drop subnets that are no longer declared for their school first, so one may move between schools."""
    wanted = {(school.code, cidr) for school in declaration.schools for cidr in school.subnets}
    for subnet in db.session.scalars(select(Subnet).join(School)):
        if (subnet.school.code, subnet.cidr) not in wanted:
            changes.removed("subnet", f"{subnet.school.code} {subnet.cidr}", subnet, {"cidr": subnet.cidr},
                            subnet.school.code)
            subnet.school.subnets.remove(subnet)
    db.session.flush()


def _school_fields(spec) -> dict:
    return {"name": spec.name, "number": spec.number, "type": spec.type, "concept_date": spec.concept_date,
            "network_since": spec.network_since, "target_date": spec.target, "discovery": _plain(spec.discovery)}


def _sync_school(spec, profiles: dict[str, Profile], changes: Changes) -> None:
    school = db.session.scalar(select(School).where(School.code == spec.code))
    fields = _school_fields(spec)
    if school is None:
        school = School(code=spec.code, **fields)
        db.session.add(school)
        db.session.flush()
        changes.created("school", f"{spec.code} ({spec.name})", school, {"code": spec.code, **fields}, spec.code)
    else:
        changes.updated("school", spec.code, school, fields, spec.code)
    present = {subnet.cidr for subnet in school.subnets}
    for cidr in spec.subnets:
        if cidr not in present:
            subnet = Subnet(cidr=cidr)
            school.subnets.append(subnet)
            db.session.flush()
            changes.created("subnet", f"{spec.code} {cidr}", subnet, {"cidr": cidr}, spec.code)
    _sync_rooms(school, spec, profiles, changes)


def _sync_rooms(school: School, spec, profiles: dict[str, Profile], changes: Changes) -> None:
    rooms = {room.code: room for room in school.rooms}
    declared = set()
    for room_spec in spec.rooms:
        declared.add(room_spec.code)
        fields = {"name": room_spec.name, "kind": room_spec.kind, "building": room_spec.building,
                  "floor": room_spec.floor, "items": dict(sorted(room_spec.items.items())),
                  "target_date": room_spec.target}
        profile = profiles.get(room_spec.profile) if room_spec.profile else None
        label = f"{school.code}/{room_spec.code}"
        room = rooms.get(room_spec.code)
        if room is None:
            room = Room(code=room_spec.code, profile=profile, **fields)
            school.rooms.append(room)
            db.session.flush()
            changes.created("room", f"{label} ({room_spec.name})", room,
                            {**fields, "profile": room_spec.profile}, school.code)
        else:
            changes.updated("room", label, room, fields, school.code)
            if room.profile is not profile:
                old = room.profile.code if room.profile else None
                room.profile = profile
                changes.lines.append(f"~ room {label}: profile {old!r} → {room_spec.profile!r}")
                audit.record("update", "room", room.id, label, {"profile": [old, room_spec.profile]}, school.code)
    for code, room in rooms.items():
        if code not in declared:
            _remove_room(school, room, changes)


def _remove_room(school: School, room: Room, changes: Changes) -> None:
    held = device_count(room)
    label = f"{school.code}/{room.code}"
    if held:
        changes.refusals.append(f"room {label} still holds {held} device(s): move or retire them first, "
                                f"or keep the room in schools.yaml")
        return
    detach_retired(room)
    changes.removed("room", label, room, {"name": room.name}, school.code)
    school.rooms.remove(room)


def _remove_school(school: School, changes: Changes) -> None:
    refusal = removal_refusal(school)
    if refusal:
        changes.refusals.append(refusal)
        return
    for room in school.rooms:
        changes.removed("room", f"{school.code}/{room.code}", room, {"name": room.name}, school.code)
    changes.removed("school", school.code, school, {"name": school.name}, school.code)
