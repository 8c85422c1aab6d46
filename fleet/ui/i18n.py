"""Languages of the web UI: German by default, English on request; dates and euro amounts in the chosen locale."""

from decimal import Decimal

from flask import Flask, has_request_context, session
from flask_babel import format_currency, format_date, format_decimal, format_time
from flask_login import current_user

from inventory.cron import DEFAULT_TIMEZONE
from inventory.users import LOCALES

from ..extensions import babel

DEFAULT_LOCALE = "de"


def select_locale() -> str:
    """The language chosen in this session, else the signed-in user's, else German (Accept-Language is ignored)."""
    if not has_request_context():
        return DEFAULT_LOCALE
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    if current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    return DEFAULT_LOCALE


def euro(amount: Decimal | float | int | None) -> str:
    """An amount in euro as the locale writes it: 1.234,50 € or €1,234.50."""
    return "" if amount is None else format_currency(amount, "EUR")


def day(value) -> str:
    """A date (or the local date of a moment), e.g. 24.11.2026 or Nov 24, 2026."""
    return "" if value is None else format_date(value, "medium")


def moment(value) -> str:
    """A moment in the schools' time zone, to the minute: 24.11.2026 20:01 or Nov 24, 2026 8:01 PM."""
    return "" if value is None else f"{format_date(value, 'medium')} {format_time(value, 'short')}"


def number(value) -> str:
    return "" if value is None else format_decimal(value)


def init_babel(app: Flask) -> None:
    """Bind Babel with German as the default and the schools' time zone; register the format filters."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config.get("TIMEZONE") or DEFAULT_TIMEZONE)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters.update(euro=euro, day=day, moment=moment, number=number)
