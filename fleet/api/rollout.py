"""/api/v1/rollout: per room, what its profile requires, what is there and what discovery has seen lately."""

from flask import current_app, jsonify
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from provisioning import rollouts as service

from . import api_blueprint
from ..auth import allowed_schools, require
from .schemas import MAX_ID

blp = api_blueprint("rollout", __name__, "rollout", "Rollout per room against its profile")


class RolloutFilter(Schema):
    school = fields.List(fields.String())
    room = fields.List(fields.String())
    state = fields.String(validate=validate.OneOf(service.STATES))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_ID))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=1000))


class LineOut(Schema):
    kind = fields.String(allow_none=True)
    required = fields.Integer()
    present = fields.Integer(metadata={"description": "assigned to the room and in service (active, loaned)"})
    verified = fields.Integer(metadata={"description": "present and seen on the network within the window"})
    ordered = fields.Integer(metadata={"description": "ordered or in stock for the room"})
    missing = fields.Integer()
    surplus = fields.Integer()


class RoomRolloutOut(Schema):
    school = fields.String()
    room = fields.String()
    name = fields.String()
    profile = fields.String(allow_none=True)
    phase = fields.String(allow_none=True, metadata={"enum": ["planned", "ordered", "installed", "verified"]})
    complete = fields.Boolean()
    target = fields.String(allow_none=True, metadata={"format": "date"})
    behind = fields.Boolean()
    lines = fields.List(fields.Nested(LineOut))
    total = fields.Nested(LineOut)
    devices = fields.List(fields.Integer())


class TotalsOut(Schema):
    rooms = fields.Integer()
    complete = fields.Integer()
    behind = fields.Integer()
    phases = fields.Dict(keys=fields.String(), values=fields.Integer())
    lines = fields.List(fields.Nested(LineOut))
    total = fields.Nested(LineOut)


class RolloutPage(Schema):
    count = fields.Integer(metadata={"description": "rooms in the state asked for"})
    page = fields.Integer()
    per_page = fields.Integer()
    today = fields.String(metadata={"format": "date"})
    verified_within_days = fields.Integer()
    results = fields.List(fields.Nested(RoomRolloutOut))
    schools = fields.Dict(keys=fields.String(), values=fields.Nested(TotalsOut),
                          metadata={"description": "totals per school over every room of the scope"})
    carrier = fields.Nested(TotalsOut)


@blp.route("")
class Rollout(MethodView):
    @blp.arguments(RolloutFilter(), location="query", as_kwargs=True)
    @blp.response(200, RolloutPage)
    def get(self, page, per_page, school=None, room=None, state=None):
        """Rooms sorted by school and code; school and room narrow the scope, state picks the rooms listed.

        state: complete, incomplete, behind (past its target date and incomplete) or a phase (planned, ordered,
        installed, verified). Totals cover every room of the scope, whatever the state. A token limited to some
        schools sees those.
        """
        require("read")
        for code in school or ():
            require("read", code)
        days, zone = service.settings(current_app.config)
        report = service.room_rollout(school or allowed_schools(), room, verified_within_days=days, zone=zone)
        listed = [entry for entry in report.rollout.rooms if service.matches(entry, state)]
        start = (page - 1) * per_page
        body = service.report_dict(report, listed[start:start + per_page])
        return jsonify({"count": len(listed), "page": page, "per_page": per_page, **body})
