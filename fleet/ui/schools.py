"""Pages: the schools (Schulen) with their rollout chart, one school's rooms as a grid, and one room."""

from collections import defaultdict
from dataclasses import dataclass

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from inventory.db import db
from inventory.enums import DeviceStatus
from inventory.errors import NotFound
from inventory.models import Device, Room, School
from inventory.queries import LIST_FIELDS, device_page
from inventory.rooms import get_room
from provisioning import rollouts
from provisioning.rollout import Line, RoomRollout, Totals

from . import bp
from .access import requires, ui_require, visible_schools
from .nav import nav
from .paging import PER_PAGE, paging
from .svg import RolloutBar, rollout_chart

nav("ui.schools", _l("Schools"), "read", 15)

KINDS = {"interactive_display": _l("interactive display"), "projector": _l("projector"),
         "document_camera": _l("document camera"), "laptop": _l("laptop"), "tablet": _l("tablet"),
         "desktop": _l("desktop PC"), "ops_pc": _l("OPS PC"), "access_point": _l("access point"),
         "switch": _l("switch"), "router": _l("router"), "printer": _l("printer"), "server": _l("server"),
         "other": _l("other")}
PHASES = {"planned": _l("planned"), "ordered": _l("ordered"), "installed": _l("installed"),
          "verified": _l("verified")}
# What a room's item can be; the icon repeats the state for readers who cannot tell the colours apart.
ITEM_STATES = {"verified": (_l("verified"), "✓"), "present": (_l("present, not verified"), "●"),
               "missing": (_l("not there yet"), "✗")}
ROOM_KINDS = {"classroom": _l("classroom"), "lab": _l("lab"), "staff": _l("staff room"), "admin": _l("office"),
              "storage": _l("storage"), "server": _l("server room"), "other": _l("other")}
SCHOOL_TYPES = {"general": _l("general education"), "vocational": _l("vocational")}
IN_ROOM = [status.value for status in DeviceStatus if status != DeviceStatus.RETIRED]


@dataclass(frozen=True)
class SchoolRow:
    code: str
    name: str
    number: str | None
    type: str
    devices: int
    totals: Totals | None


@dataclass(frozen=True)
class ItemState:
    """So many units of a kind in one state (verified, present, missing)."""

    kind: str
    state: str
    count: int


@dataclass(frozen=True)
class RoomCard:
    room: Room
    rollout: RoomRollout | None

    @property
    def items(self) -> list[ItemState]:
        return item_states(self.rollout.lines) if self.rollout else []


def item_states(lines: tuple[Line, ...]) -> list[ItemState]:
    """The required units of each kind split by state, the most advanced first, as the rollout fills them."""
    states = []
    for line in lines:
        if not line.required:
            continue
        verified = min(line.verified, line.required)
        present = min(line.present, line.required) - verified
        for state, count in (("verified", verified), ("present", present), ("missing", line.missing)):
            if count:
                states.append(ItemState(line.kind, state, count))
    return states


def _report(codes: list[str] | None, rooms: list[str] | None = None) -> rollouts.Report:
    days, zone = rollouts.settings(current_app.config)
    return rollouts.room_rollout(codes, rooms, verified_within_days=days, zone=zone, grouped=True)


def _school(code: str) -> School:
    ui_require("read", code)
    school = db.session.scalar(select(School).where(School.code == code))
    if school is None:
        abort(404, _("There is no school %(code)s.", code=code))
    return school


@bp.get("/schools", endpoint="schools")
@requires("read")
def schools_page():
    """Every school the user may see: rooms, devices, rollout, and a chart of the rollout per school."""
    visible = visible_schools()
    query = select(School.id, School.code, School.name, School.number, School.type).order_by(School.code)
    if visible is not None:
        query = query.where(School.code.in_(visible))
    found = db.session.execute(query).all()
    devices = dict(db.session.execute(
        select(Device.school_id, func.count()).where(Device.school_id.in_([row.id for row in found]),
                                                     Device.status != DeviceStatus.RETIRED.value)
        .group_by(Device.school_id)).all()) if found else {}
    report = _report([row.code for row in found] if visible is not None else None) if found else None
    rows = [SchoolRow(row.code, row.name, row.number, row.type, devices.get(row.id, 0),
                      report.rollout.schools.get(row.code) if report else None) for row in found]
    chart = rollout_chart([_bar(row) for row in rows], _("Rollout per school"),
                          _("For each school: devices its rooms require, present, and verified on the network.")
                          ) if rows else None
    return render_template("ui/schools.html", rows=rows, chart=chart, report=report, phases=PHASES,
                           school_types=SCHOOL_TYPES)


def _bar(row: SchoolRow) -> RolloutBar:
    line = row.totals.total if row.totals else Line(None)
    return RolloutBar(row.code, row.name, line.required, line.present, line.verified,
                      _("%(required)s required, %(present)s present, %(verified)s verified",
                        required=line.required, present=line.present, verified=line.verified))


@bp.get("/schools/<code>", endpoint="school")
@requires("read")
def school_page(code: str):
    """One school's rooms as a grid of cards, grouped by building and floor."""
    school = _school(code)
    report = _report([code])
    by_room = {entry.room: entry for entry in report.rollout.rooms}
    rooms = db.session.scalars(select(Room).options(selectinload(Room.profile)).where(Room.school_id == school.id)
                               .order_by(Room.building, Room.floor, Room.code))
    groups: dict[tuple, list[RoomCard]] = defaultdict(list)
    for room in rooms:
        groups[(room.building or "", room.floor)].append(RoomCard(room, by_room.get(room.code)))
    ordered = sorted(groups.items(), key=lambda item: (item[0][0], item[0][1] is None, item[0][1] or 0))
    return render_template("ui/school.html", school=school, groups=ordered, report=report,
                           totals=report.rollout.schools.get(code), kinds=KINDS, phases=PHASES,
                           item_states=ITEM_STATES, room_kinds=ROOM_KINDS, school_types=SCHOOL_TYPES)


@bp.get("/schools/<code>/rooms/<room_code>", endpoint="room")
@requires("read")
def room_page(code: str, room_code: str):
    """One room: required, present, verified and missing per kind, its profile and overrides, its devices."""
    school = _school(code)
    try:
        room = get_room(code, room_code)
    except NotFound:
        abort(404, _("There is no room %(room)s in %(school)s.", room=room_code, school=school.name))
    report = _report([code], [room_code])
    entry = next((r for r in report.rollout.rooms if r.room == room.code), None)
    filters = {"school": [code], "room": [room.code], "status": IN_ROOM}
    per_page = request.args.get("per_page", type=int)
    per_page = per_page if per_page in PER_PAGE else 50
    wanted = max(request.args.get("page", type=int) or 1, 1)
    result = device_page(filters, "kind,id", wanted, per_page)
    pages = paging(result.count)
    if pages.page != wanted:  # past the end: the last page
        result = device_page(filters, "kind,id", pages.page, per_page)
    rows = [dict(zip(LIST_FIELDS, row)) for row in result.results]
    return render_template("ui/room.html", school=school, room=room, entry=entry, report=report, p=pages,
                           devices=rows, kinds=KINDS, phases=PHASES, item_states=ITEM_STATES,
                           room_kinds=ROOM_KINDS, items=item_states(entry.lines) if entry else [])
