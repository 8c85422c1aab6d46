"""The Übersicht: per school, counts that tell a supporter where to look, each from one aggregated query."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import and_, case, func, or_, select

from discovery.models import DiscoveryRun, Finding, FindingStatus
from inventory.db import db
from inventory.enums import DeviceKind, DeviceStatus
from inventory.models import Device, School
from provisioning import rollouts
from provisioning.rollout import IN_SERVICE, Line

# The order statuses are listed in: from the plan to the shelf; retired devices are left out of the overview.
STATUSES = tuple(status.value for status in DeviceStatus if status != DeviceStatus.RETIRED)
DISPLAY_STATES = ("online", "not_seen", "missing")


@dataclass
class SchoolOverview:
    """What the Übersicht shows for one school."""

    code: str
    name: str
    devices: dict[str, int] = field(default_factory=dict)  # status → count, retired left out
    displays: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DISPLAY_STATES, 0))
    last_run: DiscoveryRun | None = None
    open_findings: int = 0
    rollout: Line = field(default_factory=lambda: Line(None))
    rooms: int = 0
    rooms_complete: int = 0
    rooms_behind: int = 0

    @property
    def device_total(self) -> int:
        return sum(self.devices.values())


@dataclass(frozen=True)
class Overview:
    schools: list[SchoolOverview]
    today: date
    verified_within_days: int


def overview(codes: list[str] | None, config, now: datetime | None = None) -> Overview:
    """The overview of these schools (None: every school), judged as of now in the schools' time zone."""
    days, zone = rollouts.settings(config)
    now = now or datetime.now(UTC)
    found = db.session.execute(select(School.id, School.code, School.name)
                               .where(*([School.code.in_(codes)] if codes is not None else []))
                               .order_by(School.code)).all()
    by_id = {id_: SchoolOverview(code, name) for id_, code, name in found}
    if not by_id:
        return Overview([], now.astimezone(zone).date(), days)
    ids = list(by_id)
    _devices_by_status(by_id, ids)
    _displays(by_id, ids, rollouts.verified_since(now.astimezone(zone).date(), days, zone))
    _last_runs(by_id, ids)
    _open_findings(by_id, ids)
    report = rollouts.room_rollout(codes, verified_within_days=days, zone=zone, now=now, grouped=True)
    for school in by_id.values():
        totals = report.rollout.schools.get(school.code)
        if totals is not None:
            school.rollout, school.rooms = totals.total, totals.rooms
            school.rooms_complete, school.rooms_behind = totals.complete, totals.behind
    return Overview(list(by_id.values()), report.today, days)


def _devices_by_status(by_id: dict[int, SchoolOverview], ids: list[int]) -> None:
    rows = db.session.execute(
        select(Device.school_id, Device.status, func.count())
        .where(Device.school_id.in_(ids), Device.status != DeviceStatus.RETIRED.value)
        .group_by(Device.school_id, Device.status))
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for school_id, status, count in rows:
        counts[school_id][status] = count
    for school_id, school in by_id.items():
        school.devices = {status: counts[school_id][status] for status in STATUSES if status in counts[school_id]}


def _displays(by_id: dict[int, SchoolOverview], ids: list[int], seen_since: datetime) -> None:
    """In service and seen lately (online) or not (not_seen), or reported missing; others are not on the wall."""
    in_service = Device.status.in_(sorted(IN_SERVICE))
    state = case(
        (Device.status == DeviceStatus.MISSING.value, "missing"),
        (and_(in_service, Device.last_seen_at >= seen_since), "online"),
        else_="not_seen")
    rows = db.session.execute(
        select(Device.school_id, state, func.count())
        .where(Device.school_id.in_(ids), Device.kind == DeviceKind.INTERACTIVE_DISPLAY.value,
               or_(in_service, Device.status == DeviceStatus.MISSING.value))
        .group_by(Device.school_id, state))
    for school_id, name, count in rows:
        by_id[school_id].displays[name] = count


def _last_runs(by_id: dict[int, SchoolOverview], ids: list[int]) -> None:
    latest = select(func.max(DiscoveryRun.id)).where(DiscoveryRun.school_id.in_(ids)).group_by(DiscoveryRun.school_id)
    for run in db.session.scalars(select(DiscoveryRun).where(DiscoveryRun.id.in_(latest))):
        by_id[run.school_id].last_run = run


def _open_findings(by_id: dict[int, SchoolOverview], ids: list[int]) -> None:
    rows = db.session.execute(
        select(Finding.school_id, func.count())
        .where(Finding.school_id.in_(ids), Finding.status == FindingStatus.OPEN.value)
        .group_by(Finding.school_id))
    for school_id, count in rows:
        by_id[school_id].open_findings = count
