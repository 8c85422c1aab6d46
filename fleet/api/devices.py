"""/api/v1/devices: list, create, read, change, retire."""

from flask import jsonify
from flask.views import MethodView
from sqlalchemy import select

from inventory import devices as service
from inventory.db import db
from inventory.models import AuditEvent
from inventory.queries import device_page

from . import api_blueprint
from ..auth import allowed_schools, require
from .schemas import DeviceDetail, DeviceFilter, DevicePage, DevicePatch, DeviceWrite
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
        """Change some fields."""
        self._may_write(device_id, data)
        device = service.update_device(device_id, data)
        return device_detail(device, _history(device_id))

    @blp.arguments(DeviceWrite)
    @blp.response(200, DeviceDetail)
    def put(self, data, device_id):
        """Replace the writable fields: what the body leaves out is cleared (status stays)."""
        self._may_write(device_id, data)
        device = service.update_device(device_id, service.replacement(data))
        return device_detail(device, _history(device_id))

    @blp.response(200)
    def delete(self, device_id):
        """Retire the device, or delete it if it was never used (planned/ordered, never seen)."""
        self._may_write(device_id, {})
        outcome = service.remove_device(device_id)
        return {"id": device_id, "outcome": outcome}

    @staticmethod
    def _may_write(device_id: int, data: dict) -> None:
        device = service.get_device(device_id)
        require("write", device.school.code)
        if "school" in data and allowed_schools() is not None:
            require("write", data["school"])
        _parent_in_scope(data)
