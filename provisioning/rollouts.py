"""Rollout per room from the database: the pure rollout() over rooms (profile, overrides, target) and devices.

The scope is the schools and rooms asked for; totals cover the whole scope, while a state (complete, behind, a
phase, …) only chooses which rooms are listed, so a list of the rooms behind still shows how far the school is.
A device that belongs to another (the slot-in PC of a display) is part of its parent and counts only where the
room requires its kind; otherwise every display with its OPS PC would show a surplus PC.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import contains_eager, selectinload

from inventory.cron import DEFAULT_TIMEZONE, zone
from inventory.db import db
from inventory.enums import DeviceStatus
from inventory.errors import InvalidInput, UnknownSchool
from inventory.models import Device, Room, School

from .rollout import PHASES, Device as SeenDevice, Devices as SeenDevices, Line, Room as PlannedRoom, Rollout
from .rollout import RoomRollout, Totals, rollout

VERIFIED_DAYS = 14  # FLEET_ROLLOUT_VERIFIED_DAYS: seen on the network this many days back counts as verified
STATES = ("complete", "incomplete", "behind", *PHASES)


@dataclass(frozen=True, slots=True)
class RoomInfo:
    name: str
    profile: str | None


@dataclass(frozen=True)
class Report:
    """The rollout of a scope, with each room's name and profile, and the day and window it was judged by."""

    rollout: Rollout
    rooms: Mapping[tuple[str, str], RoomInfo]
    today: date
    verified_within_days: int


def settings(config: Mapping) -> tuple[int, tzinfo]:
    """FLEET_ROLLOUT_VERIFIED_DAYS and FLEET_TIMEZONE from the app's config, checked."""
    days = config.get("ROLLOUT_VERIFIED_DAYS", VERIFIED_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise InvalidInput(f"FLEET_ROLLOUT_VERIFIED_DAYS must be a whole number of days, at least 0; not '{days}'")
    # the day a sighting counts for, and today, are the schools' local days
    return days, zone(config.get("TIMEZONE") or DEFAULT_TIMEZONE)


def room_rollout(schools: list[str] | None = None, rooms: list[str] | None = None, *, verified_within_days: int,
                 zone: tzinfo, now: datetime | None = None, grouped: bool = False) -> Report:
    """The rollout of the rooms of these schools (None: all) with these codes (None: all), as of now in zone;
    grouped counts the devices in the database instead of reading each one (the rooms then list no device ids)."""
    today = (now or datetime.now(zone)).astimezone(zone).date()
    scope = []
    if schools:
        _known(schools)
        scope.append(School.code.in_(schools))
    if rooms:
        scope.append(Room.code.in_(rooms))
    found = list(db.session.scalars(
        select(Room).join(Room.school).options(contains_eager(Room.school), selectinload(Room.profile))
        .where(*scope).order_by(School.code, Room.code)))
    planned = [PlannedRoom(school=room.school.code, code=room.code, profile=room.profile.items if room.profile else {},
                           overrides=room.items or {}, target=room.target_date or room.school.target_date)
               for room in found]
    info = {(room.school.code, room.code): RoomInfo(room.name, room.profile.code if room.profile else None)
            for room in found}
    required = {(room.school, room.code): room.required() for room in planned}
    if grouped:
        names = {room.id: (room.school.code, room.code) for room in found}
        devices = _device_groups(None if not scope else list(names), names, required,
                                 verified_since(today, verified_within_days, zone))
    else:
        devices = _devices(scope, required, zone)
    return Report(rollout(planned, devices, today, verified_within_days), info, today, verified_within_days)


def _devices(scope: list, required: Mapping[tuple[str, str], Mapping[str, int]], zone: tzinfo) -> list[SeenDevice]:
    """The devices placed in the rooms of the scope, as plain rows: a large carrier has tens of thousands."""
    placed = (select(Device.id, School.code, Room.code, Device.kind, Device.status, Device.last_seen_at,
                     Device.parent_id)
              .join(Room, Device.room_id == Room.id).join(School, Room.school_id == School.id)
              .where(Device.status != DeviceStatus.RETIRED.value, *scope))
    return [SeenDevice(id_, school, room, kind, status, seen.astimezone(zone) if seen else None)
            for id_, school, room, kind, status, seen, parent in db.session.execute(placed)
            if parent is None or kind in required[(school, room)]]


def _device_groups(room_ids: list[int] | None, names: Mapping[int, tuple[str, str]],
                   required: Mapping[tuple[str, str], Mapping[str, int]], seen_from: datetime) -> list[SeenDevices]:
    """The devices placed in these rooms (None: every room), counted per room, kind, status and whether they were
    seen since seen_from: a few thousand rows for tens of thousands of devices, read from one covering index
    (ix_devices_rollout) without touching the table."""
    seen = case((Device.last_seen_at >= seen_from, True), else_=False)
    own = Device.parent_id.is_(None)
    placed = Device.room_id.is_not(None) if room_ids is None else Device.room_id.in_(room_ids)
    groups = (select(Device.room_id, Device.kind, Device.status, seen, own, func.count())
              .where(placed, Device.status != DeviceStatus.RETIRED.value)
              .group_by(Device.room_id, Device.kind, Device.status, seen, own))
    found = []
    for room_id, kind, status, was_seen, alone, count in db.session.execute(groups):
        school, room = names[room_id]
        if alone or kind in required[(school, room)]:
            found.append(SeenDevices(school, room, kind, status, seen_from if was_seen else None, count))
    return found


def verified_since(today: date, verified_within_days: int, zone: tzinfo) -> datetime:
    """The first moment a sighting counts as verified: the start of the local day verified_within_days before
    today."""
    return datetime.combine(today - timedelta(days=verified_within_days), time.min, tzinfo=zone)


def _known(codes: list[str]) -> None:
    found = set(db.session.scalars(select(School.code).where(School.code.in_(codes))))
    for code in codes:
        if code not in found:
            raise UnknownSchool(code)


def matches(room: RoomRollout, state: str | None) -> bool:
    """Whether the room is in state: complete, incomplete, behind, or its phase; None matches every room."""
    if state is None:
        return True
    if state == "complete":
        return room.complete
    if state == "incomplete":
        return not room.complete
    if state == "behind":
        return room.behind
    return room.phase == state


# Plain, JSON-ready dicts: the API and `fleet rollout --json` print the same.

def line_dict(line: Line) -> dict:
    return {"kind": line.kind, "required": line.required, "present": line.present, "verified": line.verified,
            "ordered": line.ordered, "missing": line.missing, "surplus": line.surplus}


def room_dict(room: RoomRollout, info: RoomInfo) -> dict:
    return {"school": room.school, "room": room.room, "name": info.name, "profile": info.profile,
            "phase": room.phase, "complete": room.complete, "target": _day(room.target), "behind": room.behind,
            "lines": [line_dict(line) for line in room.lines], "total": line_dict(room.total),
            "devices": list(room.devices)}


def totals_dict(totals: Totals) -> dict:
    return {"rooms": totals.rooms, "complete": totals.complete, "behind": totals.behind,
            "phases": dict(totals.phases), "lines": [line_dict(line) for line in totals.lines],
            "total": line_dict(totals.total)}


def report_dict(report: Report, listed: Iterable[RoomRollout]) -> dict:
    """The listed rooms with the totals of the whole report."""
    return {"today": report.today.isoformat(), "verified_within_days": report.verified_within_days,
            "results": [room_dict(room, report.rooms[(room.school, room.room)]) for room in listed],
            "schools": {code: totals_dict(totals) for code, totals in report.rollout.schools.items()},
            "carrier": totals_dict(report.rollout.carrier)}


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None
