"""Bearer-token authentication and role checks for the API."""

from flask import abort, g, request

from inventory import audit
from inventory.enums import Role
from inventory.errors import FleetError
from inventory.tokens import authenticate, note_use


class Unauthorized(FleetError):
    status = 401


class Forbidden(FleetError):
    status = 403


def load_token() -> None:
    """before_request: identify the caller, or answer 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, plain = header.partition(" ")
    if scheme.lower() != "bearer" or not plain.strip():
        raise Unauthorized("a bearer token is required (Authorization: Bearer <token>)")
    token = authenticate(plain.strip())
    if token is None:
        raise Unauthorized("the token is unknown or revoked")
    note_use(token)
    g.token = token
    g.actor_token = audit.set_actor(f"token:{token.name} ({token.role})")


def reset_actor(_exc=None) -> None:
    """teardown: forget the request's actor."""
    token = g.pop("actor_token", None)
    if token is not None:
        audit.reset_actor(token)


def require(action: str, school: str | None = None) -> None:
    """Allow the current token to do action ('read', 'write', 'admin'), optionally within school."""
    token = g.get("token")
    if token is None:
        abort(401)
    role = token.role
    allowed = {
        Role.ADMIN: {"read", "write", "admin", "funding", "observe"},
        Role.SUPPORT: {"read", "write"},
        Role.FINANCE: {"read", "funding"},
        Role.AGENT: {"observe"},
    }.get(role, set())
    if action not in allowed:
        raise Forbidden(f"the role '{role}' may not {_verb(action)}")
    if school is None or role == Role.ADMIN:
        return
    limited = token.school_codes
    if limited and school not in limited:
        raise Forbidden(f"this token is limited to {', '.join(limited)}; not '{school}'")


def allowed_schools() -> list[str] | None:
    """The schools a limited support token may write to, or None for all."""
    token = g.get("token")
    if token is None or token.role == Role.ADMIN:
        return None
    return token.school_codes or None


def _verb(action: str) -> str:
    return {"read": "read the inventory", "write": "change the inventory", "admin": "administer",
            "funding": "edit funding", "observe": "push observations"}[action]
