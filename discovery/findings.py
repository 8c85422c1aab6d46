"""The review queue: list runs and findings; accept, ignore, link or reopen findings, one at a time or in bulk.

Every action leaves an audit event on the finding (and the device service leaves its own on the device). A caller
limited to some schools passes `guard`, called with each school code an action touches; it raises to refuse.
"""

from collections.abc import Callable, Sequence

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import contains_eager

from inventory import audit
from inventory.db import db, utcnow
from inventory.devices import check_identities, register_device, room_by_code, school_by_code, update_device
from inventory.enums import DeviceKind, DeviceStatus
from inventory.errors import Conflict, DuplicateIdentity, FleetError, InvalidInput, NotFound
from inventory.models import Device, Room, School
from inventory.netvalues import is_hostname, is_locally_administered
from inventory.queries import Page

from .models import DiscoveryRun, Finding, FindingKind, FindingStatus, Observation

Guard = Callable[[str], None]
ACTIONS = ("accept", "ignore", "link", "reopen")
ALL = "all"  # the status filter value that lists findings of every status
KINDS = frozenset(kind.value for kind in DeviceKind)

RUN_SORTABLE = {"id": DiscoveryRun.id, "started_at": DiscoveryRun.started_at,
                "finished_at": DiscoveryRun.finished_at, "status": DiscoveryRun.status,
                "trigger": DiscoveryRun.trigger, "school": School.code}
FINDING_SORTABLE = {"id": Finding.id, "kind": Finding.kind, "status": Finding.status, "key": Finding.key,
                    "device": Finding.device_id, "times_seen": Finding.times_seen, "created_at": Finding.created_at,
                    "updated_at": Finding.updated_at, "resolved_at": Finding.resolved_at, "school": School.code}
OBSERVATION_SORTABLE = {"id": Observation.id, "source": Observation.source, "ip": Observation.ip,
                        "mac": Observation.mac, "hostname": Observation.hostname, "serial": Observation.serial}


# --- reading -------------------------------------------------------------------------------------------------------

def _school_ids(codes: Sequence[str]) -> list[int]:
    return [school_by_code(code).id for code in codes]


def _sorted(query: Select, sort: str | None, sortable: dict, tiebreak) -> Select:
    """'field' or '-field', comma-separated; newest first by default and as the last tie-break."""
    order, names = [], set()
    for part in (sort or "-id").split(","):
        name = part.strip().lstrip("-")
        if name not in sortable:
            raise InvalidInput(f"cannot sort by '{name}'", {"sort": [f"choose from {', '.join(sortable)}"]})
        names.add(name)
        order.append(sortable[name].desc() if part.strip().startswith("-") else sortable[name].asc())
    return query.order_by(*order) if "id" in names else query.order_by(*order, tiebreak.desc())


def _page(query: Select, id_column, sort, sortable, page: int, per_page: int, *options) -> Page:
    count = db.session.scalar(query.with_only_columns(func.count(id_column), maintain_column_froms=True))
    rows = db.session.scalars(_sorted(query, sort, sortable, id_column).options(*options)
                              .limit(per_page).offset((page - 1) * per_page))
    return Page(count=count, page=page, per_page=per_page, results=list(rows))


def list_runs(school=None, status=None, trigger=None, sort=None, page=1, per_page=50) -> Page:
    """Discovery runs, newest first unless sorted otherwise; lists mean 'any of'."""
    query = select(DiscoveryRun).join(School, DiscoveryRun.school_id == School.id)
    if school:
        query = query.where(DiscoveryRun.school_id.in_(_school_ids(school)))
    if status:
        query = query.where(DiscoveryRun.status.in_(status))
    if trigger:
        query = query.where(DiscoveryRun.trigger.in_(trigger))
    return _page(query, DiscoveryRun.id, sort, RUN_SORTABLE, page, per_page, contains_eager(DiscoveryRun.school))


def get_run(run_id: int) -> DiscoveryRun:
    """The run with this id, or NotFound."""
    run = db.session.get(DiscoveryRun, run_id)
    if run is None:
        raise NotFound(f"no discovery run with id {run_id}")
    return run


def run_findings(run_id: int) -> dict[str, int]:
    """How many of the findings a run raised stand in each status now."""
    rows = db.session.execute(select(Finding.status, func.count()).where(Finding.first_run_id == run_id)
                              .group_by(Finding.status))
    return dict(rows.all())


def list_observations(run_id: int, source=None, sort=None, page=1, per_page=50) -> Page:
    """What one run saw, record by record."""
    get_run(run_id)
    query = select(Observation).where(Observation.run_id == run_id)
    if source:
        query = query.where(Observation.source.in_(source))
    return _page(query, Observation.id, sort or "id", OBSERVATION_SORTABLE, page, per_page)


def list_findings(school=None, kind=None, status=None, run=None, device=None, sort=None, page=1,
                  per_page=50) -> Page:
    """Findings; open ones unless `status` says otherwise ('all' for every status)."""
    query = select(Finding).join(School, Finding.school_id == School.id)
    status = status or [FindingStatus.OPEN]
    if ALL not in status:
        query = query.where(Finding.status.in_(status))
    if school:
        query = query.where(Finding.school_id.in_(_school_ids(school)))
    if kind:
        query = query.where(Finding.kind.in_(kind))
    if run is not None:
        query = query.where(or_(Finding.first_run_id == run, Finding.last_run_id == run))
    if device is not None:
        query = query.where(Finding.device_id == device)
    return _page(query, Finding.id, sort, FINDING_SORTABLE, page, per_page, contains_eager(Finding.school))


def get_finding(finding_id: int, lock: bool = False) -> Finding:
    """The finding with this id, or NotFound; `lock` holds its row until the transaction ends."""
    query = select(Finding).where(Finding.id == finding_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    finding = db.session.scalar(query)
    if finding is None:
        raise NotFound(f"finding {finding_id} does not exist")
    return finding


# --- acting on one finding (no commit: the public functions below commit) -------------------------------------

def _open(finding: Finding, verb: str) -> None:
    if finding.status != FindingStatus.OPEN:
        hint = "; reopen it first" if finding.status == FindingStatus.IGNORED else ""
        raise Conflict(f"finding {finding.id} is {finding.status}, not open: only an open finding can be {verb}{hint}",
                       {"status": [finding.status]})


def _device_of(finding: Finding) -> Device:
    if finding.device is None:
        raise InvalidInput(f"finding {finding.id} names no device any more (it was deleted); ignore the finding")
    return finding.device


def _universal(finding: Finding) -> tuple[str | None, str | None]:
    """The seen universal MAC and serial; refuses a host that only a randomised MAC (or nothing) identifies."""
    seen = finding.seen or {}
    mac, serial = seen.get("mac"), seen.get("serial")
    universal = mac if mac and not is_locally_administered(mac) else None
    if universal is None and not serial:
        why = (f"the host showed only the randomised MAC {mac}, which never identifies a device" if mac
               else "the host showed neither a serial nor a MAC")
        raise InvalidInput(f"finding {finding.id}: {why}; nothing would recognise it again",
                           {"seen": ["no serial and no universal MAC"]})
    return universal, serial


def _free(finding: Finding, serial, macs: list[str], exclude_id=None, asset_tag=None, hint: str = "") -> None:
    """The identities are nobody else's; otherwise a 409 naming the device that holds them."""
    try:
        check_identities(serial, asset_tag, macs, exclude_id)
    except DuplicateIdentity as error:
        error.message = f"finding {finding.id}: {error.message}{hint}"
        error.args = (error.message,)
        raise


def _room(school: School, code: str | None) -> str | None:
    """code if it names a room of school (else UnknownRoom), None for no code."""
    return room_by_code(school, code).code if code else None


def _seen_room(school: School, code: str | None) -> str | None:
    # A seen room comes from the run's mapping; one the school lacks is not worth refusing the accept over.
    if not code:
        return None
    return db.session.scalar(select(Room.code).where(Room.school_id == school.id, Room.code == code))


def _last_run_time(finding: Finding):
    run = db.session.get(DiscoveryRun, finding.last_run_id) if finding.last_run_id else None
    return (run.finished_at or run.started_at) if run else finding.updated_at or utcnow()


def _new_device(finding: Finding, room: str | None) -> Device:
    mac, serial = _universal(finding)
    seen = finding.seen or {}
    _room(finding.school, room)
    _free(finding, serial, [mac] if mac else [], hint="; link the finding to that device instead")
    hostname = (seen.get("hostname") or "").strip()
    if not is_hostname(hostname):  # SNMP sysName may be a long FQDN or free text
        hostname = hostname.split(".", 1)[0] if is_hostname(hostname.split(".", 1)[0]) else None
    data = {"school": finding.school.code, "kind": seen.get("kind") if seen.get("kind") in KINDS else "other",
            "status": DeviceStatus.ACTIVE, "vendor": (seen.get("vendor") or "")[:80] or None,
            "model": seen.get("model"), "serial": serial, "hostname": hostname,
            "interfaces": [{"mac": mac, "kind": "lan", "last_ip": seen.get("ip")}] if mac else []}
    if room:
        data["room"] = room
    device = register_device(data, commit=False)
    device.last_seen_at, device.last_seen_ip = _last_run_time(finding), seen.get("ip")
    device.last_seen_where = seen.get("where")
    return device


def _move(finding: Finding, device: Device, room: str | None, guard: Guard | None) -> Device:
    seen, school = finding.seen or {}, finding.school
    data = {}
    if device.school_id != finding.school_id:
        _guarded(guard, device.school.code)  # taking a device away from a school needs a say there too
        data.update(school=school.code, room=None)
    target = _room(school, room) or _seen_room(school, seen.get("room"))
    if target:
        data["room"] = target
    update_device(device.id, data, commit=False)
    where = seen.get("where")
    if where and where != device.last_seen_where:
        audit.record("update", "device", device.id, device.label,
                     {"last_seen_where": [device.last_seen_where, where]}, school.code)
        device.last_seen_where = where
    return device


def _missing(finding: Finding, device: Device, room: str | None) -> Device:
    if room:
        raise InvalidInput(f"finding {finding.id}: a missing device is in no room; leave out the room",
                           {"room": ["not for a missing device"]})
    if device.status == DeviceStatus.RETIRED:
        raise Conflict(f"finding {finding.id}: device {device.id} ({device.label}) is retired, so it is not "
                       f"missing; ignore the finding")
    return update_device(device.id, {"status": DeviceStatus.MISSING}, commit=False)


def _changed(finding: Finding, device: Device, room: str | None) -> Device:
    # Back from retirement, its serial and MACs must still be its own.
    _free(finding, device.serial, [i.mac for i in device.interfaces], device.id, device.asset_tag)
    data = {"status": DeviceStatus.ACTIVE}
    if room:
        data["room"] = _room(device.school, room)
    return update_device(device.id, data, commit=False)


def _accept(finding_id: int, room: str | None = None, guard: Guard | None = None) -> Finding:
    finding = get_finding(finding_id, lock=True)
    _open(finding, "accepted")
    _guarded(guard, finding.school.code)
    if finding.kind == FindingKind.CONFLICT:
        raise InvalidInput(f"finding {finding.id} is a conflict: one host shows identities that disagree with the "
                           f"inventory, and accepting cannot say which is right; correct the device, then link the "
                           f"finding to the device the host is, or ignore it", {"kind": ["conflict"]})
    if finding.kind == FindingKind.NEW:
        device = _new_device(finding, room)
    elif finding.kind == FindingKind.MOVED:
        device = _move(finding, _device_of(finding), room, guard)
    elif finding.kind == FindingKind.MISSING:
        device = _missing(finding, _device_of(finding), room)
    else:
        device = _changed(finding, _device_of(finding), room)
    return _close(finding, FindingStatus.ACCEPTED, "accept", device)


def _link(finding_id: int, device: int | None = None, guard: Guard | None = None) -> Finding:
    finding = get_finding(finding_id, lock=True)
    _open(finding, "linked")
    _guarded(guard, finding.school.code)
    if finding.kind not in (FindingKind.NEW, FindingKind.CONFLICT):
        raise InvalidInput(f"finding {finding.id} is a '{finding.kind}' finding, which names its device already; "
                           f"accept or ignore it", {"kind": ["only new and conflict findings are linked"]})
    target = db.session.get(Device, device) if device is not None else None
    if target is None or target.status == DeviceStatus.RETIRED:
        why = f"no device with id {device}" if target is None else f"device {device} ({target.label}) is retired"
        raise InvalidInput(f"finding {finding.id}: {why}", {"device": [why]})
    _guarded(guard, target.school.code)
    mac, serial = _universal(finding)
    if serial and target.serial and target.serial != serial:
        raise InvalidInput(f"finding {finding.id}: device {target.id} ({target.label}) records serial "
                           f"{target.serial} but the host reports {serial}; correct the device first if the host is "
                           f"that device", {"device": ["records another serial"]})
    macs = [i.mac for i in target.interfaces]
    data = {}
    if mac and mac not in macs:
        data["interfaces"] = [{"mac": i.mac, "kind": i.kind, "last_ip": i.last_ip} for i in target.interfaces]
        data["interfaces"].append({"mac": mac, "kind": "lan", "last_ip": (finding.seen or {}).get("ip")})
    if serial and not target.serial:
        data["serial"] = serial
    _free(finding, data.get("serial"), [mac] if "interfaces" in data else [], target.id,
          hint="; if the host is that device, link the finding to it")
    if data:
        update_device(target.id, data, commit=False)
    return _close(finding, FindingStatus.LINKED, "link", target)


def _ignore(finding_id: int, note: str | None = None, guard: Guard | None = None) -> Finding:
    finding = get_finding(finding_id, lock=True)
    _open(finding, "ignored")
    _guarded(guard, finding.school.code)
    if note is not None:
        finding.note = note
    return _close(finding, FindingStatus.IGNORED, "ignore", finding.device)


def _reopen(finding_id: int, guard: Guard | None = None) -> Finding:
    finding = get_finding(finding_id, lock=True)
    _guarded(guard, finding.school.code)
    if finding.status != FindingStatus.IGNORED:
        raise Conflict(f"finding {finding.id} is {finding.status}: only an ignored finding can be reopened",
                       {"status": [finding.status]})
    # Ignored already counts as standing, so the partial unique index kept every other finding of this kind and
    # key from being raised meanwhile: going back to open cannot collide.
    return _close(finding, FindingStatus.OPEN, "reopen", finding.device)


def _guarded(guard: Guard | None, school_code: str) -> None:
    if guard is not None:
        guard(school_code)


def _close(finding: Finding, status: str, action: str, device: Device | None) -> Finding:
    """Set the finding's status and who decided when, and audit the change."""
    before = {"status": finding.status, "device_id": finding.device_id, "note": finding.note}
    finding.status, finding.device = status, device
    reopened = status == FindingStatus.OPEN
    finding.resolved_at = None if reopened else utcnow()
    finding.resolved_by = None if reopened else audit.current_actor()
    db.session.flush()
    after = {"status": finding.status, "device_id": finding.device_id, "note": finding.note}
    audit.record(action, "finding", finding.id, f"{finding.kind} {finding.key}", audit.diff(before, after),
                 finding.school.code)
    return finding


_DO = {"accept": _accept, "ignore": _ignore, "link": _link, "reopen": _reopen}
_PAST = {"accept": "accepted", "ignore": "ignored", "link": "linked", "reopen": "reopened"}
_OPTIONS = {"accept": {"room"}, "ignore": {"note"}, "link": {"device"}, "reopen": set()}


# --- the public actions ---------------------------------------------------------------------------------------------

def _options(action: str, options: dict) -> dict:
    """The options given (not None), refusing an unknown action and options that are not the action's."""
    if action not in _DO:
        raise InvalidInput(f"unknown action '{action}'", {"action": [f"choose from {', '.join(ACTIONS)}"]})
    given = {name: value for name, value in options.items() if value is not None}
    if stray := sorted(set(given) - _OPTIONS[action]):
        raise InvalidInput(f"{', '.join(stray)}: not for {action}", {name: [f"not for {action}"] for name in stray})
    if action == "link" and "device" not in given:
        raise InvalidInput("link needs the device the findings are", {"device": ["required for link"]})
    return given


def act(action: str, finding_id: int, guard: Guard | None = None, **options) -> Finding:
    """One action ('accept', 'ignore', 'link', 'reopen') on one finding, committed; a refusal changes nothing."""
    options = _options(action, options)
    try:
        finding = _DO[action](finding_id, guard=guard, **options)
    except FleetError:
        db.session.rollback()
        raise
    db.session.commit()
    return finding


def accept(finding_id: int, room: str | None = None, guard: Guard | None = None) -> Finding:
    """Apply what a finding reports (create, move, mark missing, reactivate) and close it as accepted."""
    return act("accept", finding_id, guard, room=room)


def ignore(finding_id: int, note: str | None = None, guard: Guard | None = None) -> Finding:
    """Close a finding as ignored; later runs do not raise its kind and key again."""
    return act("ignore", finding_id, guard, note=note)


def link(finding_id: int, device_id: int, guard: Guard | None = None) -> Finding:
    """Say the host of a new (or conflict) finding is an existing device: it gains the seen MAC and serial."""
    return act("link", finding_id, guard, device=device_id)


def reopen(finding_id: int, guard: Guard | None = None) -> Finding:
    """Undo an ignore: the finding is open again."""
    return act("reopen", finding_id, guard)


class BulkRejected(FleetError):
    """Some findings of a bulk action were refused; nothing was changed."""

    def __init__(self, action: str, errors: list[tuple[int, FleetError]], total: int):
        statuses = {error.status for _, error in errors}
        self.status = statuses.pop() if len(statuses) == 1 else 422  # one cause keeps its status
        self.lines = [error.message for _, error in errors]
        super().__init__(f"{len(errors)} of {total} finding(s) could not be {_PAST[action]}; nothing was changed",
                         {"ids": [{"id": i, "error": e.name, "message": e.message} for i, e in errors]})


def bulk(action: str, ids: Sequence[int], guard: Guard | None = None, **options) -> list[Finding]:
    """One action over many findings in one transaction: all succeed, or nothing changes and every refusal is named."""
    options = _options(action, options)
    ids = list(dict.fromkeys(ids))
    # Touching the rows first locks them on PostgreSQL, and on SQLite makes the driver open a real transaction:
    # a SAVEPOINT opened outside one would commit on release, and the rollback below could not undo it.
    db.session.execute(update(Finding).where(Finding.id.in_(ids)).values(updated_at=utcnow())
                       .execution_options(synchronize_session=False))
    done, errors = [], []
    for finding_id in ids:
        try:
            with db.session.begin_nested():  # a refused finding leaves no half-made device behind
                done.append(_DO[action](finding_id, guard=guard, **options))
        except FleetError as error:
            if not error.message.startswith((f"finding {finding_id} ", f"finding {finding_id}:")):
                error.message = f"finding {finding_id}: {error.message}"
            errors.append((finding_id, error))
    if errors:
        db.session.rollback()
        raise BulkRejected(action, errors, len(ids))
    db.session.commit()
    return done
