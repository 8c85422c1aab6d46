"""/api/v1/funding/purchases: invoices and their lines, one device per line. Reading needs 'read' (a token limited to
some schools sees invoices with a device there, and only those lines); writing needs 'funding' (admin, finance)."""

from flask import request
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from inventory.enums import FundingCategory
from inventory.errors import InvalidInput
from inventory.formats.records import MAX_AMOUNT
from provisioning import purchase_queries as queries
from provisioning import purchases as service
from provisioning.purchase_files import InvoiceRecord, LineRecord, read_invoices

from . import api_blueprint
from ..auth import Forbidden, allowed_schools, require
from .schemas import MAX_ID

blp = api_blueprint("purchases", __name__, "funding", "Funding: invoices (purchases) and the devices they list")
files = api_blueprint("purchases-import", __name__, "funding", "Funding: invoice files", json_body=False)


def _text(length: int, **kw):
    return fields.String(validate=validate.Length(min=1, max=length), **kw)


def _money(**kw):
    return fields.Decimal(places=2, as_string=True, validate=validate.Range(min=0, max=MAX_AMOUNT), **kw)


class PurchaseLineIn(Schema):
    device = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    serial = _text(80)
    asset_tag = _text(40)
    category = fields.String(allow_none=True, validate=validate.OneOf([c.value for c in FundingCategory]))
    grant = _text(60, allow_none=True)
    net = _money(required=True)
    gross = _money(required=True)

    @validates_schema
    def _names_a_device(self, data, **kwargs):
        if not any(data.get(name) for name in ("device", "serial", "asset_tag")):
            raise ValidationError("give the device's id, serial or asset tag", "device")
        if data.get("net") is not None and data.get("gross") is not None and data["gross"] < data["net"]:
            raise ValidationError(f"{data['gross']} is less than the net amount {data['net']}", "gross")


class PurchaseIn(Schema):
    supplier = _text(120, required=True)
    invoice_number = _text(80, required=True)
    invoice_date = fields.Date(required=True)
    paid_date = fields.Date(allow_none=True)
    reimbursed_date = fields.Date(allow_none=True, metadata={"description": "the Land paid out the funded share"})
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))
    lines = fields.List(fields.Nested(PurchaseLineIn), required=True, validate=validate.Length(min=1, max=5000))


class PurchasePatch(Schema):
    invoice_date = fields.Date()
    paid_date = fields.Date(allow_none=True)
    reimbursed_date = fields.Date(allow_none=True)
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))


class PurchaseFilter(Schema):
    grant = fields.String(metadata={"description": "invoices listing a device of this grant"})
    supplier = fields.String(metadata={"description": "part of the supplier's name, any case"})
    paid = fields.Boolean(metadata={"description": "true: with a payment date; false: without"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_ID))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class PurchaseLineOut(Schema):
    position = fields.Integer()
    device = fields.Integer()
    label = fields.String()
    school = fields.String()
    serial = fields.String(allow_none=True)
    asset_tag = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    net = fields.String(metadata={"format": "decimal"})
    gross = fields.String(metadata={"format": "decimal"})


class PurchaseOut(Schema):
    id = fields.Integer()
    supplier = fields.String()
    invoice_number = fields.String()
    invoice_date = fields.String(metadata={"format": "date"})
    paid_date = fields.String(allow_none=True, metadata={"format": "date"})
    reimbursed_date = fields.String(allow_none=True, metadata={"format": "date"})
    grant = fields.String(allow_none=True, metadata={"description": "the grant of every line, when they share one"})
    note = fields.String(allow_none=True)
    net = fields.String(metadata={"format": "decimal"})
    gross = fields.String(metadata={"format": "decimal"})
    line_count = fields.Integer()
    lines = fields.List(fields.Nested(PurchaseLineOut))


class PurchasePage(Schema):
    count = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    results = fields.List(fields.Nested(PurchaseOut))


class PurchaseImportArgs(Schema):
    filename = fields.String(metadata={"description": "for a raw body: its name tells csv from xlsx"})
    format = fields.String(validate=validate.OneOf(["csv", "xlsx"]))
    dry_run = fields.Boolean(load_default=False)


class PurchaseImportOut(Schema):
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    lines = fields.Integer()
    devices = fields.Integer()
    dry_run = fields.Boolean()


def _visible_purchase(purchase_id: int):
    """The invoice, if the caller may see it (a device of it in one of the caller's schools)."""
    require("read")
    purchase = service.get_purchase(purchase_id)
    visible = allowed_schools()
    if visible is not None and not {line.device.school.code for line in purchase.lines} & set(visible):
        raise Forbidden(f"this token is limited to {', '.join(visible)}; invoice {purchase_id} lists none of "
                        f"their devices")
    return purchase, visible


def _writable_purchase(purchase_id: int):
    """The invoice, if the caller may change it: 'funding', and every device it lists in the caller's schools."""
    require("funding")
    purchase, visible = _visible_purchase(purchase_id)
    outside = sorted({line.device.school.code for line in purchase.lines} - set(visible or ()))
    if visible is not None and outside:
        raise Forbidden(f"this token is limited to {', '.join(visible)}; invoice {purchase_id} also lists devices "
                        f"of {', '.join(outside)}")
    return visible


def _api_label(line: int, column: str) -> str:
    return f"lines[{line}].{column}"


@blp.route("/purchases")
class Purchases(MethodView):
    @blp.arguments(PurchaseFilter(), location="query", as_kwargs=True)
    @blp.response(200, PurchasePage)
    def get(self, page, per_page, grant=None, supplier=None, paid=None):
        """Invoices, newest first."""
        require("read")
        visible = allowed_schools()
        count, rows = queries.list_purchases(grant, supplier, paid, visible, page, per_page)
        return {"count": count, "page": page, "per_page": per_page,
                "results": [queries.purchase_dict(purchase, visible) for purchase in rows]}

    @blp.arguments(PurchaseIn)
    @blp.response(201, PurchaseOut)
    def post(self, data):
        """Record one invoice with its lines; a device already on another invoice is refused (422)."""
        require("funding")
        lines = tuple(LineRecord(index, line.get("serial"), line.get("asset_tag"), line.get("category"), line["net"],
                                 line["gross"], line.get("grant"), line.get("device"))
                      for index, line in enumerate(data["lines"]))
        record = InvoiceRecord(0, data["supplier"], data["invoice_number"], data["invoice_date"],
                               data.get("paid_date"), data.get("reimbursed_date"), data.get("note"), lines)
        service.import_invoices([record], _api_label, allowed=allowed_schools(), replace=False, keyed=True)
        return queries.purchase_dict(service.find_purchase(record.supplier, record.invoice))


@blp.route("/purchases/<int:purchase_id>")
class PurchaseById(MethodView):
    @blp.response(200, PurchaseOut)
    def get(self, purchase_id):
        """One invoice with its lines."""
        purchase, visible = _visible_purchase(purchase_id)
        return queries.purchase_dict(purchase, visible)

    @blp.arguments(PurchasePatch)
    @blp.response(200, PurchaseOut)
    def patch(self, data, purchase_id):
        """Record the payment or the reimbursement, correct the date or the note."""
        visible = _writable_purchase(purchase_id)
        return queries.purchase_dict(service.update_purchase(purchase_id, data), visible)

    @blp.response(204)
    def delete(self, purchase_id):
        """Remove an invoice; its devices keep their prices and count as committed again."""
        _writable_purchase(purchase_id)
        service.delete_purchase(purchase_id)


@files.route("/purchases/import")
class PurchaseImport(MethodView):
    @files.arguments(PurchaseImportArgs(), location="query", as_kwargs=True)
    @files.response(200, PurchaseImportOut)
    def post(self, dry_run, filename=None, format=None):
        """An invoice file (CSV or XLSX) as multipart field 'file' or as the raw body; all or nothing."""
        require("funding")
        upload = request.files.get("file")
        if upload is not None:
            data, filename = upload.read(), filename or upload.filename or "upload"
        else:
            data = request.get_data()
        if not data:
            raise InvalidInput("send the file as multipart field 'file' or as the body", {"file": ["required"]})
        filename = filename or "upload"
        if format is None and not filename.lower().endswith((".csv", ".txt", ".xlsx", ".xlsm")):
            raise InvalidInput("give format=csv or format=xlsx, or a filename ending in .csv or .xlsx",
                               {"format": ["required"]})
        records = read_invoices(data, filename, format)
        result = service.import_invoices(records, service.file_label(filename), dry_run=dry_run,
                                         allowed=allowed_schools())
        return {**result.as_dict(), "dry_run": dry_run}
