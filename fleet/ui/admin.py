"""Admin: the people who may sign in, API tokens and the schools.yaml sync; admins only."""

from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectChoice

from inventory.db import db, utcnow
from inventory.errors import FleetError
from inventory.models import School
from inventory.users import MIN_PASSWORD_LENGTH, list_users

from . import bp
from .access import requires
from .nav import nav

nav("ui.admin", _l("Admin"), "admin", 90)

# The services speak English to the CLI and the API; here each known complaint, by field, in the user's language.
_FIELD_MESSAGES = {
    ("username", "already taken"): lambda: _("This username is already taken."),
    ("username", "invalid"): lambda: _("A username has 1 to 80 characters and no spaces."),
    ("password", None): lambda: _("The password needs at least %(num)s characters.", num=MIN_PASSWORD_LENGTH),
    ("role", "unknown role"): lambda: _("Choose one of the roles offered."),
    ("schools", "not for an admin"): lambda: _("An administrator sees every school: choose no school."),
    ("school", "required"): lambda: _("An agent token needs exactly one school."),
    ("name", "already taken"): lambda: _("A token with this name exists already; names identify tokens."),
}


def service_errors(error: FleetError) -> dict[str, list[str]]:
    """The service's complaints per form field, translated where the message is known."""
    result = {}
    for field, messages in (error.fields or {}).items():
        for message in messages if isinstance(messages, list) else [messages]:
            known = _FIELD_MESSAGES.get((field, message)) or _FIELD_MESSAGES.get((field, None))
            result.setdefault(field, []).append(known() if known else str(message))
    if not result:
        result[""] = [error.message]
    return result


def show_errors(form, error: FleetError) -> list[str]:
    """Put the service's complaints on the form's fields; returns those no field of the form shows."""
    unplaced = []
    for field, messages in service_errors(error).items():
        target = getattr(form, "schools" if field == "school" else field, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = list(target.errors or []) + messages
        else:
            unplaced.extend(messages)
    return unplaced


def school_choices() -> list[SelectChoice]:
    """Every school for a multi-select, by code."""
    return [SelectChoice(code, f"{name} ({code})") for code, name in db.session.execute(
        select(School.code, School.name).order_by(School.code))]


@bp.get("/admin", endpoint="admin")
@requires("admin")
def admin_page():
    """Users with their role, schools and last sign-in; links to tokens and the sync."""
    return render_template("ui/admin.html", users=list_users(), now=utcnow())


# Their routes go on bp too; imported last because they import the helpers above.
from . import admin_sync, admin_tokens, admin_users  # noqa: E402

__all__ = ["admin_sync", "admin_tokens", "admin_users", "school_choices", "service_errors", "show_errors"]
