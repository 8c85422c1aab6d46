"""Discovery runs: run one now, take an agent's batch, and apply what a run saw to the inventory in one transaction.

A run row is committed as 'running' first, so a crash leaves a trace; everything the run changes — observations,
findings, devices' last sighting, learned serials and MACs, unseen counters — is then written in one transaction,
and if that fails the inventory stays as it was and the run is marked failed with the reason.
"""

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from inventory import audit
from inventory.db import db, utcnow
from inventory.devices import school_by_code
from inventory.errors import Conflict, FileRejected, FleetError, InvalidInput
from inventory.models import Device, Interface, Room, School
from inventory.netvalues import is_locally_administered
from inventory.schoolsfile import SnmpCredential

from .collect import Collected, Record, Settings, collect
from .lease import leased
from .models import (STANDING, DiscoveryLease, DiscoveryRun, Finding, FindingKind, FindingStatus, Observation,
                     RunStatus, Trigger)
from .reconcile import Known, Result, Seen, reconcile
from .snmp import Credential

log = logging.getLogger(__name__)

# A run a person asked for, waiting for the scheduler process to start it.
QUEUED = RunStatus.QUEUED.value
COUNTED = ("probed", "alive", "snmp", "matched", "new", "moved", "missing", "conflict")
MAX_ERRORS = 1000  # per run; a school whose switches all time out says so in the first lines
_CHUNK = 500  # identifiers per IN (...) list


class DiscoveryFailed(FleetError):
    """A run could not finish; the run row says why (reason) and the inventory is unchanged."""

    status = 500

    def __init__(self, message: str, run_id: int, reason: str):
        super().__init__(message)
        self.run_id, self.reason = run_id, reason


def settings_for(school: School, environ=None) -> Settings:
    """The school's declared discovery settings, secrets resolved from the environment."""
    declared = school.discovery or {}
    if not school.subnets:
        raise InvalidInput(f"school '{school.code}' declares no subnets to discover", {"school": school.code})
    credentials = tuple(Credential(**SnmpCredential(**c).resolve(environ)) for c in declared.get("snmp") or ())
    return Settings(subnets=tuple(s.cidr for s in school.subnets), timeout=float(declared.get("timeout", 1.0)),
                    retries=int(declared.get("retries", 1)), concurrency=int(declared.get("concurrency", 512)),
                    port=int(declared.get("port", 161)), credentials=credentials,
                    routers=tuple(declared.get("routers") or ()), switches=tuple(declared.get("switches") or ()))


def remembered_credentials(school: School) -> dict[str, int]:
    """Per address, the SNMP credential that answered in the school's last successful run."""
    last = db.session.scalar(select(DiscoveryRun.id).where(
        DiscoveryRun.school_id == school.id, DiscoveryRun.status == RunStatus.SUCCEEDED)
        .order_by(DiscoveryRun.id.desc()).limit(1))
    if last is None:
        return {}
    rows = db.session.execute(select(Observation.ip, Observation.credential).where(
        Observation.run_id == last, Observation.credential.is_not(None), Observation.ip.is_not(None)))
    return {ip: credential for ip, credential in rows}


def discover(code: str, trigger: str = Trigger.MANUAL,
             progress: Callable[[str, int, int], object] | None = None,
             request: int | None = None) -> DiscoveryRun | None:
    """Discover one school now under its lease: sweep, SNMP, reconcile, apply.

    With `request`, carry out that queued run (see request_run) under its own id instead of starting a new one;
    None when it is no longer queued (another scheduler took it).
    """
    school = school_by_code(code)
    try:
        settings = settings_for(school)
    except FleetError as error:
        if request is not None:  # a request that can never run must not wait forever
            why = "; ".join(error.errors) if isinstance(error, FileRejected) and error.errors else error.message
            reason = fail_run(request, f"not started: {why}", only_queued=True)
            raise DiscoveryFailed(f"run {request} of '{code}' failed: {why}", request, reason) from error
        raise
    with leased(school):
        if request is None:
            run = start_run(school, trigger)
        elif (run := claim_request(request)) is None:
            return None
        try:
            collected = asyncio.run(collect(settings, remembered_credentials(school), progress))
        except Exception as error:  # a probe that breaks must still leave the run marked, not 'running'
            log.exception("discovery of %s failed", code)
            reason = fail_run(run.id, f"collecting failed: {type(error).__name__}: {error}")
            raise DiscoveryFailed(f"run {run.id} of '{code}' failed while collecting: {error}", run.id,
                                  reason) from error
        return apply_run(run.id, collected)


class RunPending(Conflict):
    """The school already has a run queued or under way; `run` is that run."""

    def __init__(self, run: DiscoveryRun):
        super().__init__(f"school '{run.school.code}' has run {run.id} {run.status} already; wait for it to finish",
                         {"school": [f"run {run.id} is {run.status}"]})
        self.run = run


def request_run(code: str) -> DiscoveryRun:
    """Queue a manual run of a school for the scheduler process, committed; RunPending while one is queued or running.

    A web worker never sweeps itself: it records the request, and `fleet scheduler` starts it under the school's lease.
    """
    school = school_by_code(code)
    if not school.subnets:
        raise InvalidInput(f"school '{school.code}' declares no subnets to discover", {"school": school.code})
    # Two requests for one school at once: on PostgreSQL the school's row lock makes the second wait and see the first.
    db.session.execute(select(School.id).where(School.id == school.id).with_for_update())
    if (pending := pending_run(school)) is not None:
        db.session.rollback()
        raise RunPending(pending)
    run = DiscoveryRun(school_id=school.id, trigger=Trigger.MANUAL, status=QUEUED, started_at=utcnow(), counts={},
                       errors=[], actor=audit.current_actor())
    db.session.add(run)
    db.session.commit()
    return run


def pending_run(school: School) -> DiscoveryRun | None:
    """The school's queued run, else its run under way while its lease is held (a crashed holder's run is not)."""
    queued = db.session.scalar(select(DiscoveryRun).where(DiscoveryRun.school_id == school.id,
                                                          DiscoveryRun.status == QUEUED).limit(1))
    if queued is not None:
        return queued
    held = select(DiscoveryLease.school_id).where(DiscoveryLease.school_id == school.id,
                                                  DiscoveryLease.expires_at >= utcnow())
    return db.session.scalar(select(DiscoveryRun).where(
        DiscoveryRun.school_id == school.id, DiscoveryRun.status == RunStatus.RUNNING,
        DiscoveryRun.school_id.in_(held)).order_by(DiscoveryRun.id.desc()).limit(1))


def queued_requests() -> list[tuple[int, str]]:
    """(run id, school code) of every queued run, oldest request first."""
    rows = db.session.execute(select(DiscoveryRun.id, School.code).join(School, DiscoveryRun.school_id == School.id)
                              .where(DiscoveryRun.status == QUEUED).order_by(DiscoveryRun.id))
    return [tuple(row) for row in rows]


def claim_request(run_id: int) -> DiscoveryRun | None:
    """Turn a queued run into a running one, now; None if it is not queued any more. Call under the lease."""
    claimed = db.session.execute(update(DiscoveryRun).where(
        DiscoveryRun.id == run_id, DiscoveryRun.status == QUEUED).values(
        status=RunStatus.RUNNING, started_at=utcnow())).rowcount
    db.session.commit()
    return db.session.get(DiscoveryRun, run_id) if claimed else None


def receive_batch(code: str, collected: Collected, batch_key: str,
                  collected_at: datetime | None = None) -> tuple[DiscoveryRun, bool]:
    """Apply an agent's batch once: (run, True) when applied now, (earlier run, False) for a batch seen before.

    The run starts when the agent collected it, so a batch that waited on site while the centre was unreachable
    records its devices as seen then, not when it arrived.
    """
    school = school_by_code(code)
    if (earlier := _batch_run(school, batch_key)) is not None:
        if earlier.status != RunStatus.FAILED:
            return earlier, False
        # A failed apply changed nothing: the resent batch gets another try, the failed run stays as a record.
        earlier.batch_key = None
        db.session.commit()
    with leased(school):
        try:
            run = start_run(school, Trigger.AGENT, batch_key=batch_key, started_at=collected_at)
        except IntegrityError:  # the same batch, sent twice at once, was started by the other request
            db.session.rollback()
            return _batch_run(school, batch_key), False
        return apply_run(run.id, collected), True


def _batch_run(school: School, batch_key: str) -> DiscoveryRun | None:
    return db.session.scalar(select(DiscoveryRun).where(DiscoveryRun.school_id == school.id,
                                                        DiscoveryRun.batch_key == batch_key))


def start_run(school: School, trigger: str, batch_key: str | None = None,
              started_at: datetime | None = None) -> DiscoveryRun:
    """A committed run row in state 'running'."""
    run = DiscoveryRun(school_id=school.id, trigger=trigger, status=RunStatus.RUNNING,
                       started_at=min(started_at or utcnow(), utcnow()),
                       counts={}, errors=[], batch_key=batch_key, actor=audit.current_actor())
    db.session.add(run)
    db.session.commit()
    return run


def fail_run(run_id: int, message: str, only_queued: bool = False) -> str:
    """Mark a run failed with the reason, discarding whatever it had written; the reason as stored."""
    reason = message[:2000]
    db.session.rollback()
    which = [DiscoveryRun.id == run_id] + ([DiscoveryRun.status == QUEUED] if only_queued else [])
    db.session.execute(update(DiscoveryRun).where(*which).values(
        status=RunStatus.FAILED, finished_at=utcnow(), message=reason))
    db.session.commit()
    return reason


def apply_run(run_id: int, collected: Collected) -> DiscoveryRun:
    """Store the run's observations and reconcile them with the inventory, all in one transaction."""
    try:
        run = db.session.get(DiscoveryRun, run_id)
        _apply(run, collected)
        db.session.commit()
    except Exception as error:
        log.exception("applying run %s failed", run_id)
        reason = fail_run(run_id, f"applying failed: {type(error).__name__}: {error}")
        raise DiscoveryFailed(f"run {run_id} failed while applying; nothing was changed ({error})", run_id,
                              reason) from error
    return run


def _apply(run: DiscoveryRun, collected: Collected) -> None:
    school = run.school
    now = run.started_at  # when the hosts were seen: an agent's batch may arrive hours later
    records = collected.records
    if records:
        db.session.execute(insert(Observation), [_observation(run.id, r) for r in records])
    standing = db.session.execute(select(Finding.kind, Finding.key).where(Finding.status.in_(STANDING))).all()
    missing_after = int((school.discovery or {}).get("missing_after", 3))
    seen = [_seen(r) for r in records]
    result = reconcile(_known(), seen, school.code, missing_after, [tuple(row) for row in standing])
    with audit.acting_as(f"discovery:run {run.id}"):
        _learn(result, now)
    _count_unseen(result.unseen)
    raised = _raise_findings(run, result)
    _touch_standing(run, result, seen, raised)
    by_kind = {kind: sum(f.kind == kind for f in result.findings) for kind in FindingKind}
    run.counts = {"probed": collected.probed, "alive": collected.alive, "snmp": collected.snmp,
                  "matched": len(result.matched), "new": by_kind["new"], "moved": by_kind["moved"],
                  "missing": by_kind["missing"], "conflict": by_kind["conflict"], "changed": by_kind["changed"],
                  "records": len(records), "unidentified": result.unidentified, "errors": len(collected.errors)}
    run.errors = [dict(e) for e in collected.errors[:MAX_ERRORS]]
    run.status, run.finished_at = RunStatus.SUCCEEDED, utcnow()


def _observation(run_id: int, record: Record) -> dict:
    row = {name: value for name, value in asdict(record).items() if name != "open_ports"}
    row["open_ports"] = " ".join(map(str, record.open_ports)) or None
    row["run_id"] = run_id
    return row


def _seen(record: Record) -> Seen:
    return Seen(ip=record.ip, mac=record.mac, serial=record.serial, hostname=record.hostname, where=record.where,
                kind=record.kind, vendor=record.vendor, model=record.model)


def _known() -> list[Known]:
    """The carrier's devices as reconcile needs them, retired ones included, in two queries."""
    macs: dict[int, set[str]] = {}
    for device_id, mac in db.session.execute(select(Interface.device_id, Interface.mac)):
        macs.setdefault(device_id, set()).add(mac)
    rows = db.session.execute(
        select(Device.id, School.code, Device.status, Device.serial, Device.hostname, Room.code,
               Device.last_seen_where, Device.unseen_runs)
        .join(School, Device.school_id == School.id).outerjoin(Room, Device.room_id == Room.id))
    return [Known(id=i, school=school, status=status, serial=serial, macs=frozenset(macs.get(i, ())),
                  hostname=hostname, room=room, last_where=where, unseen_runs=unseen or 0)
            for i, school, status, serial, hostname, room, where, unseen in rows]


def _learn(result: Result, now) -> None:
    """Matched devices record their sighting; serials and MACs proven by a serial become theirs."""
    touched = {device_id for device_id, _ in result.matched} | {d for d, _ in result.new_macs + result.new_serials}
    devices = {}
    for chunk in _chunks(sorted(touched)):
        devices.update((d.id, d) for d in db.session.scalars(select(Device).where(Device.id.in_(chunk))))
    for device_id, host in result.matched:
        device = devices[device_id]
        device.last_seen_at = now
        if host.ip:
            device.last_seen_ip = host.ip
        if host.where:
            device.last_seen_where = host.where
        for interface in device.interfaces:
            if host.ip and interface.mac == host.mac:
                interface.last_ip = host.ip
    for device_id, serial in result.new_serials:
        device = devices[device_id]
        audit.record("update", "device", device_id, device.label, {"serial": [device.serial, serial]},
                     device.school.code)
        device.serial = serial
    for device_id, mac in result.new_macs:
        if is_locally_administered(mac):  # reconcile never proposes one; the database must never hold one either
            continue
        device = devices[device_id]
        device.interfaces.append(Interface(mac=mac, kind="lan"))
        audit.record("update", "device", device_id, device.label, {"macs": [None, mac]}, device.school.code)
    db.session.flush()


def _count_unseen(unseen: dict[int, int]) -> None:
    rows = [{"id": device_id, "unseen_runs": count} for device_id, count in unseen.items()]
    if rows:
        db.session.execute(update(Device), rows)


def _raise_findings(run: DiscoveryRun, result: Result) -> set[tuple[str, str]]:
    rows = [{"school_id": run.school_id, "kind": f.kind, "key": f.key, "status": FindingStatus.OPEN,
             "device_id": f.device_id, "first_run_id": run.id, "last_run_id": run.id, "times_seen": 1,
             "detail": f.detail, "seen": _plain(f.seen)} for f in result.findings]
    if rows:
        db.session.execute(insert(Finding), rows)
    return {(f.kind, f.key) for f in result.findings}


def _touch_standing(run: DiscoveryRun, result: Result, seen: Sequence[Seen], raised: set) -> None:
    """Open findings this run saw again are updated; those it disproved are resolved. Nothing is raised twice."""
    present = {device_id for device_id, _ in result.matched} | {device_id for device_id, _ in result.hinted}
    # What each key looks like now, so a person acting on an old finding acts on the latest sighting.
    latest: dict[str, Seen | None] = {f"device:{d}": None for d, n in result.unseen.items() if n}
    latest.update((f"device:{d}", host) for d, host in result.matched + result.hinted)
    for record in seen:
        for key in (f"serial:{record.serial}" if record.serial else None, f"mac:{record.mac}" if record.mac else None):
            if key and (key not in latest or len(_plain(record)) > len(_plain(latest[key]) or {})):
                latest[key] = record
    for chunk in _chunks(sorted(latest)):
        again = [(finding_id, key) for finding_id, kind, key in db.session.execute(
            select(Finding.id, Finding.kind, Finding.key).where(Finding.status == FindingStatus.OPEN,
                                                                Finding.key.in_(chunk)))
            if (kind, key) not in raised]
        for finding_id, key in again:
            values = {"last_run_id": run.id, "times_seen": Finding.times_seen + 1, "updated_at": utcnow()}
            if latest[key] is not None:
                values["seen"] = _plain(latest[key])
            db.session.execute(update(Finding).where(Finding.id == finding_id).values(**values))
    back = [f"device:{d}" for d in sorted(present)]
    for chunk in _chunks(back):
        db.session.execute(update(Finding).where(
            Finding.kind == FindingKind.MISSING, Finding.status == FindingStatus.OPEN, Finding.key.in_(chunk))
            .values(status=FindingStatus.RESOLVED, resolved_at=utcnow(), resolved_by=f"discovery:run {run.id}",
                    note="seen again"))


def _plain(seen: Seen | None) -> dict | None:
    if seen is None:
        return None
    return {name: value for name, value in asdict(seen).items() if value is not None}


def _chunks(items: Sequence, size: int = _CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def summary(run: DiscoveryRun) -> dict:
    """The run as `fleet discover --json` and the API print it."""
    counts = run.counts or {}
    return {"run_id": run.id, "school": run.school.code, "trigger": run.trigger, "status": run.status,
            "duration_s": run.duration_s, "counts": {name: counts.get(name, 0) for name in COUNTED},
            "errors": list(run.errors or []), "message": run.message}
