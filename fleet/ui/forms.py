"""The web UI's forms; each carries a CSRF token (Flask-WTF)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

# Each language named in itself, and marked so, for screen readers.
LANGUAGES = [SelectChoice("de", "Deutsch", render_kw={"lang": "de"}),
             SelectChoice("en", "English", render_kw={"lang": "en"})]


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Enter your username.")), Length(max=80)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=LANGUAGES)
    next = HiddenField()


class LogoutForm(FlaskForm):
    """Signing out changes state, so it is a POST with a CSRF token, never a link."""
