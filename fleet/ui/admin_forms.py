"""The admin area's forms: users, API tokens, the schools.yaml sync; each carries a CSRF token."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, EmailField, PasswordField, SelectChoice, SelectField, SelectMultipleField,
                     StringField)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from inventory.enums import Role
from inventory.users import MIN_PASSWORD_LENGTH, UI_ROLES

from .labels import ROLES

TOKEN_ROLES = {**ROLES, "agent": _l("On-site agent")}


def _password_fields():
    first = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Enter a password.")),
        Length(min=MIN_PASSWORD_LENGTH, max=1024,
               message=_l("The password needs at least %(num)s characters.", num=MIN_PASSWORD_LENGTH))],
        render_kw={"autocomplete": "new-password"})
    second = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(_l("Repeat the password.")), EqualTo("password", _l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"})
    return first, second


class UserFields(FlaskForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[Optional(), Length(max=200),
                                                Regexp(r"^[^@\s]+@[^@\s]+$", message=_l("Enter an email address."))])
    role = SelectField(_l("Role"), choices=[SelectChoice(str(role), ROLES[role]) for role in UI_ROLES],
                       default=Role.VIEWER.value)
    schools = SelectMultipleField(_l("Schools"), choices=[], validate_choice=True,
                                  description=_l("None chosen: every school. Administrators always see every school."))


class UserCreateForm(UserFields):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Enter a username.")), Length(max=80)],
                           render_kw={"autocomplete": "off", "autocapitalize": "none"})
    password, password_again = _password_fields()


class UserEditForm(UserFields):
    """Name, email, role and schools; the username stays as it is, since the audit trail names users by it."""


class PasswordForm(FlaskForm):
    password, password_again = _password_fields()


class ActiveForm(FlaskForm):
    confirm = BooleanField(_l("Yes, stop this user signing in"),
                           validators=[DataRequired(_l("Tick the box to confirm."))])


class EnableForm(FlaskForm):
    """Allowing a user to sign in again needs no confirmation: it is undone as easily."""


class TokenCreateForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=80)],
                       description=_l("What the token is for, e.g. the import job; empty: a name is made up."))
    role = SelectField(_l("Role"), choices=[SelectChoice(role, title) for role, title in TOKEN_ROLES.items()],
                       default=Role.VIEWER.value)
    schools = SelectMultipleField(_l("Schools"), choices=[], validate_choice=True,
                                  description=_l("None chosen: every school. An agent token needs exactly one."))


class RevokeForm(FlaskForm):
    confirm = BooleanField(_l("Yes, revoke this token"), validators=[DataRequired(_l("Tick the box to confirm."))])


class SyncForm(FlaskForm):
    confirm = BooleanField(_l("Yes, apply schools.yaml to the database"),
                           validators=[DataRequired(_l("Tick the box to confirm."))])
