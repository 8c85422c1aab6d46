"""/api/v1/schools and their rooms."""

from flask.views import MethodView
from sqlalchemy import func, select

from inventory import rooms as room_service
from inventory import schools as school_service
from inventory.db import db
from inventory.devices import school_by_code
from inventory.models import Device, Room, School
from provisioning.rollout import Room as PlannedRoom

from . import api_blueprint
from ..auth import require
from .schemas import RoomOut, RoomPatch, RoomWrite, SchoolOut, SchoolPatch, SchoolWrite

blp = api_blueprint("schools", __name__, "schools", "Schools and rooms")

SECRET_KEYS = {"community", "auth_key", "priv_key"}


def _public_discovery(settings: dict) -> dict:
    """Discovery settings without any secret reference."""
    shown = {key: value for key, value in settings.items() if key != "snmp"}
    shown["snmp"] = [{k: v for k, v in cred.items() if k not in SECRET_KEYS} for cred in settings.get("snmp", [])]
    return shown


def _school_dict(school: School, rooms: int, devices: int) -> dict:
    return {"code": school.code, "name": school.name, "number": school.number, "type": school.type,
            "subnets": [s.cidr for s in school.subnets], "rooms": rooms, "devices": devices,
            "discovery": _public_discovery(school.discovery or {})}


def _room_dict(room: Room, devices: int) -> dict:
    # `required` is worked out as the rollout does, so the room and its rollout line never disagree.
    planned = PlannedRoom(school=room.school.code, code=room.code, profile=room.profile.items if room.profile else {},
                          overrides=room.items or {})
    target = room.target_date or room.school.target_date
    return {"code": room.code, "name": room.name, "kind": room.kind, "building": room.building,
            "floor": room.floor, "profile": room.profile.code if room.profile else None, "devices": devices,
            "items": dict(room.items or {}), "required": planned.required(), "target_date": _day(room.target_date),
            "effective_target_date": _day(target)}


def _day(value) -> str | None:
    return value.isoformat() if value else None


def _count_by(column, *where) -> dict:
    query = select(column, func.count()).where(Device.status != "retired", *where).group_by(column)
    return dict(db.session.execute(query).all())


@blp.route("")
class Schools(MethodView):
    @blp.response(200, SchoolOut(many=True))
    def get(self):
        """All schools with their room and device counts."""
        require("read")
        rooms = dict(db.session.execute(select(Room.school_id, func.count()).group_by(Room.school_id)).all())
        devices = _count_by(Device.school_id)
        schools = db.session.scalars(select(School).order_by(School.code))
        return [_school_dict(s, rooms.get(s.id, 0), devices.get(s.id, 0)) for s in schools]

    @blp.arguments(SchoolWrite)
    @blp.response(201, SchoolOut)
    def post(self, data):
        """Add a school; schools.yaml stays the declaration, so the next sync removes schools it does not list."""
        require("admin")
        return _school_dict(school_service.create_school(data), 0, 0)


@blp.route("/<code>")
class SchoolByCode(MethodView):
    @blp.response(200, SchoolOut)
    def get(self, code):
        """One school."""
        require("read")
        school = school_by_code(code, "code")
        devices = _count_by(Device.school_id, Device.school_id == school.id)
        return _school_dict(school, len(school.rooms), devices.get(school.id, 0))

    @blp.arguments(SchoolPatch(partial=True, exclude=("code",)))
    @blp.response(200, SchoolOut)
    def patch(self, data, code):
        """Change a school's name, number, type, concept date or subnets."""
        require("admin")
        school = school_service.update_school(code, data)
        devices = _count_by(Device.school_id, Device.school_id == school.id)
        return _school_dict(school, len(school.rooms), devices.get(school.id, 0))

    @blp.response(204)
    def delete(self, code):
        """Remove a school that never held a device and scopes no token (409 otherwise)."""
        require("admin")
        school_service.delete_school(code)


@blp.route("/<code>/rooms")
class Rooms(MethodView):
    @blp.response(200, RoomOut(many=True))
    def get(self, code):
        """The rooms of a school with their device counts."""
        require("read")
        school = school_by_code(code, "code")
        devices = _count_by(Device.room_id, Device.school_id == school.id)
        return [_room_dict(room, devices.get(room.id, 0)) for room in school.rooms]

    @blp.arguments(RoomWrite)
    @blp.response(201, RoomOut)
    def post(self, data, code):
        """Add a room; schools.yaml stays the declaration, so the next sync removes rooms it does not list."""
        require("admin")
        room = room_service.create_room(code, data)
        return _room_dict(room, 0)


@blp.route("/<code>/rooms/<room_code>")
class RoomByCode(MethodView):
    @blp.response(200, RoomOut)
    def get(self, code, room_code):
        """One room."""
        require("read")
        room = room_service.get_room(code, room_code)
        return _room_dict(room, room_service.device_count(room))

    @blp.arguments(RoomPatch(partial=True))
    @blp.response(200, RoomOut)
    def patch(self, data, code, room_code):
        """Change a room; a support token may change what it needs and by when (items, target_date) at its schools."""
        if set(data) <= room_service.ROLLOUT_FIELDS:
            require("write", code)
        else:
            require("admin")
        room = room_service.update_room(code, room_code, data)
        return _room_dict(room, room_service.device_count(room))

    @blp.response(204)
    def delete(self, code, room_code):
        """Remove an empty room; a room that still holds devices is refused (409)."""
        require("admin")
        room_service.delete_room(code, room_code)
