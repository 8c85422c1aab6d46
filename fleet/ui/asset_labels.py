"""Etiketten: printable asset labels with a QR code, for the devices a device-list filter or a selection names."""

from dataclasses import dataclass

import segno
from flask import abort, current_app, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.routing import BuildError

from inventory.db import db
from inventory.enums import DeviceKind, DeviceStatus
from inventory.errors import FleetError, UnknownSchool
from inventory.models import Carrier, Device, Room, School
from inventory.queries import LIST_FIELDS, device_page

from . import bp
from .access import requires, ui_require, visible_schools
from .devices import KINDS
from .labels import DEVICE_STATUSES, label
from .nav import nav

nav("ui.labels", _l("Labels"), "read", 70)

MAX_LABELS = 1000  # one print job; more would make a page browsers struggle to lay out and print
PREVIEW = 25


@dataclass(frozen=True)
class SheetFormat:
    """A sheet of labels, every length in millimetres."""

    code: str
    title: object
    columns: int
    rows: int
    width: float
    height: float
    margin_top: float = 0
    margin_left: float = 0
    gap_x: float = 0
    gap_y: float = 0
    page_width: float = 210
    page_height: float = 297

    @property
    def per_sheet(self) -> int:
        """How many labels one sheet holds."""
        return self.columns * self.rows


FORMATS = {f.code: f for f in (
    SheetFormat("a4-3x8", _l("A4, 3 × 8 labels of 70 × 37 mm (like Zweckform 3474)"), 3, 8, 70, 37, margin_top=0.5),
    SheetFormat("a4-2x7", _l("A4, 2 × 7 labels of 105 × 42.3 mm (like Zweckform 3653)"), 2, 7, 105, 42.3,
                margin_top=0.45),
    SheetFormat("a4-3x7", _l("A4, 3 × 7 labels of 70 × 42.3 mm (like Zweckform 3652)"), 3, 7, 70, 42.3,
                margin_top=0.45),
)}
DEFAULT_FORMAT = "a4-3x8"


@dataclass(frozen=True)
class Selection:
    """What the query string asks for: device-list filters, or explicit ids."""

    filters: dict
    ids: tuple[int, ...]

    def query_args(self) -> list[tuple[str, str]]:
        """The selection as query arguments, to carry it from the choice page to the sheet."""
        args = [(name, value) for name in ("school", "room", "kind", "status") for value in self.filters.get(name, ())]
        args += [(name, self.filters[name]) for name in ("q", "grant") if self.filters.get(name)]
        if self.ids:
            args.append(("ids", ",".join(map(str, self.ids))))
        return args


def _values(name: str) -> list[str]:
    """A list argument, given repeated or comma-separated (as the device list links)."""
    return [part.strip() for value in request.args.getlist(name) for part in value.split(",") if part.strip()]


def _selection() -> Selection:
    """The selection in the query string, limited to what the signed-in user may see (403 otherwise)."""
    filters = {name: _values(name) for name in ("school", "room", "kind", "status")}
    filters["q"] = (request.args.get("q") or "").strip()[:120]
    filters["grant"] = (request.args.get("grant") or "").strip()[:60]
    ids = []
    for value in _values("ids"):
        if not value.isdigit():
            abort(400, _("The device selection is not a list of numbers."))
        ids.append(int(value))
    for code in filters["school"]:
        ui_require("read", code)
    visible = visible_schools()
    if visible is not None and not filters["school"]:
        filters["school"] = visible
    return Selection({name: value for name, value in filters.items() if value}, tuple(dict.fromkeys(ids)))


def _chosen_devices(selection: Selection, limit: int) -> tuple[int, list[dict]]:
    """How many devices the selection names, and up to limit of them as dicts; one query."""
    if selection.ids:
        return _devices_by_id(selection, limit)
    result = device_page(selection.filters, "school,room,asset_tag", 1, limit)
    return result.count, [dict(zip(LIST_FIELDS, row)) for row in result.results]


def _devices_by_id(selection: Selection, limit: int) -> tuple[int, list[dict]]:
    """The devices picked by id, in the order picked; another school's device is refused, not left out."""
    if len(selection.ids) > MAX_LABELS:
        return len(selection.ids), []  # too many to print anyway: no statement with thousands of parameters
    rows = db.session.execute(
        select(Device.id, Device.kind, Device.status, Device.vendor, Device.model, Device.serial, Device.asset_tag,
               Device.hostname, School.code.label("school"), Room.code.label("room"))
        .join(School, School.id == Device.school_id).outerjoin(Room, Room.id == Device.room_id)
        .where(Device.id.in_(selection.ids))).mappings().all()
    found = {row["id"]: dict(row) for row in rows}
    schools = selection.filters.get("school")
    for row in found.values():
        ui_require("read", row["school"])
        if schools and row["school"] not in schools:
            abort(403, _("The device %(id)s is not in the chosen schools.", id=row["id"]))
    devices = [found[device_id] for device_id in selection.ids if device_id in found]
    return len(devices), devices[:limit]


def _problem(error: FleetError) -> str:
    """The service's complaint about a selection, in the user's language where it is known."""
    if isinstance(error, UnknownSchool):
        return _("The filter names a school that does not exist.")
    return error.message


def _format() -> SheetFormat:
    return FORMATS.get(request.args.get("format", DEFAULT_FORMAT)) or FORMATS[DEFAULT_FORMAT]


def _skip(sheet: SheetFormat) -> int:
    value = request.args.get("skip", "0").strip()
    return min(int(value), sheet.per_sheet - 1) if value.isdigit() else 0


def device_url(device_id: int) -> str:
    """The address of the device's page on this server, which the QR code leads to."""
    if "ui.device" in current_app.view_functions:
        for argument in ("device_id", "id"):
            try:
                return url_for("ui.device", _external=True, **{argument: device_id})
            except BuildError:
                continue  # the page names its argument differently
    return f"{request.host_url}devices/{device_id}"


def qr_svg(text: str) -> str:
    """A QR code for text as inline SVG, sized by the stylesheet."""
    # A fixed mask: choosing the best of eight took six times as long, and a sheet of 1,000 labels waited seconds
    # for it; every mask is valid and scans, the choice only evens out light and dark a little.
    return segno.make_qr(text, error="m", mask=0).svg_inline(omitsize=True, border=1, svgclass="qr",
                                                             lineclass=None, title=text)


def _choices() -> dict:
    schools = visible_schools()
    query = select(School.code, School.name).order_by(School.code)
    if schools is not None:
        query = query.where(School.code.in_(schools))
    return {"schools": db.session.execute(query).all(), "kinds": [(kind.value, label(KINDS, kind.value))
                                                                   for kind in DeviceKind],
            "statuses": [(status.value, label(DEVICE_STATUSES, status.value)) for status in DeviceStatus]}


@bp.get("/labels", endpoint="labels")
@requires("read")
def labels_page():
    """Choose the devices, the sheet and the first free label; shows how many match and the first of them."""
    selection = _selection()
    error = None
    try:
        count, devices = _chosen_devices(selection, PREVIEW)
    except FleetError as failed:
        count, devices, error = 0, [], _problem(failed)
    return render_template("ui/labels.html", selection=selection, count=count, devices=devices, error=error,
                           formats=FORMATS.values(), sheet=_format(), skip=_skip(_format()), max_labels=MAX_LABELS,
                           kinds_map=KINDS, args=request.args, **_choices())


@bp.get("/labels/sheet", endpoint="labels_sheet")
@requires("read")
def labels_sheet():
    """The printable sheets: one box per label at its exact place, a QR code on each."""
    selection, sheet = _selection(), _format()
    skip = _skip(sheet)
    try:
        count, devices = _chosen_devices(selection, MAX_LABELS)
    except FleetError as failed:
        return render_template("ui/labels_sheet.html", sheet=sheet, pages=[], missing=[], count=0,
                               error=_problem(failed), selection=selection), 422
    if count > MAX_LABELS:
        error = _("%(count)s devices match, but one sheet request prints at most %(max)s labels. Narrow the filter, "
                  "e.g. to one school or room.", count=format_decimal(count), max=format_decimal(MAX_LABELS))
        return render_template("ui/labels_sheet.html", sheet=sheet, pages=[], missing=[], count=count,
                               error=error, selection=selection), 422
    carrier = db.session.scalar(select(Carrier.name).order_by(Carrier.id).limit(1))
    names = dict(db.session.execute(select(School.code, School.name)
                                    .where(School.code.in_({device["school"] for device in devices}))).all())
    labels = [None] * skip + [{**device, "school_name": names.get(device["school"], device["school"]),
                               "kind_label": label(KINDS, device["kind"]), "qr": qr_svg(device_url(device["id"]))}
                              for device in devices]
    pages = [labels[start:start + sheet.per_sheet] for start in range(0, len(labels), sheet.per_sheet)]
    missing = [device for device in devices if not device["asset_tag"]]
    return render_template("ui/labels_sheet.html", sheet=sheet, pages=pages, missing=missing, count=count,
                           carrier=carrier, error=None, selection=selection)
