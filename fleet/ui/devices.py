"""Pages: the device list (Geräte) with its filtered exports, and one device (Gerät)."""

import io
from datetime import date
from urllib.parse import urlencode

from flask import abort, current_app, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from inventory import devices as service
from inventory import exporter
from inventory.db import db
from inventory.enums import DeviceKind, DeviceStatus
from inventory.errors import DeviceNotFound, FleetError
from inventory.formats import write_devices
from inventory.models import AuditEvent, Device, Room, School
from inventory.queries import LIST_FIELDS, device_page, matching
from provisioning.grants import earmark_end_of
from provisioning.models import PurchaseLine

from . import bp
from .access import may, requires, ui_require, visible_schools
from .labels import DEVICE_STATUSES, label
from .nav import nav
from .paging import PER_PAGE, Paging, paging

nav("ui.devices", _l("Devices"), "read", 20)

KINDS = {"interactive_display": _l("interactive display"), "projector": _l("projector"),
         "document_camera": _l("document camera"), "laptop": _l("laptop"), "tablet": _l("tablet"),
         "desktop": _l("desktop PC"), "ops_pc": _l("OPS PC"), "access_point": _l("access point"),
         "switch": _l("switch"), "router": _l("router"), "printer": _l("printer"), "server": _l("server"),
         "other": _l("other")}

INTERFACE_KINDS = {"lan": _l("LAN"), "wlan": _l("WLAN"), "mgmt": _l("management")}

FUNDING_CATEGORIES = {"network": _l("network"), "wlan": _l("WLAN"), "server": _l("server"),
                      "platform": _l("learning platform"), "display": _l("display equipment"),
                      "work_equipment": _l("work equipment"), "mobile": _l("mobile devices")}

AUDIT_ACTIONS = {"create": _l("recorded"), "update": _l("changed"), "delete": _l("deleted")}

# The fields of a device's audit events (inventory.devices.snapshot), in the page's words.
FIELD_NAMES = {"kind": _l("Kind"), "status": _l("Status"), "vendor": _l("Vendor"), "model": _l("Model"),
               "serial": _l("Serial number"), "asset_tag": _l("Asset tag"), "hostname": _l("Host name"),
               "ip": _l("IP address"), "borrower": _l("Borrower"), "supplier": _l("Supplier"),
               "invoice": _l("Invoice"), "purchase_date": _l("Purchase date"), "price_net": _l("Price (net)"),
               "price_gross": _l("Price (gross)"), "grant": _l("Grant"), "category": _l("Funding category"),
               "warranty_end": _l("Warranty until"), "commissioned": _l("Put into service on"),
               "notes": _l("Notes"), "school": _l("School"), "room": _l("Room"), "parent_id": _l("Part of device"),
               "macs": _l("MAC addresses"), "retire_reason": _l("Reason for retiring")}

# A column header's name → the list query's sort; the place column sorts by school, then room.
SORTS = {"kind": "kind", "place": "school,room", "hostname": "hostname", "serial": "serial",
         "asset_tag": "asset_tag", "status": "status", "last_seen": "last_seen"}
DEFAULT_SORT = "place"
EXPORT_FORMATS = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# The filters the list, the exports and the label link share, named as the API names them.
FILTER_ARGS = ("school", "room", "kind", "status", "q", "grant")
Q_MAX = 120
KIND_VALUES = frozenset(kind.value for kind in DeviceKind)
STATUS_VALUES = frozenset(status.value for status in DeviceStatus)


def device_label(row: dict) -> str:
    """A device's short name, as Device.label builds it, from a list row."""
    return row["hostname"] or row["asset_tag"] or row["serial"] or f"{KINDS.get(row['kind'], row['kind'])} #{row['id']}"


def _schools() -> list[tuple[str, str]]:
    """(code, name) of every school the user may see, for the school filter."""
    query = select(School.code, School.name).order_by(School.name)
    visible = visible_schools()
    if visible is not None:
        query = query.where(School.code.in_(visible))
    return [tuple(row) for row in db.session.execute(query)]


def _rooms_of(code: str) -> list[tuple[str, str]]:
    query = select(Room.code, Room.name).join(School).where(School.code == code).order_by(Room.code)
    return [tuple(row) for row in db.session.execute(query)]


def list_filters(schools: list[tuple[str, str]]) -> dict:
    """The filters of the query string, checked: unknown values are dropped, schools kept to those visible."""
    args = request.args
    known = {code for code, _name in schools}
    chosen = [code for code in args.getlist("school") if code in known]
    if not chosen and visible_schools() is not None:
        chosen = sorted(known) or ["\x00"]  # a user limited to schools never sees the others' devices
    q = args.get("q", "").strip()[:Q_MAX]
    rooms = [room for value in args.getlist("room") for room in value.replace(",", " ").split()]
    return {"school": chosen, "room": rooms[:50],
            "kind": [kind for kind in args.getlist("kind") if kind in KIND_VALUES],
            "status": [status for status in args.getlist("status") if status in STATUS_VALUES],
            "q": q or None, "grant": args.get("grant", "").strip() or None}


def _sort() -> str:
    value = request.args.get("sort", "")
    return value if value.lstrip("-") in SORTS else DEFAULT_SORT


def _query_sort(sort: str) -> str:
    descending = sort.startswith("-")
    return ",".join(("-" if descending else "") + part for part in SORTS[sort.lstrip("-")].split(","))


def _page(filters: dict, sort: str) -> tuple[Paging, list[dict]]:
    """One page of rows for the filters; a page past the end shows the last one."""
    per_page = request.args.get("per_page", type=int)
    per_page = per_page if per_page in PER_PAGE else 50
    wanted = max(request.args.get("page", type=int) or 1, 1)
    try:
        result = device_page(filters, _query_sort(sort), wanted, per_page)
        pages = paging(result.count)
        if pages.page != wanted:
            result = device_page(filters, _query_sort(sort), pages.page, per_page)
    except FleetError:  # a limited user whose schools are all gone: nothing to show
        return Paging(1, per_page, 0), []
    return pages, [dict(zip(LIST_FIELDS, row)) for row in result.results]


def _link_args(filters: dict) -> dict:
    """The filters as query arguments for the export and label links (the user's own choice, not the limit)."""
    args = {name: request.args.getlist(name) for name in ("school", "room", "kind", "status")}
    args.update(q=filters["q"], grant=filters["grant"])
    return {name: value for name, value in args.items() if value}


def _labels_url(filters: dict) -> str:
    """The label sheet for the same devices (the labels page reads the same query arguments)."""
    args = _link_args(filters)
    if "ui.labels" in current_app.view_functions:
        return url_for("ui.labels", **args)
    return "/labels" + (f"?{urlencode(args, doseq=True)}" if args else "")


@bp.get("/devices", endpoint="devices")
@requires("read")
def devices_page():
    """The device list: filters, sortable columns, pages, exports of what is shown."""
    schools = _schools()
    filters = list_filters(schools)
    sort = _sort()
    pages, rows = _page(filters, sort)
    chosen = request.args.getlist("school")
    rooms = _rooms_of(chosen[0]) if len(chosen) == 1 and any(code == chosen[0] for code, _ in schools) else None
    return render_template("ui/devices.html", rows=rows, p=pages, sort=sort, filters=filters, schools=schools,
                           rooms=rooms, kinds=KINDS, statuses=[status.value for status in DeviceStatus],
                           link_args=_link_args(filters),
                           device_label=device_label, per_page_choices=PER_PAGE, chosen_schools=chosen,
                           labels_url=_labels_url(filters))


@bp.get("/devices/export.<fmt>", endpoint="devices_export")
@requires("read")
def devices_export(fmt: str):
    """The devices the list's filters select, as a device file (CSV or XLSX) the import reads back."""
    if fmt not in EXPORT_FORMATS:
        abort(404)
    filters = list_filters(_schools())
    data = write_devices(export_rows(filters), fmt)
    name = f"geraete-{date.today().isoformat()}.{fmt}"
    return send_file(io.BytesIO(data), mimetype=EXPORT_FORMATS[fmt], as_attachment=True, download_name=name)


def export_rows(filters: dict) -> list[dict]:
    """The filtered devices as dicts keyed by the file columns: the list's own WHERE clause, so the file holds what
    the list shows."""
    try:
        among = matching(filters)
    except FleetError:
        return []
    return exporter.export_rows(among=among)


def change_text(field: str, value) -> str:
    """One side of an audited change as text: vocabulary words translated, lists joined, nothing as a dash."""
    if value is None or value == [] or value == "":
        return "–"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    vocabulary = {"status": DEVICE_STATUSES, "kind": KINDS, "category": FUNDING_CATEGORIES}.get(field)
    return label(vocabulary, value) if vocabulary else str(value)


def visible_device(device_id: int, action: str = "read") -> Device:
    """The device, if the signed-in user may do action in its school; else a 404 or 403 page."""
    try:
        device = service.get_device(device_id)
    except DeviceNotFound:
        abort(404)
    ui_require(action, device.school.code)
    return device


def history(device_id: int) -> list[AuditEvent]:
    """The device's audit events, newest first (as the API shows them)."""
    query = (select(AuditEvent).where(AuditEvent.object_type == "device", AuditEvent.object_id == device_id)
             .order_by(AuditEvent.id.desc()).limit(200))
    return list(db.session.scalars(query))


@bp.get("/devices/<int:device_id>", endpoint="device")
@requires("read")
def device_page_view(device_id: int):
    """One device: what it is, where it is, where it was last seen, its funding and its history."""
    device = visible_device(device_id)
    line = db.session.scalar(select(PurchaseLine).where(PurchaseLine.device_id == device.id)
                             .options(selectinload(PurchaseLine.purchase)))
    earmark_end = earmark_end_of(device.grant_ref, device.commissioned_on or device.purchase_date)
    return render_template("ui/device.html", device=device, line=line, earmark_end=earmark_end,
                           events=history(device.id), kinds=KINDS, interface_kinds=INTERFACE_KINDS,
                           categories=FUNDING_CATEGORIES, may_write=may("write", device.school.code),
                           today=date.today(), actions=AUDIT_ACTIONS, field_names=FIELD_NAMES,
                           change_text=change_text)


# The edit and retire pages put their routes on bp when imported.
from . import device_forms  # noqa: E402

__all__ = ["device_forms"]
