"""/api/v1/funding/grants: the grants schools.yaml declares, read-only (admin, finance, support)."""

from decimal import Decimal

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from provisioning import grants as service

from . import api_blueprint
from ..auth import Forbidden, allowed_schools, require
from .schemas import MAX_ID

blp = api_blueprint("funding", __name__, "funding", "Funding: grants (Zuwendungsbescheide)")

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
