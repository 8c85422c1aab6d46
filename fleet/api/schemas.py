"""Request and response schemas of the REST API."""

from datetime import UTC

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from inventory.enums import DeviceKind, DeviceStatus, FundingCategory, InterfaceKind, RoomKind, SchoolType

from inventory.formats.records import MAX_AMOUNT

from .fields import IP, Hostname, Mac, Network

MAX_ID = 2**31 - 1  # the largest id an INTEGER column holds on every database
MAX_ROOM_ITEMS = 500  # per kind and room; more is a typing slip, not a classroom
DEVICE_KINDS = tuple(kind.value for kind in DeviceKind)


def _text(limit: int, **kw):
    return fields.String(validate=validate.Length(max=limit), allow_none=True, **kw)


def _choice(enum, **kw):
    return fields.String(validate=validate.OneOf([e.value for e in enum]), **kw)


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_ID))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=1000))
    sort = fields.String(load_default=None)


class InterfaceIn(Schema):
    mac = Mac(required=True)
    kind = _choice(InterfaceKind, load_default="lan")
    last_ip = IP(allow_none=True)


class InterfaceOut(Schema):
    id = fields.Integer()
    mac = fields.String()
    kind = fields.String()
    last_ip = fields.String(allow_none=True)


class DeviceWrite(Schema):
    """Fields a client may set on a device; PATCH loads it partially."""

    school = fields.String(required=True, validate=validate.Length(min=1, max=40))
    room = _text(40)
    kind = _choice(DeviceKind, required=True)
    status = _choice(DeviceStatus)
    vendor = _text(80)
    model = _text(120)
    serial = _text(80)
    asset_tag = _text(40)
    hostname = Hostname(allow_none=True)
    ip = IP(allow_none=True)
    borrower = _text(80)
    parent_id = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=MAX_ID))
    supplier = _text(120)
    invoice = _text(80)
    purchase_date = fields.Date(allow_none=True)
    price_net = fields.Decimal(places=2, as_string=True, allow_none=True,
                               validate=validate.Range(min=0, max=MAX_AMOUNT))
    price_gross = fields.Decimal(places=2, as_string=True, allow_none=True,
                                 validate=validate.Range(min=0, max=MAX_AMOUNT))
    grant = _text(60)
    category = fields.String(allow_none=True, validate=validate.OneOf([c.value for c in FundingCategory]))
    warranty_end = fields.Date(allow_none=True)
    commissioned = fields.Date(allow_none=True, metadata={"description": "put into service (Inbetriebnahme)"})
    notes = _text(2000)
    interfaces = fields.List(fields.Nested(InterfaceIn))
    retire_reason = _text(500, load_only=True, metadata={
        "description": "with status 'retired': why; required while a funded device's earmark runs (R8)"})

    @validates_schema
    def _blank_identities_are_none(self, data, **kwargs):
        # An empty serial or asset tag means "none", never a shared value that collides.
        for key in ("serial", "asset_tag", "hostname", "room", "grant", "borrower", "retire_reason"):
            if key in data and isinstance(data[key], str) and not data[key].strip():
                data[key] = None
        macs = [i["mac"] for i in data.get("interfaces", [])]
        if len(macs) != len(set(macs)):
            raise ValidationError("the same MAC is listed twice", "interfaces")


class DevicePatch(DeviceWrite):
    """DeviceWrite loaded partially (PATCH)."""


class RetireArgs(Schema):
    """DELETE /devices/{id}: the reason, as ?reason=… or a JSON body {"reason": …}."""

    reason = _text(500, metadata={"description": "why; required while a funded device's earmark runs (R8)"})


def _formatted(kind: str):
    """A value the view already turned into text (ISO dates, decimal amounts)."""
    return fields.String(allow_none=True, metadata={"format": kind})


class LastSeen(Schema):
    at = _formatted("date-time")
    ip = fields.String(allow_none=True)
    where = fields.String(allow_none=True)


class DeviceOut(Schema):
    id = fields.Integer()
    school = fields.String()
    room = fields.String(allow_none=True)
    kind = fields.String()
    status = fields.String()
    vendor = fields.String(allow_none=True)
    model = fields.String(allow_none=True)
    serial = fields.String(allow_none=True)
    asset_tag = fields.String(allow_none=True)
    hostname = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)
    borrower = fields.String(allow_none=True)
    parent_id = fields.Integer(allow_none=True)
    supplier = fields.String(allow_none=True)
    invoice = fields.String(allow_none=True)
    purchase_date = _formatted("date")
    price_net = _formatted("decimal")
    price_gross = _formatted("decimal")
    grant = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    warranty_end = _formatted("date")
    commissioned = _formatted("date")
    notes = fields.String(allow_none=True)
    macs = fields.List(fields.String())
    last_seen = fields.Nested(LastSeen, allow_none=True)
    created_at = _formatted("date-time")
    updated_at = _formatted("date-time")


class HistoryOut(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor = fields.String()
    action = fields.String()
    changes = fields.Dict()


class DeviceDetail(DeviceOut):
    interfaces = fields.List(fields.Nested(InterfaceOut))
    children = fields.List(fields.Integer())
    history = fields.List(fields.Nested(HistoryOut))


class DevicePage(Schema):
    count = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    results = fields.List(fields.Nested(DeviceOut))


class DeviceFilter(PageArgs):
    school = fields.List(fields.String())
    room = fields.List(fields.String())
    kind = fields.List(_choice(DeviceKind))
    status = fields.List(_choice(DeviceStatus))
    q = fields.String(validate=validate.Length(min=1, max=120))
    mac = Mac()
    within = Network()
    seen_since = fields.AwareDateTime(default_timezone=UTC)
    grant = fields.String()
    parent_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class SchoolOut(Schema):
    code = fields.String()
    name = fields.String()
    number = fields.String(allow_none=True)
    type = fields.String()
    subnets = fields.List(fields.String())
    rooms = fields.Integer()
    devices = fields.Integer()
    discovery = fields.Dict()


class RoomOut(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    building = fields.String(allow_none=True)
    floor = fields.Integer(allow_none=True)
    profile = fields.String(allow_none=True)
    devices = fields.Integer()
    items = fields.Dict(keys=fields.String(), values=fields.Integer(),
                        metadata={"description": "the room's own counts laid over its profile's; 0 drops a kind"})
    required = fields.Dict(keys=fields.String(), values=fields.Integer(),
                           metadata={"description": "what the room needs: the profile's items with the room's own "
                                                    "laid over them"})
    target_date = _formatted("date")
    effective_target_date = _formatted("date")


class RoomWrite(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = _choice(RoomKind, load_default="classroom")
    building = _text(40)
    floor = fields.Integer(allow_none=True)
    profile = _text(40)
    items = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), allow_none=True, metadata={
        "description": f"device kind → count (0 to {MAX_ROOM_ITEMS}) laid over the profile's items; 0 drops a kind, "
                       "{} or null keeps the profile as it is"})
    target_date = fields.Date(allow_none=True, metadata={"description": "when the room should be complete; null: "
                                                                        "the school's target date"})

    @validates_schema
    def _items_are_kinds_and_counts(self, data, **kwargs):
        # Each bad entry is named items.<kind>, so a client sees which line of its table to fix.
        errors = {}
        for kind, count in (data.get("items") or {}).items():
            if kind not in DEVICE_KINDS:
                errors[f"items.{kind}"] = [f"'{kind}' is not a device kind; one of: {', '.join(DEVICE_KINDS)}"]
            elif isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_ROOM_ITEMS:
                errors[f"items.{kind}"] = [f"must be a whole number from 0 to {MAX_ROOM_ITEMS}"]
        if errors:
            raise ValidationError(errors)


class RoomPatch(RoomWrite):
    """RoomWrite loaded partially (PATCH)."""


class SchoolWrite(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,39}$",
                                                                 error="lowercase letters, digits and '-'"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    number = _text(16)
    type = _choice(SchoolType, load_default="general")
    concept_date = fields.Date(allow_none=True)
    subnets = fields.List(Network(), load_default=list)


class SchoolPatch(SchoolWrite):
    """SchoolWrite loaded partially (PATCH); the code stays."""
