"""Admin: the people who may sign in (more administration joins this page later)."""

from flask import render_template
from flask_babel import lazy_gettext as _l

from inventory.db import utcnow
from inventory.users import list_users

from . import bp
from .access import requires
from .nav import nav

nav("ui.admin", _l("Admin"), "admin", 90)


@bp.get("/admin", endpoint="admin")
@requires("admin")
def admin_page():
    """Users with their role, schools and last sign-in; admins only."""
    return render_template("ui/admin.html", users=list_users(), now=utcnow())
