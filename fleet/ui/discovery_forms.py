"""Pages: the review queue of findings, one finding, and the actions on them (accept, ignore, link, reopen, bulk)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from discovery import findings as service
from inventory.db import db
from inventory.errors import FleetError, InvalidInput, NotFound
from inventory.models import Device, Room
from inventory.queries import LIST_FIELDS, device_page

from . import bp, local_path
from .access import may, requires, ui_require, visible_schools
from .discovery import DEVICE_KINDS, FINDING_KINDS, FINDING_STATUSES, chosen, paged, school_choices, school_filter
from .nav import nav
from .paging import paging

nav("ui.findings", _l("Findings"), "read", 41)

ACTIONS = {"accept": _l("Accept"), "ignore": _l("Ignore"), "link": _l("Link to a device"), "reopen": _l("Reopen")}
SEEN_WORDS = {"ip": _l("IP address"), "mac": _l("MAC address"), "serial": _l("Serial number"),
              "hostname": _l("Host name"), "kind": _l("Kind"), "vendor": _l("Vendor"), "model": _l("Model"),
              "where": _l("Where in the network"), "room": _l("Room")}
SEARCH_LIMIT = 10  # devices offered when linking; the search narrows, it does not browse


class NotYours(FleetError):
    """The finding belongs to a school the signed-in user may not change."""

    status = 403


def guard(school_code: str) -> None:
    """Refuse, as a FleetError the bulk action lists per finding, a school the user may not write to."""
    if not may("write", school_code):
        raise NotYours(_("You may not change findings of %(school)s.", school=school_code))


def _finding_or_404(finding_id: int):
    try:
        finding = service.get_finding(finding_id)
    except NotFound:
        abort(404)
    ui_require("read", finding.school.code)
    return finding


@bp.get("/discovery/findings", endpoint="findings")
@requires("read")
def findings():
    """The review queue: open findings unless the status filter says otherwise, newest first."""
    schools = school_choices()
    codes = school_filter(schools)
    status = chosen("status", FINDING_STATUSES) or ["open"]
    filters = {"school": codes, "kind": chosen("kind", FINDING_KINDS) or None, "status": status,
               "run": request.args.get("run", type=int)}
    if codes == []:
        rows, p = [], paging(0)
    else:
        result, p = paged(service.list_findings, **filters)
        rows = result.results
    return render_template("ui/findings.html", findings=rows, p=p, schools=schools, kinds=FINDING_KINDS,
                           statuses=FINDING_STATUSES, actions=ACTIONS, status=status, run=filters["run"],
                           filters={name: request.args.getlist(name) for name in ("school", "kind")},
                           may_write=any(may("write", code) for code, _ in schools), devices=device_labels(rows))


def device_labels(rows) -> dict[int, str]:
    """The short name of each device the findings concern, in one query for the page."""
    ids = sorted({f.device_id for f in rows if f.device_id})
    if not ids:
        return {}
    query = select(Device.id, Device.hostname, Device.asset_tag, Device.serial, Device.kind).where(Device.id.in_(ids))
    return {i: hostname or tag or serial or f"{kind} #{i}"
            for i, hostname, tag, serial, kind in db.session.execute(query)}


@bp.get("/discovery/findings/<int:finding_id>", endpoint="finding")
@requires("read")
def finding(finding_id: int):
    """One finding: what was seen, the device it concerns, and the forms to act on it."""
    item = _finding_or_404(finding_id)
    rooms = db.session.execute(select(Room.code, Room.name).where(Room.school_id == item.school_id)
                               .order_by(Room.code)).all()
    q = (request.args.get("q") or "").strip()[:120]
    candidates = []
    if q:
        found = device_page({"q": q, "school": visible_schools()} if visible_schools() is not None else {"q": q},
                            None, 1, SEARCH_LIMIT)
        candidates = [dict(zip(LIST_FIELDS, row)) for row in found.results]
    return render_template("ui/finding.html", finding=item, rooms=rooms, q=q, candidates=candidates,
                           kinds=FINDING_KINDS, statuses=FINDING_STATUSES, may_write=may("write", item.school.code),
                           seen_words=SEEN_WORDS, device_kinds=DEVICE_KINDS)


def _options(action: str, form) -> dict:
    """The action's options from a form; empty fields are left out."""
    if action == "accept":
        return {"room": (form.get("room") or "").strip() or None}
    if action == "ignore":
        return {"note": (form.get("note") or "").strip()[:2000] or None}
    if action == "link":
        device = (form.get("device") or "").strip()
        if not device.isdigit():
            raise InvalidInput(_("Enter the number of the device to link to."))
        return {"device": int(device)}
    return {}


def _done(action: str, count: int) -> str:
    words = {"accept": ngettext("%(num)d finding accepted", "%(num)d findings accepted", count),
             "ignore": ngettext("%(num)d finding ignored", "%(num)d findings ignored", count),
             "link": ngettext("%(num)d finding linked", "%(num)d findings linked", count),
             "reopen": ngettext("%(num)d finding reopened", "%(num)d findings reopened", count)}
    return words[action]


@bp.post("/discovery/findings/<int:finding_id>/<action>", endpoint="finding_action")
@requires("write")
def finding_action(finding_id: int, action: str):
    """Accept, ignore, link or reopen one finding; a refusal is shown and changes nothing."""
    if action not in ACTIONS:
        abort(404)
    item = _finding_or_404(finding_id)
    ui_require("write", item.school.code)
    back = local_path(request.form.get("next"), url_for("ui.finding", finding_id=finding_id))
    try:
        service.act(action, finding_id, guard=guard, **_options(action, request.form))
    except NotYours as refused:
        abort(403, refused.message)
    except FleetError as error:
        db.session.rollback()
        flash(_("Refused: %(reason)s", reason=error.message), "error")
        return redirect(url_for("ui.finding", finding_id=finding_id))
    flash(_done(action, 1), "success")
    return redirect(back)


@bp.post("/discovery/findings/bulk", endpoint="findings_bulk")
@requires("write")
def findings_bulk():
    """One action over the ticked findings: all of them, or none and every refusal is shown."""
    action = request.form.get("action")
    ids = sorted({int(i) for i in request.form.getlist("ids") if i.isdigit()})
    back = local_path(request.form.get("next"), url_for("ui.findings"))
    if action not in ACTIONS:
        flash(_("Choose what to do with the ticked findings."), "error")
        return redirect(back)
    if not ids:
        flash(_("Tick at least one finding."), "error")
        return redirect(back)
    try:
        done = service.bulk(action, ids, guard=guard, **_options(action, request.form))
    except service.BulkRejected as rejected:
        db.session.rollback()
        if rejected.status == 403:
            abort(403, " ".join(refusal["message"] for refusal in rejected.fields["ids"]))
        flash(_("Nothing was changed: %(refused)s of %(total)s findings were refused.",
                refused=len(rejected.fields["ids"]), total=len(ids)), "error")
        for refusal in rejected.fields["ids"]:
            flash(_("Finding %(id)s: %(reason)s", id=refusal["id"], reason=refusal["message"]), "error")
        return redirect(back)
    except FleetError as error:
        db.session.rollback()
        flash(_("Refused: %(reason)s", reason=error.message), "error")
        return redirect(back)
    flash(_done(action, len(done)), "success")
    return redirect(back)

