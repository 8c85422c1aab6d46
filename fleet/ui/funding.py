"""Pages: funding (Förderung) — the grants' figures with a burn chart each, the rule findings, the report files,
and one grant (Bescheid) by school, category and room with its findings and invoices."""

import io
from datetime import date
from decimal import Decimal

from flask import abort, render_template, request, send_file
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from provisioning import grants as grant_service
from provisioning import report_files
from provisioning.checks import RULES, NoCarrier
from provisioning.facts import RuleFinding
from provisioning.grants import GrantNotFound
from provisioning.purchase_queries import list_purchases, purchase_dict
from provisioning.report import GrantFigures, Report, build_report

from . import bp
from .access import requires, visible_schools
from .i18n import euro
from .nav import nav
from .paging import PER_PAGE, paging
from .schools import KINDS
from .svg import Segment, burn_chart

nav("ui.funding", _l("Funding"), "read", 60)

SEVERITIES = {"error": _l("error"), "risk": _l("repayment risk"), "warning": _l("note")}
CATEGORIES = {"network": _l("network"), "wlan": _l("WLAN"), "server": _l("server"),
              "platform": _l("learning platform"), "display": _l("display equipment"),
              "work_equipment": _l("work equipment"), "mobile": _l("mobile devices"), "": _l("no category")}
COST_BASES = {"gross": _l("gross"), "net": _l("net")}
# The segments of a burn bar, left to right: money out of the notice first, then what is bound, then what is left.
SEGMENTS = {"reimbursed": _l("already reimbursed"), "requested": _l("requested now"),
            "cut": _l("invoiced share beyond the notice"), "committed": _l("committed (share of orders)"),
            "remaining": _l("remaining")}
MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv; charset=utf-8"}


def _today() -> date:
    return date.today()  # as the API and `fleet report funding` judge the rules


def _report(grant: str | None = None) -> Report:
    try:
        return build_report(_today(), grant, visible_schools())
    except GrantNotFound:
        abort(404, _("There is no grant %(ref)s.", ref=grant))


def _visible_grant(ref: str) -> None:
    """404 for an unknown grant, 403 for one of none of the user's schools (as the API's report)."""
    try:
        view = grant_service.get_grant(ref)
    except GrantNotFound:
        abort(404, _("There is no grant %(ref)s.", ref=ref))
    visible = visible_schools()
    if visible is not None and not set(view.grant.school_codes) & set(visible):
        abort(403, _("You are limited to the schools %(schools)s.", schools=", ".join(visible)))


def segments(figures: GrantFigures) -> list[Segment]:
    """The burn bar of a grant, in the report's own figures."""
    sums = figures.sums
    amounts = {"reimbursed": sums.reimbursed, "requested": figures.requested_now, "cut": figures.cut,
               "committed": sums.committed_share, "remaining": figures.remaining}
    return [Segment(name, amount, f"{SEGMENTS[name]}: {euro(amount)}") for name, amount in amounts.items()]


def burn(figures: GrantFigures):
    """The SVG bar of one grant, described in words."""
    ref = figures.grant.ref
    parts = segments(figures)
    words = "; ".join(segment.text for segment in parts if segment.amount)
    beyond = (" " + _("%(amount)s beyond the approved amount.", amount=euro(figures.beyond_approved))
              if figures.beyond_approved else "")
    return burn_chart(ref, figures.grant.amount, parts, _("Funding burn of %(ref)s", ref=ref),
                      _("Approved %(amount)s: %(parts)s.", amount=euro(figures.grant.amount), parts=words) + beyond,
                      _("approved %(amount)s", amount=euro(figures.grant.amount)))


def sentence(finding: RuleFinding) -> str:
    """The finding's sentence in the language of the page."""
    return finding.de if str(get_locale() or "de") == "de" else finding.en


def _chosen(findings: list[RuleFinding]) -> tuple[dict, list[RuleFinding]]:
    """The findings filter from the query string, checked against what is there, and the findings it keeps."""
    wanted = {"rule": request.args.get("rule", ""), "severity": request.args.get("severity", ""),
              "school": request.args.get("school", "")}
    chosen = {"rule": wanted["rule"] if wanted["rule"] in RULES else "",
              "severity": wanted["severity"] if wanted["severity"] in SEVERITIES else "",
              "school": wanted["school"] if wanted["school"] in {f.school for f in findings if f.school} else ""}
    kept = [f for f in findings if (not chosen["rule"] or f.rule == chosen["rule"])
            and (not chosen["severity"] or f.severity == chosen["severity"])
            and (not chosen["school"] or f.school == chosen["school"])]
    return chosen, kept


def _common() -> dict:
    return {"severities": SEVERITIES, "categories": CATEGORIES, "cost_bases": COST_BASES, "segments": SEGMENTS,
            "kinds": KINDS, "sentence": sentence, "burn": burn}


@bp.get("/funding", endpoint="funding")
@requires("read")
def funding_page():
    """Every grant the user may see with its figures and burn chart, the rule findings, the report files."""
    try:
        report = _report()
    except NoCarrier:
        return render_template("ui/funding.html", report=None, **_common())
    chosen, findings = _chosen(report.findings)
    schools = sorted({f.school for f in report.findings if f.school})
    rules = [rule for rule in RULES if any(f.rule == rule for f in report.findings)]
    return render_template("ui/funding.html", report=report, findings=findings, chosen=chosen,
                           finding_schools=schools, finding_rules=rules, **_common())


@bp.get("/funding/grants/<path:ref>", endpoint="grant")
@requires("read")
def grant_page(ref: str):
    """One grant: its figures, per school and category, per room, its findings and its invoices."""
    _visible_grant(ref)
    try:
        report = _report(ref)
    except NoCarrier:
        abort(404, _("There is no grant %(ref)s.", ref=ref))
    figures = next(iter(report.grants), None)
    if figures is None:
        abort(404, _("There is no grant %(ref)s.", ref=ref))
    visible = visible_schools()
    per_page = request.args.get("per_page", type=int)
    per_page = per_page if per_page in PER_PAGE else 50
    wanted = max(request.args.get("page", type=int) or 1, 1)
    count, invoices = list_purchases(grant=ref, visible=visible, page=wanted, per_page=per_page)
    pages = paging(count)
    if pages.page != wanted:
        count, invoices = list_purchases(grant=ref, visible=visible, page=pages.page, per_page=per_page)
    return render_template("ui/grant.html", report=report, figures=figures, p=pages,
                           invoices=[_invoice(invoice, visible) for invoice in invoices], **_common())


def _invoice(purchase, visible: list[str] | None) -> dict:
    """An invoice row: the API's figures, with real dates and amounts for the page's filters."""
    shown = purchase_dict(purchase, visible)
    return {**shown, "invoice_date": purchase.invoice_date, "paid_date": purchase.paid_date,
            "reimbursed_date": purchase.reimbursed_date, "net": Decimal(shown["net"]), "gross": Decimal(shown["gross"])}


@bp.get("/funding/report.<fmt>", endpoint="funding_report")
@requires("read")
def report_file(fmt: str):
    """The proof-of-use workbook (xlsx) or its device list (csv), for every grant or ?grant=REF."""
    if fmt not in MEDIA:
        abort(404)
    grant = request.args.get("grant") or None
    if grant is not None:
        _visible_grant(grant)
    try:
        report = _report(grant)
    except NoCarrier:
        abort(404, _("There is nothing to report before the schools are set up."))
    data = report_files.write_xlsx(report) if fmt == "xlsx" else report_files.write_csv(report)
    return send_file(io.BytesIO(data), mimetype=MEDIA[fmt], as_attachment=True,
                     download_name=f"foerderbericht-{_file_part(grant)}.{fmt}")


def _file_part(grant: str | None) -> str:
    # as the API names its downloads
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in grant) if grant else "alle"
