"""Pages: Netzwerkerkennung — the discovery runs, one run with what it saw, and asking the scheduler for a run now."""

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from discovery import findings as service
from discovery.models import DiscoveryRun
from discovery.runs import COUNTED, QUEUED, RunPending, request_run
from inventory.db import db, utcnow
from inventory.errors import FleetError, NotFound
from inventory.models import School

from . import bp
from . import devices as _devices
from .access import may, requires, ui_require, visible_schools
from .i18n import moment
from .labels import RUN_STATUSES, TRIGGERS
from .nav import nav
from .paging import paging

nav("ui.discovery_runs", _l("Discovery"), "read", 40)

FINDING_KINDS = {"new": _l("new device"), "moved": _l("moved"), "missing": _l("missing"),
                 "conflict": _l("conflict"), "changed": _l("changed")}
FINDING_STATUSES = {"open": _l("open"), "accepted": _l("accepted"), "ignored": _l("ignored"),
                    "linked": _l("linked"), "resolved": _l("resolved"), service.ALL: _l("all")}
COUNT_WORDS = {"probed": _l("probed"), "alive": _l("answered"), "snmp": _l("SNMP"), "matched": _l("known"),
               "new": _l("new"), "moved": _l("moved"), "missing": _l("missing"), "conflict": _l("conflicts")}
DEVICE_KINDS = getattr(_devices, "KINDS", {})  # the device pages' words for kinds, where they have them
COUNTED_WORDS = [(name, COUNT_WORDS[name]) for name in COUNTED]
WAIT_HINT_AFTER = timedelta(minutes=1)  # a request older than this has not been seen by any scheduler


def school_choices() -> list[tuple[str, str]]:
    """(code, name) of the schools the signed-in user may see, by code."""
    query = select(School.code, School.name).order_by(School.code)
    if (codes := visible_schools()) is not None:
        query = query.where(School.code.in_(codes))
    return [tuple(row) for row in db.session.execute(query)]


def chosen(name: str, allowed) -> list[str]:
    """The values of a repeatable filter that are allowed; others are dropped, not an error."""
    return [value for value in request.args.getlist(name) if value in allowed]


def school_filter(schools: list[tuple[str, str]]) -> list[str] | None:
    """The chosen schools, else every visible one for a limited user, else None (all)."""
    picked = chosen("school", {code for code, _ in schools})
    return picked or ([code for code, _ in schools] if visible_schools() is not None else None)


def paged(fetch, **filters):
    """(page of results, Paging) for a service list function, the page kept inside the count."""
    per_page = paging(0).per_page
    result = fetch(page=max(request.args.get("page", type=int) or 1, 1), per_page=per_page, **filters)
    p = paging(result.count)
    if p.page != result.page:
        result = fetch(page=p.page, per_page=per_page, **filters)
    return result, p


def queued_runs(codes: list[str] | None) -> list[DiscoveryRun]:
    """The requests waiting for the scheduler, oldest first, in the given schools (None: all)."""
    query = select(DiscoveryRun).join(School).where(DiscoveryRun.status == QUEUED).order_by(DiscoveryRun.id)
    if codes is not None:
        query = query.where(School.code.in_(codes))
    return list(db.session.scalars(query))


@bp.get("/discovery", endpoint="discovery_runs")
@requires("read")
def discovery_runs():
    """The discovery runs, newest first, with the requests still waiting for the scheduler on top."""
    schools = school_choices()
    codes = school_filter(schools)
    if codes == []:
        result, p = None, paging(0)
    else:
        filters = {"school": codes, "status": chosen("status", RUN_STATUSES) or None,
                   "trigger": chosen("trigger", TRIGGERS) or None}
        result, p = paged(service.list_runs, **filters)
    waiting = queued_runs(codes) if codes != [] else []
    writable = [(code, name) for code, name in schools if may("write", code)]
    return render_template("ui/discovery_runs.html", runs=result.results if result else [], p=p, schools=schools,
                           writable=writable, waiting=waiting, statuses=RUN_STATUSES, triggers=TRIGGERS,
                           counted=COUNTED_WORDS,
                           filters={name: request.args.getlist(name) for name in ("school", "status", "trigger")},
                           stale_before=utcnow() - WAIT_HINT_AFTER)


@bp.post("/discovery/request", endpoint="discovery_request")
@requires("read")
def discovery_request():
    """Ask the scheduler process for a run of one school now; a web worker never sweeps itself."""
    code = (request.form.get("school") or "").strip()
    school = db.session.scalar(select(School).where(School.code == code))
    if school is None:
        abort(404, _("There is no school with the code %(code)s.", code=code))
    ui_require("write", code)
    try:
        run = request_run(code)
    except RunPending as pending:
        words = {QUEUED: _("A run of %(school)s is already waiting for the scheduler (requested %(when)s)."),
                 "running": _("A run of %(school)s is under way since %(when)s; wait until it has finished.")}
        when = pending.run.created_at if pending.run.status == QUEUED else pending.run.started_at
        message = words.get(pending.run.status, words["running"])
        flash(message % {"school": school.name, "when": moment(when)}, "error")
    except FleetError as error:
        flash(_("The run could not be requested: %(reason)s", reason=error.message), "error")
    else:
        flash(_("Run %(id)s of %(school)s is queued; the scheduler starts it within a few seconds.",
                id=run.id, school=school.name), "success")
    return redirect(url_for("ui.discovery_runs"))


@bp.get("/discovery/runs/<int:run_id>", endpoint="discovery_run")
@requires("read")
def discovery_run(run_id: int):
    """One run: its counts, per-host errors, how its findings stand, and its observations, paged."""
    try:
        run = service.get_run(run_id)
    except NotFound:
        abort(404)
    ui_require("read", run.school.code)
    observations, p = paged(lambda **page: service.list_observations(run_id, **page))
    return render_template("ui/discovery_run.html", run=run, statuses=RUN_STATUSES, counted=COUNTED_WORDS,
                           findings=service.run_findings(run_id), observations=observations.results, p=p,
                           stale_before=utcnow() - WAIT_HINT_AFTER, finding_statuses=FINDING_STATUSES,
                           device_kinds=DEVICE_KINDS)


# The review queue's pages and actions live next door; imported here so their routes are registered with these.
from . import discovery_forms  # noqa: E402

__all__ = ["discovery_forms"]
