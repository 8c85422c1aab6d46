"""/api/v1/devices/import and /export: the same files the CLI reads and writes."""

import io

from flask import request, send_file
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from inventory.errors import InvalidInput
from inventory.exporter import export_devices
from inventory.importer import import_file

from . import api_blueprint
from ..auth import allowed_schools, require

blp = api_blueprint("transfers", __name__, "devices", "Import and export device files", json_body=False)

FORMATS = ["csv", "xlsx", "linuxmuster"]
MEDIA = {"csv": "text/csv", "linuxmuster": "text/csv",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class ImportArgs(Schema):
    format = fields.String(validate=validate.OneOf(FORMATS))
    school = fields.String()
    dry_run = fields.Boolean(load_default=False)
    create_rooms = fields.Boolean(load_default=False)
    filename = fields.String(metadata={"description": "name of the uploaded file, for messages"})


class ImportOut(Schema):
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    rooms_created = fields.Integer()
    dry_run = fields.Boolean()
    lines = fields.List(fields.String())


class ExportArgs(Schema):
    format = fields.String(load_default="csv", validate=validate.OneOf(FORMATS))
    school = fields.String()


def _upload() -> tuple[bytes, str | None]:
    """The file from a multipart form field 'file', or the raw request body."""
    if request.mimetype == "multipart/form-data" and request.files:
        upload = request.files.get("file") or next(iter(request.files.values()))
        return upload.read(), upload.filename
    return request.get_data(), None


@blp.route("/import")
class DeviceImport(MethodView):
    @blp.arguments(ImportArgs, location="query", as_kwargs=True)
    @blp.response(200, ImportOut)
    def post(self, dry_run, create_rooms, format=None, school=None, filename=None):
        """Import a CSV, XLSX or linuxmuster file (multipart field `file` or the raw body); all or nothing."""
        require("write", school)
        data, uploaded_name = _upload()
        if not data:
            raise InvalidInput("no file was sent (multipart field 'file' or the request body)", {"file": ["empty"]})
        name = filename or uploaded_name or f"upload.{'csv' if format != 'xlsx' else 'xlsx'}"
        result = import_file(data, name, fmt=format, school=school, dry_run=dry_run, create_rooms=create_rooms,
                             allowed=allowed_schools())
        return {**result.as_dict(), "dry_run": dry_run}


@blp.route("/export")
class DeviceExport(MethodView):
    @blp.arguments(ExportArgs, location="query", as_kwargs=True)
    @blp.response(200, content_type="text/csv")
    def get(self, format, school=None):
        """Download devices as CSV, XLSX or linuxmuster devices.csv."""
        require("read")
        data = export_devices(format, school)
        suffix = "xlsx" if format == "xlsx" else "csv"
        name = f"devices-{school or 'all'}{'-linuxmuster' if format == 'linuxmuster' else ''}.{suffix}"
        return send_file(io.BytesIO(data), mimetype=MEDIA[format], as_attachment=True, download_name=name)
