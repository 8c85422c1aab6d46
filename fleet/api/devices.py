"""/api/v1/devices: list, create, read, change, retire."""

from flask import jsonify, request
from flask.views import MethodView
from marshmallow import ValidationError
from sqlalchemy import select

from inventory import devices as service
from inventory.db import db
from inventory.errors import InvalidInput
from inventory.models import AuditEvent
from inventory.queries import device_page
from provisioning import grants as funding

from . import api_blueprint
from ..auth import allowed_schools, require
from .schemas import DeviceDetail, DeviceFilter, DevicePage, DevicePatch, DeviceWrite, RetireArgs
from .views import device_detail, device_row_dict

blp = api_blueprint("devices", __name__, "devices", "Devices of every school")


def _history(device_id: int) -> list[AuditEvent]:
    query = (select(AuditEvent).where(AuditEvent.object_type == "device", AuditEvent.object_id == device_id)
             .order_by(AuditEvent.id.desc()).limit(200))
    return list(db.session.scalars(query))


def _parent_in_scope(data: dict) -> None:
    """A token limited to some schools may only hang devices under devices of those schools."""
    if data.get("parent_id") and allowed_schools() is not None:
        require("write", service.get_device(data["parent_id"]).school.code)


def _retire_reason(device_id: int, data: dict) -> str | None:
    """Pop retire_reason from data; when the change retires a funded device, funding checks the earmark (R8).

    The check lives here, not in the inventory service, because inventory must not import provisioning.
    """
    reason = data.pop("retire_reason", None)
    if data.get("status") != "retired":
        if reason:
            raise InvalidInput("retire_reason goes with status 'retired'",
                               {"retire_reason": ["only with status 'retired'"]})
        return None
    device = service.get_device(device_id)
    if device.status != "retired":
        funding.check_retirement(device, reason, "retire_reason")
    return reason


def _body_reason() -> str | None:
    """The reason from an optional JSON body of a DELETE."""
    body = request.get_json(silent=True)
    if body is None:
        return None
    try:
        return RetireArgs().load(body)["reason"] if isinstance(body, dict) and "reason" in body else None
    except ValidationError as error:
        raise InvalidInput("invalid fields: reason", error.messages) from None


@blp.route("")
class Devices(MethodView):
    # An instance, not the class: webargs would build a new schema for every request.
    @blp.arguments(DeviceFilter(), location="query", as_kwargs=True)
    @blp.response(200, DevicePage)
    def get(self, page, per_page, sort, **filters):
        """List devices; filters combine, `sort` takes field or -field."""
        require("read")
        result = device_page(filters, sort, page, per_page)
        # The dicts are already JSON-safe; returning a Response skips a second pass through marshmallow.
        return jsonify({"count": result.count, "page": result.page, "per_page": result.per_page,
                        "results": [device_row_dict(row) for row in result.results]})

    @blp.arguments(DeviceWrite)
    @blp.response(201, DeviceDetail)
    def post(self, data):
        """Register a device; 409 names the device that already holds a serial, asset tag or MAC."""
        require("write", data["school"])
        _parent_in_scope(data)
        device = service.register_device(data)
        return device_detail(device, _history(device.id))


@blp.route("/<int:device_id>")
class DeviceById(MethodView):
    @blp.response(200, DeviceDetail)
    def get(self, device_id):
        """One device with its interfaces, children and history."""
        require("read")
        device = service.get_device(device_id)
        return device_detail(device, _history(device_id))

    @blp.arguments(DevicePatch(partial=True))
    @blp.response(200, DeviceDetail)
    def patch(self, data, device_id):
        """Change some fields; retiring a funded device before its earmark ends needs a retire_reason (R8)."""
        self._may_write(device_id, data)
        reason = _retire_reason(device_id, data)
        device = service.update_device(device_id, data, retire_reason=reason)
        return device_detail(device, _history(device_id))

    @blp.arguments(DeviceWrite)
    @blp.response(200, DeviceDetail)
    def put(self, data, device_id):
        """Replace the writable fields: what the body leaves out is cleared (status stays)."""
        self._may_write(device_id, data)
        reason = _retire_reason(device_id, data)
        device = service.update_device(device_id, service.replacement(data), retire_reason=reason)
        return device_detail(device, _history(device_id))

    @blp.arguments(RetireArgs(), location="query", as_kwargs=True)
    @blp.response(200)
    def delete(self, device_id, reason=None):
        """Retire the device, or delete it if it was never used (planned/ordered, never seen). Retiring a funded
        device before its earmark ends needs a reason (?reason=… or a JSON body {"reason": …}): R8."""
        self._may_write(device_id, {})
        reason = reason or _body_reason()
        device = service.get_device(device_id)
        if device.status != "retired" and not service.never_used(device):
            funding.check_retirement(device, reason, "reason")
        outcome = service.remove_device(device_id, retire_reason=reason)
        return {"id": device_id, "outcome": outcome}

    @staticmethod
    def _may_write(device_id: int, data: dict) -> None:
        device = service.get_device(device_id)
        require("write", device.school.code)
        if "school" in data and allowed_schools() is not None:
            require("write", data["school"])
        _parent_in_scope(data)
