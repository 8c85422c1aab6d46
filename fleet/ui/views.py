"""Signing in and out, the language switch, and the Übersicht."""

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from inventory import audit
from inventory.db import utcnow
from inventory.users import AccountLocked, LoginFailed, authenticate, get_user, set_locale

from . import bp, local_path
from .access import SignedIn, requires, visible_schools
from .forms import LanguageForm, LoginForm
from .i18n import moment
from .nav import nav
from .overview import DISPLAY_STATES, STATUSES, overview

nav("ui.overview", _l("Overview"), "read", 10)


@bp.get("/", endpoint="overview")
@requires("read")
def overview_page():
    """The Übersicht: one card per school the user may see."""
    data = overview(visible_schools(), current_app.config)
    return render_template("ui/overview.html", overview=data, statuses=STATUSES, display_states=DISPLAY_STATES)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in form; the same message for an unknown user and a wrong password."""
    form = LoginForm(next=request.args.get("next"))
    error = None
    if form.validate_on_submit():
        username = form.username.data.strip()
        try:
            with audit.acting_as(f"user:{username}"):
                user = authenticate(username, form.password.data, utcnow())
        except AccountLocked as locked:
            error = _("Too many failed sign-ins: this account is locked until %(until)s.", until=moment(locked.until))
        except LoginFailed:
            error = _("Unknown username or wrong password.")
        else:
            locale = session.get("locale")
            session.clear()  # nothing from before the sign-in carries over, except the language chosen
            if locale:
                session["locale"] = locale
            elif user.locale:
                session["locale"] = user.locale
            login_user(SignedIn.of(user))
            return redirect(local_path(form.next.data))
    elif current_user.is_authenticated and request.method == "GET":
        return redirect(local_path(request.args.get("next")))
    return render_template("ui/login.html", form=form, error=error), 200 if error is None else 401


@bp.post("/logout")
def logout():
    """Sign out; a POST, so the CSRF check guards it like every form."""
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    return redirect(url_for("ui.login"))


@bp.post("/language")
def language():
    """Switch the language for this session and, when signed in, for the user's next sessions too."""
    form = LanguageForm(prefix="language")
    if form.validate():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            set_locale(get_user(current_user.username), form.locale.data)
    return redirect(local_path(form.next.data, url_for("ui.login") if not current_user.is_authenticated else None))
