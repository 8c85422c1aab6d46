"""Pages: changing a device and retiring it, each a form with a CSRF token."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from inventory import devices as service
from inventory.db import db
from inventory.enums import DeviceStatus
from inventory.errors import (DuplicateAssetTag, DuplicateMac, DuplicateSerial, FleetError, InvalidInput, UnknownRoom)
from inventory.models import Room
from inventory.netvalues import is_hostname
from provisioning import grants as funding

from . import bp
from .access import requires
from .devices import KINDS, visible_device
from .labels import DEVICE_STATUSES

# A domain error → what the page says about it; the service's own (English) text may follow.
ERROR_MESSAGES = {
    DuplicateSerial: _l("Another device that is not retired already has this serial number."),
    DuplicateAssetTag: _l("Another device that is not retired already has this asset tag."),
    DuplicateMac: _l("Another device that is not retired already has this MAC address."),
    UnknownRoom: _l("This room does not exist in the device's school."),
    funding.RetireReasonRequired: _l("This device is funded and its earmark still runs: give a reason."),
    InvalidInput: _l("The entries do not fit together."),
}
# Which form field an error belongs next to.
ERROR_FIELDS = {DuplicateSerial: "serial", DuplicateAssetTag: "asset_tag", UnknownRoom: "room",
                funding.RetireReasonRequired: "reason"}
# Free-text fields: blank means "none", as the API treats it.
TEXT_FIELDS = ("hostname", "serial", "asset_tag", "vendor", "model", "borrower", "notes")


def _hostname(_form, field) -> None:
    if field.data and not is_hostname(field.data.strip()):
        raise ValidationError(_("Letters, digits and inner hyphens only, parts joined by dots, at most 63 characters."))


class DeviceEditForm(FlaskForm):
    room = SelectField(_l("Room"), validate_choice=True)
    status = SelectField(_l("Status"))
    hostname = StringField(_l("Host name"), validators=[Optional(), Length(max=63), _hostname])
    serial = StringField(_l("Serial number"), validators=[Optional(), Length(max=80)])
    asset_tag = StringField(_l("Asset tag"), validators=[Optional(), Length(max=40)])
    vendor = StringField(_l("Vendor"), validators=[Optional(), Length(max=80)])
    model = StringField(_l("Model"), validators=[Optional(), Length(max=120)])
    borrower = StringField(_l("Borrower (reference, not a pupil's name)"), validators=[Optional(), Length(max=80)])
    warranty_end = DateField(_l("Warranty until"), validators=[Optional()])
    commissioned = DateField(_l("Put into service on"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])


class RetireForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500)])


def error_message(error: FleetError) -> str:
    """The page's words for a domain error, followed by the service's own text."""
    for kind in type(error).__mro__:
        if kind in ERROR_MESSAGES:
            return f"{ERROR_MESSAGES[kind]} ({error.message})"
    return error.message


def _edit_form(device) -> DeviceEditForm:
    values = {"room": device.room.code if device.room else "", "status": device.status,
              "commissioned": device.commissioned_on,
              **{name: getattr(device, name) for name in TEXT_FIELDS}, "warranty_end": device.warranty_end}
    form = DeviceEditForm(data=values)
    rooms = db.session.execute(select(Room.code, Room.name).where(Room.school_id == device.school_id)
                               .order_by(Room.code)).all()
    form.room.choices = [("", _("no room"))] + [(code, f"{code} – {name}") for code, name in rooms]
    # Retiring has its own page, which checks the funding first; a retired device may stay retired here.
    form.status.choices = [(status.value, str(DEVICE_STATUSES[status.value])) for status in DeviceStatus
                           if status != "retired" or device.status == "retired"]
    return form


def _changes(form: DeviceEditForm) -> dict:
    data = {name: (getattr(form, name).data or "").strip() or None for name in TEXT_FIELDS}
    data.update(room=form.room.data or None, status=form.status.data, warranty_end=form.warranty_end.data,
                commissioned=form.commissioned.data)
    return data


@bp.route("/devices/<int:device_id>/edit", methods=["GET", "POST"], endpoint="device_edit")
@requires("write")
def device_edit(device_id: int):
    """Change a device's writable fields; the service checks identities and records the change."""
    device = visible_device(device_id, "write")
    form = _edit_form(device)
    error = None
    if form.validate_on_submit():
        try:
            service.update_device(device.id, _changes(form))
        except FleetError as failure:
            db.session.rollback()
            error = error_message(failure)
            field = ERROR_FIELDS.get(type(failure))
            if field and field in form:
                # Shown next to its field only; the form's own errors make the page a 422 below.
                form[field].errors = [*form[field].errors, error]
                error = None
        else:
            flash(_("The device was saved."), "success")
            return redirect(url_for("ui.device", device_id=device_id))
    status = 200 if error is None and not form.errors else 422
    return render_template("ui/device_edit.html", device=device, form=form, error=error, kinds=KINDS), status


def _check_funding(device, reason: str | None) -> None:
    """As the API's DELETE: retiring a funded device within its earmark needs a reason (R8); a deletion does not."""
    if device.status != "retired" and not service.never_used(device):
        funding.check_retirement(device, reason, "reason")


@bp.route("/devices/<int:device_id>/retire", methods=["GET", "POST"], endpoint="device_retire")
@requires("write")
def device_retire(device_id: int):
    """Confirm retiring a device; a funded one within its earmark needs a reason (R8)."""
    device = visible_device(device_id, "write")
    form = RetireForm()
    earmark_end = funding.earmark_end_of(device.grant_ref, device.commissioned_on or device.purchase_date)
    try:
        _check_funding(device, None)
        needs_reason = False
    except funding.RetireReasonRequired:
        needs_reason = True
    if form.validate_on_submit():
        reason = (form.reason.data or "").strip() or None
        try:
            _check_funding(device, reason)
            outcome = service.remove_device(device.id, retire_reason=reason)
        except FleetError as failure:
            db.session.rollback()
            form.reason.errors = [*form.reason.errors, error_message(failure)]
        else:
            if outcome == "deleted":
                flash(_("The device was never used and has been deleted."), "success")
                return redirect(url_for("ui.devices"))
            flash(_("The device was retired."), "success")
            return redirect(url_for("ui.device", device_id=device_id))
    status = 200 if not form.errors else 422
    return render_template("ui/device_retire.html", device=device, form=form, needs_reason=needs_reason,
                           earmark_end=earmark_end, never_used=service.never_used(device)), status
