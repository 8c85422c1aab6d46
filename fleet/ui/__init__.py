"""The web UI: server-rendered pages for IT supporters and the carrier's staff, mounted at /."""

from urllib.parse import urlsplit

from flask import Blueprint, Flask, g, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from inventory import audit
from inventory.db import db
from inventory.users import load_user

from ..extensions import login_manager
from . import labels
from .access import SignedIn, may
from .charts import progress_bar
from .forms import LanguageForm, LogoutForm
from .i18n import DEFAULT_LOCALE, init_babel
from .nav import nav_items

bp = Blueprint("ui", __name__)


def local_path(target: str | None, default: str | None = None) -> str:
    """target if it is a path on this site, else default (the Übersicht): no redirect leaves the site."""
    if target:
        parts = urlsplit(target)
        if (target.startswith("/") and not target.startswith(("//", "/\\")) and not parts.scheme
                and not parts.netloc and "\\" not in target and not any(ord(c) < 32 for c in target)):
            return target
    return default or url_for("ui.overview")


def current_path() -> str:
    """The path and query of this request, for a `next` that brings the user back here."""
    return request.full_path.removesuffix("?")


@login_manager.user_loader
def _load(session_user: str) -> SignedIn | None:
    user_id = session_user.partition(".")[0]
    user = load_user(int(user_id)) if user_id.isdigit() else None
    if user is None:
        return None
    signed_in = SignedIn.of(user)
    return signed_in if signed_in.session_id == session_user else None


@login_manager.unauthorized_handler
def _to_login():
    return redirect(url_for("ui.login", next=current_path()))


@bp.before_request
def _act_as_user() -> None:
    if current_user.is_authenticated:
        g.ui_actor = audit.set_actor(f"user:{current_user.username}")


@bp.teardown_request
def _reset_actor(_exc=None) -> None:
    token = g.pop("ui_actor", None)
    if token is not None:
        audit.reset_actor(token)


@bp.context_processor
def _layout() -> dict:
    """What every page's header needs: the language and sign-out forms, the role checks for the navigation."""
    language = LanguageForm(formdata=None, prefix="language", locale=_current_locale(), next=current_path())
    return {"language_form": language, "logout_form": LogoutForm(formdata=None, prefix="logout"), "may": may,
            "progress_bar": progress_bar, "labels": labels, "nav_items": nav_items, "label": labels.label, "locale": _current_locale()}


def _current_locale() -> str:
    return str(get_locale() or DEFAULT_LOCALE)


@bp.errorhandler(CSRFError)
def _csrf_failed(_error: CSRFError):
    return _error_page(400, _("Bad request"), _("The form was too old or incomplete. Please go back, reload "
                                                "the page and try again."))


def _ui_http_error(error: HTTPException):
    titles = {403: _("Access denied"), 404: _("Page not found")}
    messages = {403: _("You may not see this page."), 404: _("There is no page at this address.")}
    # Werkzeug's own descriptions are English; a page that passed its own reason has translated it.
    own = error.description if error.description != type(error).description else None
    return _error_page(error.code, titles[error.code], own or messages[error.code])


def _error_page(status: int, title: str, message: str | None):
    db.session.rollback()
    return render_template("ui/error.html", title=title, message=message, status=status), status


for _status in (403, 404):
    bp.register_error_handler(_status, _ui_http_error)


def register_ui(app: Flask) -> None:
    """Bind the login manager and Babel, and mount the pages at /."""
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        # The session cookie signs people in: other sites' forms and frames do not get to send it along.
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    login_manager.init_app(app)
    init_babel(app)
    app.register_blueprint(bp)


# The pages put their routes on bp; imported last because they import bp from here.
from . import admin, asset_labels, devices, discovery, funding, schools, views  # noqa: E402

__all__ = ["admin", "asset_labels", "bp", "current_path", "devices", "discovery", "funding", "local_path",
           "register_ui", "schools", "views"]
