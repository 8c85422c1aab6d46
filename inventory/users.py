"""People who sign in to the web UI: created with a hashed password, locked for a while after repeated failures.

Lockout: after MAX_FAILED_LOGINS wrong passwords in a row the account is locked for LOCKOUT. While it is locked,
every attempt is refused without looking at the password, and refused attempts neither count nor extend the lock,
so someone hammering the form cannot keep a colleague locked out for good. When the lock runs out the count starts
again from zero: at most MAX_FAILED_LOGINS guesses per LOCKOUT. A correct password resets the count; an admin who
sets a new password lifts the lock.
"""

from datetime import datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from . import audit
from .db import db
from .devices import school_by_code
from .enums import Role
from .errors import Conflict, FleetError, InvalidInput, NotFound
from .models import User

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
UI_ROLES = (Role.ADMIN, Role.SUPPORT, Role.FINANCE, Role.VIEWER)  # agents push observations; they never sign in
LOCALES = ("de", "en")

HASH_METHOD = "scrypt"  # FLEET_PASSWORD_HASH_METHOD; werkzeug's method names (tests use a cheap one)
_DUMMY_HASHES: dict[str, str] = {}


def _method() -> str:
    return (current_app.config.get("PASSWORD_HASH_METHOD") if has_app_context() else None) or HASH_METHOD


def _hash(password: str) -> str:
    return generate_password_hash(password, method=_method())


def _dummy_hash() -> str:
    """Checked against when the username is unknown, so a wrong name takes as long as a wrong password."""
    method = _method()
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash("not a password of anyone", method=method)
    return _DUMMY_HASHES[method]


class LoginFailed(FleetError):
    """Unknown user, wrong password or disabled account: one message for all, so names cannot be probed."""

    status = 401

    def __init__(self):
        super().__init__("unknown username or wrong password")


class AccountLocked(FleetError):
    status = 423

    def __init__(self, until: datetime):
        super().__init__(f"too many failed sign-ins; the account is locked until {until.isoformat()}")
        self.until = until


def create_user(username: str, password: str, role: str, schools: list[str] | None = None,
                name: str | None = None, email: str | None = None) -> User:
    """A new user who may sign in to the web UI with password."""
    username = (username or "").strip()
    if not username or len(username) > 80 or any(char.isspace() for char in username):
        raise InvalidInput("a username is 1 to 80 characters without spaces", {"username": ["invalid"]})
    _check_password(password)
    if role not in UI_ROLES:
        raise InvalidInput(f"unknown role '{role}' (choose from {', '.join(UI_ROLES)})", {"role": ["unknown role"]})
    schools = list(schools or [])
    if schools and role == Role.ADMIN:
        raise InvalidInput("an admin sees every school; give no school", {"schools": ["not for an admin"]})
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"a user named '{username}' already exists", {"username": ["already taken"]})
    user = User(username=username, name=name or None, email=email or None, role=role, active=True,
                password_hash=_hash(password), failed_logins=0,
                schools=[school_by_code(code) for code in schools])
    db.session.add(user)
    db.session.flush()
    audit.record("create", "user", user.id, user.username,
                 {"role": [None, role], "schools": [None, schools], "name": [None, user.name],
                  "email": [None, user.email]})
    db.session.commit()
    return user


def authenticate(username: str, password: str, now: datetime) -> User:
    """The user whose password this is, or LoginFailed / AccountLocked; counts failures and locks."""
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None or not user.active or user.role not in UI_ROLES:
        check_password_hash(_dummy_hash(), password or "")
        raise LoginFailed()
    if user.locked_until is not None and user.locked_until > now:
        raise AccountLocked(user.locked_until)
    if user.locked_until is not None:
        # The lock ran out: a fresh count of attempts.
        user.failed_logins, user.locked_until = 0, None
    if not check_password_hash(user.password_hash, password or ""):
        _count_failure(user, now)
        if user.locked_until is not None:
            raise AccountLocked(user.locked_until)  # this failure locked it: say so now, not on the next try
        raise LoginFailed()
    before = user.last_login_at
    user.failed_logins, user.last_login_at = 0, now
    audit.record("login", "user", user.id, user.username, audit.diff({"last_login_at": before},
                                                                      {"last_login_at": now}))
    db.session.commit()
    return user


def _count_failure(user: User, now: datetime) -> None:
    before = user.failed_logins or 0
    user.failed_logins = before + 1
    changes = {"failed_logins": [before, user.failed_logins]}
    if user.failed_logins >= MAX_FAILED_LOGINS:
        user.locked_until = now + LOCKOUT
        changes["locked_until"] = [None, audit.plain(user.locked_until)]
    audit.record("login_failed", "user", user.id, user.username, changes)
    db.session.commit()


def set_password(username: str, password: str) -> User:
    """Give the user a new password; lifts a lock."""
    user = get_user(username)
    _check_password(password)
    user.password_hash = _hash(password)
    changes = {"password": ["(old)", "(new)"]}  # that it changed, never what to
    if user.failed_logins or user.locked_until is not None:
        changes["locked_until"] = [audit.plain(user.locked_until), None]
        user.failed_logins, user.locked_until = 0, None
    audit.record("set_password", "user", user.id, user.username, changes)
    db.session.commit()
    return user


def set_active(username: str, active: bool) -> User:
    """Allow (True) or stop (False) the user signing in; setting the state it has changes nothing."""
    user = get_user(username)
    if user.active != active:
        audit.record("enable" if active else "disable", "user", user.id, user.username,
                     {"active": [user.active, active]})
        user.active = active
        db.session.commit()
    return user


def set_locale(user: User, locale: str) -> User:
    """Remember the language the user chose for the web UI."""
    if locale not in LOCALES:
        raise InvalidInput(f"unknown language '{locale}' (choose from {', '.join(LOCALES)})",
                           {"locale": ["unknown language"]})
    if user.locale != locale:
        audit.record("update", "user", user.id, user.username, {"locale": [user.locale, locale]})
        user.locale = locale
        db.session.commit()
    return user


def update_user(username: str, role: str, schools: list[str], name: str | None, email: str | None) -> User:
    """Change a user's role, schools, name and email with an audit event; the rules are create_user's."""
    user = get_user(username)
    if role not in UI_ROLES:
        raise InvalidInput(f"unknown role '{role}'", {"role": ["unknown role"]})
    if schools and role == Role.ADMIN:
        raise InvalidInput("an admin sees every school; give no school", {"schools": ["not for an admin"]})
    before = {"role": user.role, "schools": user.school_codes, "name": user.name, "email": user.email}
    user.schools = [school_by_code(code, "schools") for code in schools]
    user.role, user.name, user.email = role, name or None, email or None
    changes = audit.diff(before, {"role": role, "schools": user.school_codes, "name": user.name, "email": user.email})
    if changes:
        audit.record("update", "user", user.id, user.username, changes)
    db.session.commit()
    return user


def get_user(username: str) -> User:
    """The user with this username, or NotFound."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user '{username}'", {"username": ["unknown"]})
    return user


def load_user(user_id: int) -> User | None:
    """The active user with this id, or None (the session of a disabled user ends with its next request)."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.active and user.role in UI_ROLES else None


def list_users() -> list[User]:
    """Every user, by username."""
    return list(db.session.scalars(select(User).order_by(User.username)))


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password needs at least {MIN_PASSWORD_LENGTH} characters",
                           {"password": [f"at least {MIN_PASSWORD_LENGTH} characters"]})
