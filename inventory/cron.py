"""Crontab schedules read the way cron reads them, as APScheduler 3 triggers, and the time zone they are read in.

APScheduler's own `CronTrigger.from_crontab` counts weekdays from Monday (0 = Monday), where cron counts from
Sunday, and demands both day of month and weekday where cron takes either; schools.yaml is written for cron.
"""

import re
from datetime import tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from .errors import InvalidInput

DEFAULT_TIMEZONE = "Europe/Berlin"  # FLEET_TIMEZONE: schedules and rollout days are the schools' local time

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab numbering: 0 and 7 are Sunday
_ITEM = re.compile(r"(?:\*|(?P<first>\w+)(?:-(?P<last>\w+))?)(?:/(?P<step>\d+))?")


def _day(token: str) -> int:
    token = token.lower()
    if token.isdigit() and int(token) <= 7:
        return int(token)
    if token in _DAYS:
        return _DAYS.index(token)
    raise ValueError(f"'{token}' is not a weekday (0-7 or sun-sat)")


def cron_weekdays(field: str) -> str:
    """A crontab weekday field as APScheduler 3 reads it: names, because its numbers count from Monday."""
    days: set[int] = set()
    for item in field.split(","):
        match = _ITEM.fullmatch(item)
        if match is None:
            raise ValueError(f"'{item}' is not a weekday, range or step")
        first = _day(match["first"]) if match["first"] else 0
        last = _day(match["last"]) if match["last"] else (first if match["first"] and not match["step"] else 6)
        if last == 0 and first > 0:  # fri-sun: Sunday closes the week
            last = 7
        step = int(match["step"] or 1)
        if first > last or step < 1:
            raise ValueError(f"'{item}' is not a weekday range")
        days.update(day % 7 for day in range(first, last + 1, step))
    return "*" if len(days) == 7 else ",".join(_DAYS[day] for day in sorted(days))


def cron_trigger(expr: str, timezone: tzinfo | str) -> BaseTrigger:
    """A trigger that fires when cron would fire `expr` (minute hour day month weekday) in timezone."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"it has {len(fields)} fields, cron needs 5")
    minute, hour, day, month, weekday = fields
    weekdays = cron_weekdays(weekday)

    def cron(day: str, weekdays: str) -> CronTrigger:
        return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=weekdays, timezone=timezone)

    if not day.startswith("*") and not weekday.startswith("*"):
        # cron fires on the day of the month *or* the weekday; one APScheduler trigger would demand both
        return OrTrigger([cron(day, "*"), cron("*", weekdays)])
    return cron(day, weekdays)


def zone(name: str) -> ZoneInfo:
    """The IANA time zone FLEET_TIMEZONE names, or InvalidInput."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone '{name}' (FLEET_TIMEZONE; e.g. Europe/Berlin)",
                           {"timezone": name}) from None
