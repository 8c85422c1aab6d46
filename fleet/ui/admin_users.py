"""Admin: create users, change their role, schools, name and email, set a new password, disable and enable."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from inventory.db import db
from inventory.enums import Role
from inventory.errors import FleetError
from inventory.models import User
from inventory.users import UI_ROLES, create_user, set_active, set_password, update_user

from . import bp
from .access import requires
from .admin import school_choices, show_errors
from .admin_forms import ActiveForm, EnableForm, PasswordForm, UserCreateForm, UserEditForm


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.role not in UI_ROLES:
        abort(404)
    return user


def _with_schools(form):
    form.schools.choices = school_choices()
    return form


@bp.route("/admin/users/new", methods=["GET", "POST"], endpoint="admin_user_new")
@requires("admin")
def new_user():
    """Create a user who may sign in; the password is typed twice."""
    form = _with_schools(UserCreateForm())
    errors = []
    if form.validate_on_submit():
        try:
            user = create_user(form.username.data, form.password.data, form.role.data, form.schools.data,
                               name=form.name.data, email=form.email.data)
        except FleetError as error:
            db.session.rollback()
            errors = show_errors(form, error)
        else:
            flash(_("The user %(username)s was created and may sign in now.", username=user.username), "success")
            return redirect(url_for("ui.admin_user", user_id=user.id))
    status = 422 if form.is_submitted() else 200
    return render_template("ui/admin_user_new.html", form=form, errors=errors), status


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"], endpoint="admin_user")
@requires("admin")
def edit_user(user_id: int):
    """A user's role, schools, name and email; the forms for a new password and for disabling."""
    user = _user(user_id)
    posted = request.method == "POST"
    form = _edit_form(user, posted)
    errors = []
    if posted and form.validate_on_submit():
        if user.id == current_user.id and form.role.data != Role.ADMIN:
            errors = [_("You cannot take the administrator role from yourself; ask another administrator.")]
        else:
            try:
                update_user(user.username, form.role.data, form.schools.data, form.name.data, form.email.data)
            except FleetError as error:
                db.session.rollback()
                errors = show_errors(form, error)
            else:
                flash(_("The changes to %(username)s were saved.", username=user.username), "success")
                return redirect(url_for("ui.admin_user", user_id=user.id))
    return _user_page(user, form=form, errors=errors, status=422 if posted else 200)


def _edit_form(user: User, posted: bool) -> UserEditForm:
    """The edit form as sent, or filled from the user; another form's POST never fills it."""
    if posted:
        return _with_schools(UserEditForm(prefix="edit"))
    data = {"name": user.name, "email": user.email, "role": user.role, "schools": user.school_codes}
    return _with_schools(UserEditForm(formdata=None, prefix="edit", data=data))


def _user_page(user: User, status: int = 200, **forms):
    forms.setdefault("form", _edit_form(user, False))
    forms.setdefault("password_form", PasswordForm(formdata=None, prefix="password"))
    active = ActiveForm if user.active else EnableForm
    forms.setdefault("active_form", active(formdata=None, prefix="active"))
    forms.setdefault("errors", [])
    return render_template("ui/admin_user.html", user=user, **forms), status


@bp.post("/admin/users/<int:user_id>/password", endpoint="admin_user_password")
@requires("admin")
def user_password(user_id: int):
    """Give the user a new password: their sessions end and a lock is lifted."""
    user = _user(user_id)
    form = PasswordForm(prefix="password")
    if form.validate_on_submit():
        try:
            set_password(user.username, form.password.data)
        except FleetError as error:
            db.session.rollback()
            return _user_page(user, password_form=form, errors=show_errors(form, error), status=422)
        flash(_("%(username)s has a new password.", username=user.username), "success")
        return redirect(url_for("ui.admin_user", user_id=user.id))
    return _user_page(user, password_form=form, status=422)


@bp.post("/admin/users/<int:user_id>/active", endpoint="admin_user_active")
@requires("admin")
def user_active(user_id: int):
    """Disable (with confirmation) or enable a user."""
    user = _user(user_id)
    form = ActiveForm(prefix="active") if user.active else EnableForm(prefix="active")
    if not form.validate_on_submit():
        return _user_page(user, active_form=form, status=422)
    if user.active and user.id == current_user.id:
        return _user_page(user, active_form=form, status=422,
                          errors=[_("You cannot disable yourself; ask another administrator.")])
    set_active(user.username, not user.active)
    if user.active:
        flash(_("%(username)s may sign in again.", username=user.username), "success")
    else:
        flash(_("%(username)s can no longer sign in.", username=user.username), "success")
    return redirect(url_for("ui.admin_user", user_id=user.id))
