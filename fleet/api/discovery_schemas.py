"""Schemas of /api/v1/discovery, and the plain dicts that runs, observations and findings become (the CLI too)."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from discovery.findings import ACTIONS, ALL
from discovery.models import DiscoveryRun, Finding, FindingKind, FindingStatus, Observation, RunStatus, Trigger

from .schemas import MAX_ID, PageArgs


def _id(**kw):
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kw)


def _room():
    return fields.String(allow_none=True, validate=validate.Length(min=1, max=40),
                         metadata={"description": "room code in the finding's school (new, moved, changed)"})


def _note():
    return fields.String(allow_none=True, validate=validate.Length(max=2000))


def _text(value):
    return value.isoformat() if value is not None else None


def run_dict(run: DiscoveryRun) -> dict:
    """A run as the list shows it; errors only counted."""
    return {"id": run.id, "school": run.school.code, "trigger": run.trigger, "status": run.status,
            "started_at": _text(run.started_at), "finished_at": _text(run.finished_at),
            "duration_s": run.duration_s, "counts": dict(run.counts or {}), "error_count": len(run.errors or []),
            "message": run.message, "actor": run.actor}


def run_detail(run: DiscoveryRun, findings: dict[str, int]) -> dict:
    """A run with its per-host errors and how its findings stand now."""
    return {**run_dict(run), "errors": list(run.errors or []), "findings": findings}


def observation_dict(observation: Observation) -> dict:
    """One record a run saw."""
    names = ("id", "source", "ip", "mac", "hostname", "sys_descr", "sys_object_id", "serial", "model", "vendor",
             "kind", "switch", "port", "credential")
    row = {name: getattr(observation, name) for name in names}
    row["open_ports"] = [int(p) for p in (observation.open_ports or "").split()]
    return row


def finding_dict(finding: Finding) -> dict:
    """A finding of the review queue."""
    return {"id": finding.id, "school": finding.school.code, "kind": finding.kind, "key": finding.key,
            "status": finding.status, "device": finding.device_id, "detail": finding.detail,
            "seen": dict(finding.seen or {}), "times_seen": finding.times_seen, "first_run": finding.first_run_id,
            "last_run": finding.last_run_id, "note": finding.note, "resolved_at": _text(finding.resolved_at),
            "resolved_by": finding.resolved_by, "created_at": _text(finding.created_at),
            "updated_at": _text(finding.updated_at)}


def _when():
    return fields.String(allow_none=True, metadata={"format": "date-time"})


class _Page(Schema):
    count = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class RunFilter(PageArgs):
    school = fields.List(fields.String())
    status = fields.List(fields.String(validate=validate.OneOf([s.value for s in RunStatus])))
    trigger = fields.List(fields.String(validate=validate.OneOf([t.value for t in Trigger])))


class RunOut(Schema):
    id = fields.Integer()
    school = fields.String()
    trigger = fields.String()
    status = fields.String()
    started_at = _when()
    finished_at = _when()
    duration_s = fields.Float(allow_none=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    error_count = fields.Integer()
    message = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)


class RunDetail(RunOut):
    errors = fields.List(fields.Dict(), metadata={"description": "per host: {ip, message}"})
    findings = fields.Dict(keys=fields.String(), values=fields.Integer(),
                           metadata={"description": "the findings this run raised, by their status now"})


class ObservationFilter(PageArgs):
    source = fields.List(fields.String(validate=validate.OneOf(["ping", "tcp", "arp", "snmp", "fdb"])))


class ObservationOut(Schema):
    id = fields.Integer()
    source = fields.String()
    ip = fields.String(allow_none=True)
    mac = fields.String(allow_none=True)
    hostname = fields.String(allow_none=True)
    sys_descr = fields.String(allow_none=True)
    sys_object_id = fields.String(allow_none=True)
    serial = fields.String(allow_none=True)
    model = fields.String(allow_none=True)
    vendor = fields.String(allow_none=True)
    kind = fields.String(allow_none=True)
    switch = fields.String(allow_none=True)
    port = fields.String(allow_none=True)
    open_ports = fields.List(fields.Integer())
    credential = fields.Integer(allow_none=True)


class FindingFilter(PageArgs):
    school = fields.List(fields.String())
    kind = fields.List(fields.String(validate=validate.OneOf([k.value for k in FindingKind])))
    status = fields.List(fields.String(validate=validate.OneOf([s.value for s in FindingStatus] + [ALL])),
                         metadata={"description": "repeatable; default open; 'all' for every status"})
    run = _id()
    device = _id()


class FindingOut(Schema):
    id = fields.Integer()
    school = fields.String()
    kind = fields.String()
    key = fields.String()
    status = fields.String()
    device = fields.Integer(allow_none=True)
    detail = fields.String()
    seen = fields.Dict(metadata={"description": "the host as seen: ip, mac, serial, hostname, where, room, kind, …"})
    times_seen = fields.Integer()
    first_run = fields.Integer(allow_none=True)
    last_run = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)
    resolved_at = _when()
    resolved_by = fields.String(allow_none=True)
    created_at = _when()
    updated_at = _when()


class RunPage(_Page):
    results = fields.List(fields.Nested(RunOut))


class ObservationPage(_Page):
    results = fields.List(fields.Nested(ObservationOut))


class FindingPage(_Page):
    results = fields.List(fields.Nested(FindingOut))


class AcceptIn(Schema):
    room = _room()


class IgnoreIn(Schema):
    note = _note()


class LinkIn(Schema):
    device = _id(required=True)


class BulkIn(Schema):
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    ids = fields.List(fields.Integer(validate=validate.Range(min=1, max=MAX_ID)), required=True,
                      validate=validate.Length(min=1, max=1000))
    device = _id(allow_none=True)
    room = _room()
    note = _note()

    @validates_schema
    def _options_fit_the_action(self, data, **kwargs):
        action = data.get("action")
        errors = {name: [f"only for {verb}"] for name, verb in (("room", "accept"), ("note", "ignore"),
                                                                 ("device", "link"))
                  if data.get(name) is not None and action != verb}
        if action == "link" and data.get("device") is None:
            errors["device"] = ["required for link"]
        if errors:
            raise ValidationError(errors)


class BulkOut(Schema):
    action = fields.String()
    count = fields.Integer()
    results = fields.List(fields.Nested(FindingOut))
