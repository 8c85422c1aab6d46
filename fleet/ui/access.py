"""Who is signed in to the web UI, and what their role lets them see and do (as the API's require())."""

import functools
import hashlib
from dataclasses import dataclass

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user, login_required

from inventory.enums import Role
from inventory.models import User

from ..extensions import login_manager
from .labels import ROLES, label

# Mirrors fleet.auth.require(); agents never sign in to the UI, so they have no row here.
ACTIONS = {
    Role.ADMIN: frozenset({"read", "write", "admin", "funding", "observe"}),
    Role.SUPPORT: frozenset({"read", "write"}),
    Role.FINANCE: frozenset({"read", "funding"}),
    Role.VIEWER: frozenset({"read"}),
}


@dataclass(frozen=True)
class SignedIn:
    """The signed-in user as Flask-Login needs it, detached from the database session."""

    id: int
    username: str
    name: str | None
    role: str
    locale: str | None
    school_codes: tuple[str, ...]
    session_id: str

    is_authenticated = True
    is_active = True
    is_anonymous = False

    @classmethod
    def of(cls, user: User) -> "SignedIn":
        return cls(user.id, user.username, user.name, user.role, user.locale, tuple(user.school_codes),
                   session_id(user))

    def get_id(self) -> str:
        return self.session_id

    @property
    def display_name(self) -> str:
        return self.name or self.username


def session_id(user: User) -> str:
    """What the session cookie names the user by: a new password ends every session signed in with the old one."""
    return f"{user.id}.{hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]}"


def may(action: str, school: str | None = None) -> bool:
    """Whether the signed-in user's role allows action, within school if given."""
    if not current_user.is_authenticated or action not in ACTIONS.get(current_user.role, ()):
        return False
    if school is None or current_user.role == Role.ADMIN:
        return True
    return not current_user.school_codes or school in current_user.school_codes


def ui_require(action: str, school: str | None = None) -> None:
    """Allow the signed-in user to do action ('read', 'write', 'admin', 'funding'), else a 403 page."""
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    if action not in ACTIONS.get(current_user.role, ()):
        abort(403, _("Your role (%(role)s) does not allow this page.", role=label(ROLES, current_user.role)))
    if not may(action, school):
        abort(403, _("You are limited to the schools %(schools)s.", schools=", ".join(current_user.school_codes)))


def requires(action: str):
    """View decorator: signed in, and ui_require(action)."""
    def decorate(view):
        @functools.wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            ui_require(action)
            return view(*args, **kwargs)
        return wrapper
    return decorate


def visible_schools() -> list[str] | None:
    """The school codes the signed-in user may see, or None for every school."""
    if current_user.role == Role.ADMIN or not current_user.school_codes:
        return None
    return list(current_user.school_codes)
