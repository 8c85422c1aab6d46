"""Observations pushed by an on-site agent, and the discovery settings the agent collects them with.

An agent's batch is gzip-compressed JSON (plain JSON is accepted too). It is checked whole before anything is
applied: a wrong record is refused with its index and field, never half-stored. The server applies a batch key
once, so an agent that lost an answer simply sends the batch again.
"""

import logging
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import asdict

import orjson
from flask import current_app, request
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from discovery.collect import SOURCES, Collected, Record
from discovery.lease import Busy
from discovery.runs import receive_batch, settings_for, summary
from inventory.devices import school_by_code
from inventory.errors import FleetError, InvalidInput

from . import NotJson, api_blueprint
from ..auth import require
from ..errors import error_response
from .fields import IP, Mac

log = logging.getLogger(__name__)

blp = api_blueprint("observations", __name__, "schools", "Observations pushed by on-site agents", json_body=False)

MAX_RECORDS = 200_000
MAX_ERRORS = 100_000
MAX_BYTES = 128 * 1024 * 1024  # decompressed; FLEET_OBSERVATIONS_MAX_BYTES overrides
RETRY_AFTER = 60  # seconds; a school's run usually takes a minute or two
MAX_COUNT = 2**31 - 1
SHOWN_PROBLEMS = 5


class BadBody(FleetError):
    status = 400


class TooLarge(FleetError):
    status = 413


class UnsupportedEncoding(FleetError):
    status = 415


class Clipped(fields.String):
    """Text cut to its column's width: one over-long sysDescr must not cost the whole batch."""

    def __init__(self, limit: int, **kwargs):
        kwargs.setdefault("allow_none", True)
        super().__init__(metadata={"description": f"longer text is cut to {limit} characters"}, **kwargs)
        self.limit = limit

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs)[:self.limit]


class ObservationRecordIn(Schema):
    """What one source saw of one host (discovery.collect.Record); empty fields may be left out."""

    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    ip = IP(allow_none=True)
    mac = Mac(allow_none=True)
    hostname = Clipped(255)
    sys_descr = Clipped(2000)
    sys_object_id = Clipped(255)
    serial = Clipped(80)
    model = Clipped(120)
    vendor = Clipped(120)
    kind = Clipped(32)
    switch = Clipped(80)
    port = Clipped(80)
    # At most 20 five-digit ports fit the observations table's column.
    open_ports = fields.List(fields.Integer(strict=True, validate=validate.Range(1, 65535)),
                             validate=validate.Length(max=20), load_default=list)
    credential = fields.Integer(strict=True, allow_none=True, validate=validate.Range(0, 255))

    @validates_schema
    def _says_where(self, data, **kwargs):
        if not data.get("ip") and not data.get("mac"):
            raise ValidationError("a record needs an ip or a mac", "ip")


class ObservationErrorIn(Schema):
    ip = IP(required=True)
    message = Clipped(500, required=True, allow_none=False)


class ObservationBatchIn(Schema):
    """One agent pass over the school's networks."""

    batch = fields.String(required=True, validate=[validate.Length(1, 80), validate.Regexp(r"[A-Za-z0-9._:-]+")],
                          metadata={"description": "idempotency key, e.g. a UUID: a batch is applied once"})
    collected_at = fields.AwareDateTime(required=True, default_timezone=None)
    probed = fields.Integer(required=True, strict=True, validate=validate.Range(0, MAX_COUNT))
    alive = fields.Integer(required=True, strict=True, validate=validate.Range(0, MAX_COUNT))
    snmp = fields.Integer(required=True, strict=True, validate=validate.Range(0, MAX_COUNT))
    records = fields.List(fields.Nested(ObservationRecordIn), required=True,
                          metadata={"description": f"at most {MAX_RECORDS:,}"})
    errors = fields.List(fields.Nested(ObservationErrorIn), load_default=list,
                         metadata={"description": "per-host problems: [{ip, message}]"})


class AgentRunSummaryOut(Schema):
    run_id = fields.Integer()
    school = fields.String()
    trigger = fields.String()
    status = fields.String(metadata={"description": "succeeded, or failed with the reason in message"})
    duration_s = fields.Float(allow_none=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    errors = fields.List(fields.Dict())
    message = fields.String(allow_none=True)


class AgentSnmpCredentialOut(Schema):
    version = fields.String()
    community = fields.String(metadata={"description": "an ${ENV} reference; the agent resolves it"})
    user = fields.String()
    auth_protocol = fields.String()
    auth_key = fields.String(metadata={"description": "an ${ENV} reference; the agent resolves it"})
    priv_protocol = fields.String()
    priv_key = fields.String(metadata={"description": "an ${ENV} reference; the agent resolves it"})


class AgentDiscoverySettingsOut(Schema):
    school = fields.String()
    subnets = fields.List(fields.String())
    timeout = fields.Float()
    retries = fields.Integer()
    concurrency = fields.Integer()
    port = fields.Integer()
    routers = fields.List(fields.String())
    switches = fields.List(fields.String())
    snmp = fields.List(fields.Nested(AgentSnmpCredentialOut), metadata={"description": "tried in order"})


BODY_DOC = {
    "requestBody": {"required": True, "description": "JSON, best sent with 'Content-Encoding: gzip'",
                    "content": {"application/json": {"schema": ObservationBatchIn}}},
    "parameters": [{"in": "header", "name": "Content-Encoding", "required": False,
                    "schema": {"type": "string", "enum": ["gzip", "identity"]}}],
}


@blp.route("/<code>/observations")
class Observations(MethodView):
    @blp.doc(**BODY_DOC)
    @blp.response(201, AgentRunSummaryOut, description="Applied now: the new run's summary")
    @blp.alt_response(200, schema=AgentRunSummaryOut,
                      description="A batch seen before: the earlier run's summary; nothing is applied twice")
    @blp.alt_response(409, description="Another run holds the school; send again after Retry-After seconds")
    @blp.alt_response(413, description="Too many records or too large once decompressed")
    @blp.alt_response(422, description="A wrong field; fields name it as records[<index>].<field>")
    def post(self, code):
        """Take an agent's batch and apply it once as a discovery run (agent token of this school, or admin)."""
        require("observe", school=code)
        school_by_code(code, "code")
        data = load_batch()
        try:
            run, applied_now = receive_batch(code, data["collected"], data["batch"], data["collected_at"])
        except Busy as error:
            return error_response(error.name, error.message, 409, error.fields, {"Retry-After": str(RETRY_AFTER)})
        log.info("batch %s of %s (collected %s) %s run %d", data["batch"], code, data["collected_at"],
                 "applied as" if applied_now else "was already", run.id)
        return summary(run), 201 if applied_now else 200


@blp.route("/<code>/discovery-settings")
class DiscoverySettings(MethodView):
    @blp.response(200, AgentDiscoverySettingsOut)
    def get(self, code):
        """What the school's agent discovers with; SNMP secrets as their ${ENV} names, never their values."""
        require("observe", school=code)
        settings = settings_for(school_by_code(code, "code"), environ=_References())
        return {"school": code, "subnets": list(settings.subnets), "timeout": settings.timeout,
                "retries": settings.retries, "concurrency": settings.concurrency, "port": settings.port,
                "routers": list(settings.routers), "switches": list(settings.switches),
                "snmp": [{k: v for k, v in asdict(c).items() if v is not None} for c in settings.credentials]}


class _References(Mapping):
    """An environment where every variable holds its own ${NAME}: resolving a secret yields its name, not a value."""

    def __getitem__(self, name: str) -> str:
        return "${" + name + "}"

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def load_batch() -> dict:
    """The request's batch, decompressed, parsed and checked: {batch, collected_at, collected}."""
    if not request.is_json:
        raise NotJson("send the batch as JSON with 'Content-Type: application/json' (gzip-compressed or not)")
    limit = int(current_app.config.get("OBSERVATIONS_MAX_BYTES") or MAX_BYTES)
    body = _decompressed(request.get_data(cache=False), request.headers.get("Content-Encoding", ""), limit)
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadBody(f"the body is not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise InvalidInput("the request body must be a JSON object")
    for key, cap in (("records", MAX_RECORDS), ("errors", MAX_ERRORS)):
        if isinstance(document.get(key), list) and len(document[key]) > cap:
            raise TooLarge(f"{len(document[key]):,} {key} in one batch; at most {cap:,}: send smaller batches")
    try:
        data = ObservationBatchIn().load(document)
    except ValidationError as error:
        problems = list(_flat(error.messages))
        shown = "; ".join(f"{name}: {' '.join(map(str, texts))}" for name, texts in problems[:SHOWN_PROBLEMS])
        more = f" (and {len(problems) - SHOWN_PROBLEMS} more)" if len(problems) > SHOWN_PROBLEMS else ""
        raise InvalidInput(f"invalid batch: {shown}{more}", dict(problems[:100])) from None
    records = tuple(Record(**{**r, "open_ports": tuple(r["open_ports"])}) for r in data["records"])
    collected = Collected(records=records, errors=tuple(data["errors"]), probed=data["probed"], alive=data["alive"],
                          snmp=data["snmp"])
    return {"batch": data["batch"], "collected_at": data["collected_at"], "collected": collected}


def _decompressed(raw: bytes, encoding: str, limit: int) -> bytes:
    """The body as sent or inflated, refused beyond limit bytes so a small gzip bomb cannot fill the memory."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        body = raw
    elif encoding in ("gzip", "x-gzip"):
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(raw, limit + 1)
        except zlib.error as error:
            raise BadBody(f"the body is not valid gzip ({error})") from None
        if len(body) <= limit and not inflater.eof:
            raise BadBody("the gzip body is cut short")
    else:
        raise UnsupportedEncoding(f"Content-Encoding '{encoding}' is not supported: send gzip or plain JSON")
    if len(body) > limit:
        raise TooLarge(f"the batch is larger than {limit:,} bytes decompressed; send smaller batches")
    return body


def _flat(messages: dict, prefix: str = "") -> Iterator[tuple[str, list]]:
    """marshmallow's nested messages as 'records[3].mac' → [...]."""
    for key, value in messages.items():
        name = f"{prefix}[{key}]" if isinstance(key, int) else f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            yield from _flat(value, name)
        else:
            yield name, value if isinstance(value, list) else [value]
