"""Who changed what: the actor of the current request or command, and the events it leaves."""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal

from .db import db
from .models import AuditEvent

_actor: ContextVar[str] = ContextVar("fleet_actor", default="system")


def current_actor() -> str:
    """The actor writes are attributed to, e.g. 'token:ci-import (admin)' or 'cli:root'."""
    return _actor.get()


def set_actor(actor: str):
    """Attribute the following writes to actor; returns a token for reset_actor."""
    return _actor.set(actor)


def reset_actor(token) -> None:
    _actor.reset(token)


@contextmanager
def acting_as(actor: str):
    """Attribute writes inside the block to actor."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def plain(value):
    """A JSON-safe form of a column value."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def diff(before: dict, after: dict) -> dict:
    """{field: [old, new]} for every field whose value changed."""
    return {key: [plain(before.get(key)), plain(after.get(key))]
            for key in sorted(set(before) | set(after))
            if plain(before.get(key)) != plain(after.get(key))}


def record(action: str, object_type: str, obj_id: int | None, obj_repr: str | None,
           changes: dict, school_code: str | None = None) -> AuditEvent:
    """Add one audit event to the session (the caller's transaction commits it)."""
    event = AuditEvent(actor=current_actor(), action=action, object_type=object_type,
                       object_id=obj_id, object_repr=(obj_repr or "")[:200], changes=changes,
                       school_code=school_code)
    db.session.add(event)
    return event
