"""Room service for single edits over the API (schools.yaml sync handles rooms in bulk)."""

from sqlalchemy import func, select

from . import audit
from .db import db
from .devices import room_by_code, school_by_code
from .errors import Conflict, InvalidInput
from .models import Device, Profile, Room

FIELDS = ("code", "name", "kind", "building", "floor", "profile", "items", "target_date")
ROLLOUT_FIELDS = frozenset({"items", "target_date"})  # what the room needs and by when, not what it is


def _state(room: Room) -> dict:
    return {"code": room.code, "name": room.name, "kind": room.kind, "building": room.building,
            "floor": room.floor, "profile": room.profile.code if room.profile else None,
            "items": dict(room.items or {}), "target_date": room.target_date}


def _items(items: dict | None) -> dict:
    """Overrides as stored: sorted by kind, as schools.yaml sync writes them; None means none."""
    return dict(sorted((items or {}).items()))


def _profile(code: str | None) -> Profile | None:
    if code is None:
        return None
    profile = db.session.scalar(select(Profile).where(Profile.code == code))
    if profile is None:
        raise InvalidInput(f"unknown profile '{code}'", {"profile": [f"unknown profile '{code}'"]})
    return profile


def get_room(school_code: str, room_code: str) -> Room:
    """The room, or a 404 naming school or room."""
    return room_by_code(school_by_code(school_code), room_code)


def device_count(room: Room) -> int:
    """Devices in the room that are not retired."""
    query = select(func.count()).where(Device.room_id == room.id, Device.status != "retired")
    return db.session.scalar(query)


def detach_retired(room: Room) -> None:
    """Retired devices keep their history but let go of a room that is being removed."""
    db.session.execute(Device.__table__.update().where(Device.room_id == room.id).values(room_id=None))


def create_room(school_code: str, data: dict) -> Room:
    """Add a room to a school; its code must be new there."""
    school = school_by_code(school_code)
    if db.session.scalar(select(Room).where(Room.school_id == school.id, Room.code == data["code"])):
        raise Conflict(f"room '{data['code']}' already exists in '{school.code}'",
                       {"code": ["already exists"]})
    room = Room(school=school, code=data["code"], name=data["name"], kind=data.get("kind", "classroom"),
                building=data.get("building"), floor=data.get("floor"), profile=_profile(data.get("profile")),
                items=_items(data.get("items")), target_date=data.get("target_date"))
    db.session.add(room)
    db.session.flush()
    audit.record("create", "room", room.id, f"{school.code}/{room.code}", audit.diff({}, _state(room)), school.code)
    db.session.commit()
    return room


def update_room(school_code: str, room_code: str, data: dict) -> Room:
    """Change a room's fields."""
    room = get_room(school_code, room_code)
    before = _state(room)
    if "code" in data and data["code"] != room.code:
        if db.session.scalar(select(Room).where(Room.school_id == room.school_id, Room.code == data["code"])):
            raise Conflict(f"room '{data['code']}' already exists in '{school_code}'", {"code": ["already exists"]})
    for key in ("code", "name", "kind", "building", "floor", "target_date"):
        if key in data:
            setattr(room, key, data[key])
    if "items" in data:
        room.items = _items(data["items"])
    if "profile" in data:
        room.profile = _profile(data["profile"])
    changes = audit.diff(before, _state(room))
    if changes:
        audit.record("update", "room", room.id, f"{school_code}/{room.code}", changes, school_code)
    db.session.commit()
    return room


def delete_room(school_code: str, room_code: str) -> None:
    """Remove a room that holds no devices."""
    room = get_room(school_code, room_code)
    held = device_count(room)
    if held:
        raise Conflict(f"room '{room_code}' still holds {held} device(s); move or retire them first",
                       {"room": ["not empty"]})
    detach_retired(room)
    audit.record("delete", "room", room.id, f"{school_code}/{room_code}", audit.diff(_state(room), {}), school_code)
    db.session.delete(room)
    db.session.commit()
