"""Bearer-token authentication and role checks for the API."""

import hashlib
import threading
import time
from dataclasses import dataclass

from flask import abort, current_app, g, has_app_context, request
from sqlalchemy import event

from inventory import audit
from inventory.enums import Role
from inventory.errors import FleetError
from inventory.models import ApiToken
from inventory.tokens import authenticate, note_use

# How long a worker trusts a token it has checked. Revoking in the same process takes effect at once;
# revoking elsewhere (another gunicorn worker, `fleet tokens revoke`) within this many seconds.
TOKEN_CACHE_SECONDS = 5.0
TOKEN_CACHE_SIZE = 1024


class Unauthorized(FleetError):
    status = 401


class Forbidden(FleetError):
    status = 403


@dataclass(frozen=True)
class Caller:
    """The token a request came with, detached from the session so a worker may keep it for a while."""

    id: int
    name: str
    role: str
    school_codes: tuple[str, ...]


class TokenCache:
    """Live tokens by the hash of their secret, each trusted for `seconds` after it was read."""

    def __init__(self, seconds: float, size: int = TOKEN_CACHE_SIZE, clock=time.monotonic):
        self.seconds, self.size, self.clock = seconds, size, clock
        self._entries: dict[str, tuple[float, Caller]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Caller | None:
        """The caller for key, unless it is unknown here or too old to trust."""
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self.clock():
            return None
        return entry[1]

    def put(self, key: str, caller: Caller) -> None:
        """Trust caller for key until `seconds` from now."""
        if self.seconds <= 0:
            return
        with self._lock:
            self._entries.pop(key, None)
            while len(self._entries) >= self.size:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (self.clock() + self.seconds, caller)

    def forget(self, token_id: int) -> None:
        """Stop trusting the token with this id."""
        with self._lock:
            for key in [key for key, (_, caller) in self._entries.items() if caller.id == token_id]:
                del self._entries[key]


def token_cache(app) -> TokenCache:
    """The app's token cache, made on first use (FLEET_TOKEN_CACHE_SECONDS=0 turns it off)."""
    cache = app.extensions.get("fleet_token_cache")
    if cache is None:
        cache = app.extensions["fleet_token_cache"] = TokenCache(
            float(app.config.get("TOKEN_CACHE_SECONDS", TOKEN_CACHE_SECONDS)))
    return cache


@event.listens_for(ApiToken.revoked_at, "set")
def _forget_revoked(token: ApiToken, value, _old, _initiator) -> None:
    # Revoked in this process: forget it now rather than when its entry runs out.
    if value is not None and token.id is not None and has_app_context():
        token_cache(current_app).forget(token.id)


def load_token() -> None:
    """before_request: identify the caller, or answer 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, plain = header.partition(" ")
    plain = plain.strip()
    if scheme.lower() != "bearer" or not plain:
        raise Unauthorized("a bearer token is required (Authorization: Bearer <token>)")
    cache = token_cache(current_app)
    key = hashlib.sha256(plain.encode()).hexdigest()
    caller = cache.get(key)
    if caller is None:
        caller = _caller(plain)
        cache.put(key, caller)
    g.token = caller
    g.actor_token = audit.set_actor(f"token:{caller.name} ({caller.role})")


def _caller(plain: str) -> Caller:
    """Check plain against the database and note its use."""
    token = authenticate(plain)
    if token is None:
        raise Unauthorized("the token is unknown or revoked")
    note_use(token)
    return Caller(id=token.id, name=token.name, role=token.role, school_codes=tuple(token.school_codes))


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
        Role.VIEWER: {"read"},
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
    return list(token.school_codes) or None


def _verb(action: str) -> str:
    return {"read": "read the inventory", "write": "change the inventory", "admin": "administer",
            "funding": "edit funding", "observe": "push observations"}[action]
