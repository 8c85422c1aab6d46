"""/api/v1/funding: the grants schools.yaml declares, the rule checks and the funding report; read-only (admin,
finance, support; a token limited to some schools sees those)."""

import io
from datetime import date
from decimal import Decimal

from flask import jsonify, send_file
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from provisioning import checks as checks_service
from provisioning import grants as service
from provisioning import report as report_service
from provisioning import report_files

from . import api_blueprint
from ..auth import Forbidden, allowed_schools, require
from .schemas import MAX_ID

blp = api_blueprint("funding", __name__, "funding",
                    "Funding: grants (Zuwendungsbescheide), rule checks R1–R10 and the report for the proof of use")

CENT = Decimal("0.01")


class GrantFilter(Schema):
    school = fields.List(fields.String())
    programme = fields.List(fields.String())
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_ID))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=1000))


def _date(**kw):
    return fields.Date(allow_none=True, **kw)


class GrantOut(Schema):
    ref = fields.String(metadata={"description": "Aktenzeichen"})
    programme = fields.String()
    schools = fields.List(fields.String())
    applied = _date()
    decided = fields.Date()
    amount = fields.String(metadata={"format": "decimal"})
    rate = fields.String(metadata={"format": "decimal"})
    project_end = _date()
    proof_due = _date(metadata={"description": "as written on the notice"})
    proof_due_effective = _date(metadata={"description": "the notice's date, else the programme's rule"})
    proof_submitted = _date()
    earmark_end = _date(metadata={"description": "end of the earmark counted from the project end"})
    devices = fields.Integer(metadata={"description": "devices naming the grant, retired ones included"})


class GrantPage(Schema):
    count = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    results = fields.List(fields.Nested(GrantOut))


def _rate(rate: Decimal) -> str:
    """0.9000 → '0.90', 0.8750 → '0.875': as a notice writes it."""
    return str(rate.quantize(CENT) if rate == rate.quantize(CENT) else rate.normalize())


def grant_dict(view: service.GrantView) -> dict:
    grant = view.grant
    return {"ref": grant.ref, "programme": grant.programme, "schools": grant.school_codes, "applied": grant.applied,
            "decided": grant.decided, "amount": str(grant.amount.quantize(CENT)), "rate": _rate(grant.rate),
            "project_end": grant.project_end, "proof_due": grant.proof_due, "proof_due_effective": view.proof_due,
            "proof_submitted": grant.proof_submitted, "earmark_end": view.earmark_end, "devices": view.devices}


@blp.route("/grants")
class Grants(MethodView):
    @blp.arguments(GrantFilter(), location="query", as_kwargs=True)
    @blp.response(200, GrantPage)
    def get(self, page, per_page, school=None, programme=None):
        """Grants by decision date; a token limited to some schools sees the grants of those schools."""
        require("read")
        for code in school or ():
            require("read", code)
        result = service.list_grants(school, programme, allowed_schools(), page, per_page)
        return {"count": result.count, "page": result.page, "per_page": result.per_page,
                "results": [grant_dict(view) for view in result.results]}


@blp.route("/grants/<path:ref>")
class GrantByRef(MethodView):
    @blp.response(200, GrantOut)
    def get(self, ref):
        """One grant by its Aktenzeichen."""
        require("read")
        view = service.get_grant(ref)
        visible = allowed_schools()
        if visible is not None and not set(view.grant.school_codes) & set(visible):
            raise Forbidden(f"this token is limited to {', '.join(visible)}; grant {ref} is for "
                            f"{', '.join(view.grant.school_codes)}")
        return grant_dict(view)


class CheckFilter(Schema):
    school = fields.List(fields.String())
    grant = fields.List(fields.String())
    rule = fields.List(fields.String(), metadata={"description": "R1 … R10"})


class RuleFindingOut(Schema):
    rule = fields.String()
    severity = fields.String(metadata={"enum": ["error", "risk", "warning"]})
    reason = fields.String()
    school = fields.String(allow_none=True)
    grant = fields.String(allow_none=True)
    programme = fields.String(allow_none=True)
    items = fields.List(fields.Raw(), metadata={"description": "device ids"})
    figures = fields.Dict(metadata={"description": "money and shares as decimal text, dates as ISO text"})
    de = fields.String()
    en = fields.String()


class ChecksOut(Schema):
    today = fields.String(metadata={"format": "date"})
    count = fields.Integer()
    results = fields.List(fields.Nested(RuleFindingOut))


@blp.route("/checks")
class Checks(MethodView):
    @blp.arguments(CheckFilter(), location="query", as_kwargs=True)
    @blp.response(200, ChecksOut)
    def get(self, school=None, grant=None, rule=None):
        """The funding rules R1–R10 on the carrier as it stands today; school, grant and rule narrow the findings."""
        require("read")
        for code in school or ():
            require("read", code)
        today = date.today()
        found = checks_service.findings(today, school, grant, rule, allowed_schools())
        return {"today": today.isoformat(), "count": len(found),
                "results": [checks_service.finding_dict(finding) for finding in found]}


REPORT_MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "csv": "text/csv; charset=utf-8"}


class ReportArgs(Schema):
    grant = fields.String(metadata={"description": "Aktenzeichen; without it, every grant"})
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "xlsx", "csv"]))


class ReportOut(Schema):
    today = fields.String(metadata={"format": "date"})
    carrier = fields.String()
    grant = fields.String(allow_none=True)
    paid_basis = fields.String()
    reimbursed_basis = fields.String()
    grants = fields.List(fields.Dict(), metadata={"description": "approved, committed, invoiced, paid, "
                                                                 "requested_now, remaining … per grant"})
    total = fields.Dict()
    schools = fields.List(fields.Dict(), metadata={"description": "per school and category"})
    rooms = fields.List(fields.Dict(), metadata={"description": "per school and room"})
    receipts = fields.Integer()
    unknown_grants = fields.Dict(keys=fields.String(), values=fields.Integer())
    findings = fields.List(fields.Nested(RuleFindingOut))


@blp.route("/report")
class FundingReport(MethodView):
    @blp.arguments(ReportArgs(), location="query", as_kwargs=True)
    @blp.response(200, ReportOut)
    def get(self, format, grant=None):
        """The funding report: per grant, per school and category, per room, the rule findings (JSON); format=xlsx
        gives the workbook for the proof of use, format=csv its Geräteliste. Money in JSON is decimal text."""
        require("read")
        visible = allowed_schools()
        if grant is not None and visible is not None:
            view = service.get_grant(grant)
            if not set(view.grant.school_codes) & set(visible):
                raise Forbidden(f"this token is limited to {', '.join(visible)}; grant {grant} is for "
                                f"{', '.join(view.grant.school_codes)}")
        report = report_service.build_report(date.today(), grant, visible)
        if format == "json":
            return jsonify(report_service.report_dict(report))
        data = report_files.write_xlsx(report) if format == "xlsx" else report_files.write_csv(report)
        name = f"foerderbericht-{_file_part(grant)}.{format}"
        return send_file(io.BytesIO(data), mimetype=REPORT_MEDIA[format], as_attachment=True, download_name=name)


def _file_part(grant: str | None) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in grant) if grant else "alle"
