"""Rollout per classroom: what each room needs, what is there, what discovery has seen lately, how far it has come.

Pure: rooms and devices in, a Rollout out; the service reads rooms (with their profile's items) and devices from the
database, and today from the clock.

- Required: the room's profile items with the room's own overrides laid over them; an override replaces the profile's
  count for its kind (0 drops the kind), because a room that needs two access points needs two, not one more.
- Present: devices assigned to the room whose status is in service (active, loaned). In repair, missing or retired
  devices are not there; ordered and in-stock ones are on the way (`ordered`). Devices without a room, or in a room
  not given, are not counted anywhere.
- Verified: present and last seen on or after today − verified_within_days (that day included). A timestamp counts by
  its calendar date, so the caller passes local times.
- Missing = required − present, at least 0; surplus = present − required, at least 0. Totals add the rooms' lines:
  a spare board in one room does not fill a gap in another.
- Phase, derived and never declared (a declared phase goes stale; the inventory and discovery are the evidence): each
  required unit is filled by the most advanced device of its kind, verified before installed (present) before
  ordered; the room's phase is that of its least advanced unit: planned → ordered → installed → verified. A room
  that requires nothing has no phase (None) and is complete.
- Complete: nothing missing (installed or verified). Behind: today is after the target date and the room is not
  complete; on the target date itself it is not yet behind.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar
from datetime import date, datetime, timedelta

from inventory.enums import DeviceStatus

IN_SERVICE = frozenset({DeviceStatus.ACTIVE.value, DeviceStatus.LOANED.value})
ON_THE_WAY = frozenset({DeviceStatus.ORDERED.value, DeviceStatus.IN_STOCK.value})
PHASES = ("planned", "ordered", "installed", "verified")
COUNTS = ("required", "present", "verified", "ordered", "missing", "surplus")


@dataclass(frozen=True, slots=True)
class Room:
    """A room to equip: its profile's items (kind → count), the room's overrides, and its target date."""

    school: str
    code: str
    profile: Mapping[str, int] = field(default_factory=dict)
    overrides: Mapping[str, int] = field(default_factory=dict)
    target: date | None = None

    def required(self) -> dict[str, int]:
        """Kind → count this room needs: the profile with the overrides laid over it, zero counts left out."""
        return {kind: count for kind, count in sorted({**self.profile, **self.overrides}.items()) if count}


@dataclass(frozen=True, slots=True)
class Device:
    """A device as the rollout sees it; room None: not in any room."""

    id: int
    school: str
    room: str | None
    kind: str
    status: str
    last_seen: datetime | date | None = None
    count: ClassVar[int] = 1


@dataclass(frozen=True, slots=True)
class Devices:
    """count devices of one room, kind and status last seen on the same day (or none of them seen): where only the
    counts matter, a service may group a large fleet before it gets here."""

    school: str
    room: str | None
    kind: str
    status: str
    last_seen: datetime | date | None
    count: int


@dataclass(frozen=True, slots=True)
class Line:
    """Counts for one kind (kind None: all kinds together)."""

    kind: str | None
    required: int = 0
    present: int = 0
    verified: int = 0
    ordered: int = 0
    missing: int = 0
    surplus: int = 0

    def __add__(self, other: "Line") -> "Line":
        """Counts added; the kind is kept when both lines share it."""
        return Line(self.kind if self.kind == other.kind else None, *(
            getattr(self, name) + getattr(other, name) for name in COUNTS))


@dataclass(frozen=True, slots=True)
class RoomRollout:
    """One room's state: a line per kind required or found, sorted by kind, and their total."""

    school: str
    room: str
    lines: tuple[Line, ...]
    total: Line
    phase: str | None
    complete: bool
    target: date | None
    behind: bool
    devices: tuple[int, ...]  # ids of the devices present, sorted


@dataclass(frozen=True, slots=True)
class Totals:
    """The sum over some rooms: counts of rooms, rooms per phase (every phase named), and lines per kind."""

    rooms: int
    complete: int
    behind: int
    phases: Mapping[str, int]
    lines: tuple[Line, ...]
    total: Line


@dataclass(frozen=True, slots=True)
class Rollout:
    """Every room (sorted by school and room code), the totals per school (sorted by code) and for the carrier."""

    rooms: tuple[RoomRollout, ...]
    schools: Mapping[str, Totals]
    carrier: Totals


def rollout(rooms: Iterable[Room], devices: Iterable[Device | Devices], today: date,
            verified_within_days: int) -> Rollout:
    """The rollout of every room given, with totals per school and for the carrier; a room lists the ids of the
    single devices present (grouped Devices have none)."""
    if verified_within_days < 0:
        raise ValueError("verified_within_days must be at least 0")
    seen_since = today - timedelta(days=verified_within_days)
    by_room: dict[tuple[str, str], list[Device]] = {}
    plans: dict[tuple[str, str], Room] = {}
    for room in rooms:
        key = (room.school, room.code)
        if key in plans:
            raise ValueError(f"room {room.code} of school {room.school} is given twice")
        if any(count < 0 for count in (*room.profile.values(), *room.overrides.values())):
            raise ValueError(f"room {room.code} of school {room.school} requires a negative count")
        plans[key], by_room[key] = room, []
    for device in devices:
        if device.room is not None and (device.school, device.room) in by_room:
            by_room[(device.school, device.room)].append(device)
    results = tuple(_room(plans[key], by_room[key], today, seen_since) for key in sorted(plans))
    schools = {school: _totals([r for r in results if r.school == school])
               for school in sorted({r.school for r in results})}
    return Rollout(results, schools, _totals(results))


def _room(room: Room, devices: list[Device | Devices], today: date, seen_since: date) -> RoomRollout:
    required = room.required()
    present = [device for device in devices if device.status in IN_SERVICE]
    verified: Counter = Counter()
    have: Counter = Counter()
    ordered: Counter = Counter()
    for device in present:
        have[device.kind] += device.count
        if _seen_on(device.last_seen) >= seen_since:
            verified[device.kind] += device.count
    for device in devices:
        if device.status in ON_THE_WAY:
            ordered[device.kind] += device.count
    lines = []
    for kind in sorted(set(required) | set(have) | set(ordered)):
        need = required.get(kind, 0)
        lines.append(Line(kind, need, have[kind], verified[kind], ordered[kind], max(need - have[kind], 0),
                          max(have[kind] - need, 0)))
    phase = min((_phase(line) for line in lines if line.required), key=PHASES.index, default=None)
    total = sum(lines, Line(None))
    complete = total.missing == 0
    behind = room.target is not None and today > room.target and not complete
    return RoomRollout(room.school, room.code, tuple(lines), total, phase, complete, room.target, behind,
                       tuple(sorted(device.id for device in present if type(device) is Device)))


def _phase(line: Line) -> str:
    # Units are filled by the most advanced devices first, so the least advanced filled unit decides.
    if line.verified >= line.required:
        return "verified"
    if line.present >= line.required:
        return "installed"
    return "ordered" if line.present + line.ordered >= line.required else "planned"


def _seen_on(last_seen: datetime | date | None) -> date:
    if last_seen is None:
        return date.min
    return last_seen.date() if isinstance(last_seen, datetime) else last_seen


def _totals(rooms: Iterable[RoomRollout]) -> Totals:
    rooms = list(rooms)
    by_kind: dict[str, Line] = {}
    for room in rooms:
        for line in room.lines:
            by_kind[line.kind] = by_kind[line.kind] + line if line.kind in by_kind else line
    lines = tuple(by_kind[kind] for kind in sorted(by_kind))
    phases = Counter(room.phase for room in rooms if room.phase is not None)
    return Totals(rooms=len(rooms), complete=sum(room.complete for room in rooms),
                  behind=sum(room.behind for room in rooms), phases={phase: phases[phase] for phase in PHASES},
                  lines=lines, total=sum(lines, Line(None)))
