"""The review queue service: what accepting, ignoring, linking and reopening a finding does, and what it refuses."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from discovery import findings, runs
from discovery.collect import Collected, Record
from discovery.models import DiscoveryRun, Finding
from inventory.audit import acting_as
from inventory.db import utcnow
from inventory.errors import Conflict, FleetError, InvalidInput, NotFound, UnknownRoom, UnknownSchool
from inventory.models import AuditEvent, Device

MAC_NEW, MAC_WLAN, MAC_OLD = "6c:dc:6a:00:00:99", "6c:dc:6a:00:00:9a", "00:02:75:00:00:0a"
RANDOM = "02:11:22:33:44:55"


# Factories for runs and findings made directly with the models; the API and CLI tests import them too.

def add_run(db, school, trigger="manual", status="succeeded", counts=None, errors=(), minutes_ago=60, seconds=12.5):
    """A finished discovery run of school."""
    started = utcnow() - timedelta(minutes=minutes_ago)
    run = DiscoveryRun(school_id=school.id, trigger=trigger, status=status, started_at=started,
                       finished_at=None if status == "running" else started + timedelta(seconds=seconds),
                       counts=counts or {"alive": 3, "matched": 1, "new": 1}, errors=list(errors))
    db.session.add(run)
    db.session.commit()
    return run


def add_finding(db, school, kind="new", key=None, seen=None, device=None, status="open", run=None, detail=None):
    """A finding of school, raised by run (a new run if none is given)."""
    run = run or add_run(db, school)
    seen = {"ip": "10.1.0.30", "mac": MAC_NEW} if seen is None else seen
    if key is None:
        key = (f"device:{device.id}" if device is not None else
               f"serial:{seen['serial']}" if seen.get("serial") else f"mac:{seen.get('mac')}")
    finding = Finding(school_id=school.id, kind=kind, key=key, status=status, first_run_id=run.id,
                      last_run_id=run.id, device_id=device.id if device is not None else None,
                      detail=detail or f"{kind} {key}", seen=seen)
    db.session.add(finding)
    db.session.commit()
    return finding


def events(db, object_type, object_id):
    query = select(AuditEvent).where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def school(make_school):
    return make_school("gs-test", rooms=("A101", "A102"))


@pytest.fixture
def other(make_school):
    return make_school("gs-other", rooms=("B201",))


# --- accept -----------------------------------------------------------------------------------------------------

def test_accepting_a_new_finding_creates_an_active_device_from_what_was_seen(db, school):
    run = add_run(db, school)
    finding = add_finding(db, school, run=run, seen={
        "ip": "10.1.0.30", "mac": MAC_NEW, "serial": "SB-77", "hostname": "board-a102", "kind": "interactive_display",
        "vendor": "SMART Technologies", "model": "MX275", "where": "switch sw1 port 7"})
    with acting_as("cli:anna"):
        accepted = findings.accept(finding.id, room="A102")
    device = db.session.get(Device, accepted.device_id)
    assert (device.school.code, device.room.code, device.kind, device.status) == (
        "gs-test", "A102", "interactive_display", "active")
    assert (device.vendor, device.model, device.serial, device.hostname) == ("SMART Technologies", "MX275", "SB-77",
                                                                             "board-a102")
    assert [(i.mac, i.kind, i.last_ip) for i in device.interfaces] == [(MAC_NEW, "lan", "10.1.0.30")]
    assert (device.last_seen_ip, device.last_seen_where, device.last_seen_at) == (
        "10.1.0.30", "switch sw1 port 7", run.finished_at)
    assert (accepted.status, accepted.resolved_by) == ("accepted", "cli:anna") and accepted.resolved_at is not None
    assert [e.action for e in events(db, "device", device.id)] == ["create"]
    [event] = events(db, "finding", finding.id)
    assert (event.action, event.actor, event.school_code) == ("accept", "cli:anna", "gs-test")
    assert event.changes == {"status": ["open", "accepted"], "device_id": [None, device.id]}


@pytest.mark.parametrize("seen_name, hostname", [
    ("lt-0042.schule.lindenau.example", "lt-0042.schule.lindenau.example"),
    ("lt-0042." + "sehr-lange-domain." * 4 + "example", "lt-0042"),  # longer than a hostname column holds
    ("Lehrer Laptop (Raum 2)", None),
])
def test_a_new_device_gets_kind_other_for_an_unknown_kind_and_a_hostname_only_if_it_is_one(
        db, school, seen_name, hostname):
    finding = add_finding(db, school, seen={"mac": MAC_NEW, "kind": "toaster", "hostname": seen_name})
    device = findings.accept(finding.id).device
    assert (device.kind, device.hostname, device.room) == ("other", hostname, None)


def test_a_randomised_mac_never_becomes_an_interface_of_an_accepted_device(db, school):
    finding = add_finding(db, school, seen={"mac": RANDOM, "serial": "TAB-1", "kind": "tablet"})
    device = findings.accept(finding.id).device
    assert device.serial == "TAB-1" and device.interfaces == []


def test_a_host_seen_only_with_a_randomised_mac_cannot_be_accepted(db, school):
    finding = add_finding(db, school, seen={"ip": "10.1.0.31", "mac": RANDOM})
    with pytest.raises(InvalidInput, match="randomised MAC 02:11:22:33:44:55"):
        findings.accept(finding.id)
    assert count(db, Device) == 0 and db.session.get(Finding, finding.id).status == "open"


@pytest.mark.parametrize("taken", [{"serial": "SB-77"}, {"interfaces": [{"mac": MAC_NEW}]}])
def test_accepting_a_new_host_whose_identity_a_device_now_holds_is_a_conflict_naming_it(
        db, school, make_device, taken):
    holder = make_device(school, hostname="nb-07", **taken)
    finding = add_finding(db, school, seen={"mac": MAC_NEW, "serial": "SB-77"})
    with pytest.raises(Conflict, match=f"device {holder.id} \\(nb-07\\); link the finding to that device instead"):
        findings.accept(finding.id)
    assert count(db, Device) == 1 and db.session.get(Finding, finding.id).status == "open"
    assert events(db, "finding", finding.id) == []


def test_accepting_into_an_unknown_room_creates_nothing(db, school):
    finding = add_finding(db, school)
    with pytest.raises(UnknownRoom, match="Z999"):
        findings.accept(finding.id, room="Z999")
    assert count(db, Device) == 0


def test_accepting_a_move_from_another_school_moves_the_device_and_clears_its_old_room(db, school, other,
                                                                                       make_device):
    laptop = make_device(other, room="B201", serial="LT-1")
    finding = add_finding(db, school, kind="moved", device=laptop, seen={"serial": "LT-1", "where": "switch s port 3"})
    findings.accept(finding.id)
    device = db.session.get(Device, laptop.id)
    assert (device.school.code, device.room, device.last_seen_where) == ("gs-test", None, "switch s port 3")
    changes = [e.changes for e in events(db, "device", laptop.id)][1:]
    assert {"school": ["gs-other", "gs-test"], "room": ["B201", None]}.items() <= changes[0].items()
    assert changes[1] == {"last_seen_where": [None, "switch s port 3"]}


def test_accepting_a_move_with_a_room_places_the_device_there(db, school, other, make_device):
    laptop = make_device(other, room="B201")
    finding = add_finding(db, school, kind="moved", device=laptop, seen={"room": "A101"})
    findings.accept(finding.id, room="A102")
    assert db.session.get(Device, laptop.id).room.code == "A102"


def test_accepting_a_move_within_the_school_takes_the_seen_room(db, school, make_device):
    board = make_device(school, room="A101")
    finding = add_finding(db, school, kind="moved", device=board, seen={"room": "A102", "where": "switch s port 9"})
    findings.accept(finding.id)
    device = db.session.get(Device, board.id)
    assert (device.room.code, device.last_seen_where) == ("A102", "switch s port 9")


def test_accepting_a_missing_finding_marks_the_device_missing(db, school, make_device):
    laptop = make_device(school, room="A101")
    finding = add_finding(db, school, kind="missing", device=laptop, seen={})
    findings.accept(finding.id)
    assert db.session.get(Device, laptop.id).status == "missing"
    assert events(db, "device", laptop.id)[-1].changes == {"status": ["active", "missing"]}


def test_a_room_makes_no_sense_for_a_missing_device(db, school, make_device):
    finding = add_finding(db, school, kind="missing", device=make_device(school), seen={})
    with pytest.raises(InvalidInput, match="leave out the room"):
        findings.accept(finding.id, room="A101")


def test_accepting_a_changed_finding_sets_the_device_active(db, school, make_device):
    stocked = make_device(school, status="in_stock", serial="S-5")
    finding = add_finding(db, school, kind="changed", device=stocked, seen={"serial": "S-5"})
    findings.accept(finding.id, room="A101")
    device = db.session.get(Device, stocked.id)
    assert (device.status, device.room.code) == ("active", "A101")


def test_a_retired_device_cannot_come_back_while_another_holds_its_serial(db, school, make_device):
    retired = make_device(school, status="retired", serial="S-5")
    successor = make_device(school, serial="S-5", hostname="nb-new")
    finding = add_finding(db, school, kind="changed", device=retired, seen={"serial": "S-5"})
    with pytest.raises(Conflict, match=f"device {successor.id} \\(nb-new\\)"):
        findings.accept(finding.id)
    assert db.session.get(Device, retired.id).status == "retired"


def test_a_conflict_is_not_accepted_but_linked_or_ignored(db, school, make_device):
    finding = add_finding(db, school, kind="conflict", device=make_device(school, serial="S-1"),
                          seen={"serial": "S-2"})
    with pytest.raises(InvalidInput, match="link the finding to the device the host is, or ignore it"):
        findings.accept(finding.id)


@pytest.mark.parametrize("status", ["accepted", "ignored", "linked", "resolved"])
@pytest.mark.parametrize("action", ["accept", "ignore"])
def test_only_an_open_finding_can_be_acted_on(db, school, status, action):
    finding = add_finding(db, school, status=status)
    with pytest.raises(Conflict, match=f"finding {finding.id} is {status}, not open"):
        getattr(findings, action)(finding.id)
    assert count(db, AuditEvent) == 0


def test_an_unknown_finding_is_not_found(db):
    with pytest.raises(NotFound, match="finding 404 does not exist"):
        findings.accept(404)


def test_the_guard_refuses_findings_of_schools_it_does_not_allow(db, school, other, make_device):
    finding = add_finding(db, school, kind="moved", device=make_device(other))

    def only_gs_test(code):
        if code != "gs-test":
            raise FleetError(f"not '{code}'")

    with pytest.raises(FleetError, match="not 'gs-other'"):  # taking a device away from its school is its concern
        findings.accept(finding.id, guard=only_gs_test)
    assert db.session.get(Finding, finding.id).status == "open"


# --- ignore, reopen ---------------------------------------------------------------------------------------------

def test_ignoring_keeps_the_note_and_who_decided_and_reopening_undoes_it(db, school):
    finding = add_finding(db, school)
    with acting_as("cli:bernd"):
        findings.ignore(finding.id, note="Beamer des Fördervereins")
    ignored = db.session.get(Finding, finding.id)
    assert (ignored.status, ignored.note, ignored.resolved_by) == ("ignored", "Beamer des Fördervereins", "cli:bernd")
    findings.reopen(finding.id)
    reopened = db.session.get(Finding, finding.id)
    assert (reopened.status, reopened.resolved_at, reopened.resolved_by) == ("open", None, None)
    assert [e.action for e in events(db, "finding", finding.id)] == ["ignore", "reopen"]


def test_only_an_ignored_finding_can_be_reopened(db, school):
    finding = add_finding(db, school, status="accepted")
    with pytest.raises(Conflict, match="only an ignored finding can be reopened"):
        findings.reopen(finding.id)


def _run(school, *records):
    collected = Collected(records=tuple(records), errors=(), probed=254, alive=len(records), snmp=0)
    return runs.apply_run(runs.start_run(school, "manual").id, collected)


def test_a_later_run_does_not_raise_an_ignored_finding_again(db, school):
    _run(school, Record("ping", ip="10.1.0.30", mac=MAC_NEW))
    finding = db.session.scalars(select(Finding)).one()
    findings.ignore(finding.id)
    second = _run(school, Record("ping", ip="10.1.0.30", mac=MAC_NEW))
    assert second.counts["new"] == 0 and count(db, Finding) == 1


def test_after_accepting_a_new_host_the_next_run_knows_it(db, school):
    _run(school, Record("ping", ip="10.1.0.30", mac=MAC_NEW))
    device = findings.accept(db.session.scalars(select(Finding)).one().id).device
    second = _run(school, Record("ping", ip="10.1.0.44", mac=MAC_NEW))
    assert second.counts["matched"] == 1 and second.counts["new"] == 0
    assert db.session.get(Device, device.id).last_seen_ip == "10.1.0.44"


# --- link -------------------------------------------------------------------------------------------------------

def test_linking_a_new_host_gives_the_device_its_mac_and_serial(db, school, make_device):
    laptop = make_device(school, interfaces=[{"mac": MAC_OLD, "kind": "wlan", "last_ip": "10.1.0.9"}])
    finding = add_finding(db, school, seen={"ip": "10.1.0.30", "mac": MAC_NEW, "serial": "LT-9"})
    linked = findings.link(finding.id, laptop.id)
    device = db.session.get(Device, laptop.id)
    assert (linked.status, linked.device_id, device.serial) == ("linked", laptop.id, "LT-9")
    assert [(i.mac, i.kind, i.last_ip) for i in device.interfaces] == [
        (MAC_OLD, "wlan", "10.1.0.9"), (MAC_NEW, "lan", "10.1.0.30")]
    assert events(db, "device", laptop.id)[-1].changes["serial"] == [None, "LT-9"]
    assert events(db, "finding", finding.id)[0].action == "link"


def test_linking_skips_a_randomised_mac_but_keeps_the_serial(db, school, make_device):
    tablet = make_device(school, kind="tablet")
    finding = add_finding(db, school, seen={"mac": RANDOM, "serial": "TAB-2"})
    findings.link(finding.id, tablet.id)
    device = db.session.get(Device, tablet.id)
    assert device.serial == "TAB-2" and device.interfaces == []


@pytest.mark.parametrize("seen, device_fields, message", [
    ({"mac": RANDOM}, {}, "randomised MAC"),
    ({"mac": MAC_NEW, "serial": "LT-9"}, {"serial": "LT-1"}, "records serial LT-1 but the host reports LT-9"),
])
def test_linking_refuses_what_would_be_a_wrong_identity(db, school, make_device, seen, device_fields, message):
    laptop = make_device(school, **device_fields)
    finding = add_finding(db, school, seen=seen)
    with pytest.raises(InvalidInput, match=message):
        findings.link(finding.id, laptop.id)
    assert db.session.get(Device, laptop.id).interfaces == []


@pytest.mark.parametrize("holder_fields", [{"serial": "LT-9"}, {"interfaces": [{"mac": MAC_NEW}]}])
def test_linking_refuses_an_identity_another_device_holds_and_names_it(db, school, make_device, holder_fields):
    holder = make_device(school, hostname="nb-holder", **holder_fields)
    laptop = make_device(school)
    finding = add_finding(db, school, seen={"mac": MAC_NEW, "serial": "LT-9"})
    with pytest.raises(Conflict, match=f"device {holder.id} \\(nb-holder\\)"):
        findings.link(finding.id, laptop.id)
    assert db.session.get(Finding, finding.id).status == "open"


def test_a_conflict_can_be_linked_once_the_records_agree(db, school, make_device):
    board = make_device(school, serial="SB-1", interfaces=[{"mac": MAC_OLD}])
    finding = add_finding(db, school, kind="conflict", device=board, seen={"mac": MAC_OLD, "serial": "SB-1"})
    assert findings.link(finding.id, board.id).status == "linked"


@pytest.mark.parametrize("target, message", [("missing", "no device with id 999"), ("retired", "is retired")])
def test_linking_needs_a_live_device(db, school, make_device, target, message):
    device_id = make_device(school, status="retired").id if target == "retired" else 999
    finding = add_finding(db, school)
    with pytest.raises(InvalidInput, match=message):
        findings.link(finding.id, device_id)


def test_a_moved_finding_is_not_linked(db, school, make_device):
    finding = add_finding(db, school, kind="moved", device=make_device(school))
    with pytest.raises(InvalidInput, match="accept or ignore it"):
        findings.link(finding.id, finding.device_id)


# --- bulk -------------------------------------------------------------------------------------------------------

def test_bulk_accept_applies_every_finding_in_one_go(db, school, make_device):
    first = add_finding(db, school, seen={"mac": MAC_NEW})
    second = add_finding(db, school, kind="missing", device=make_device(school), seen={})
    done = findings.bulk("accept", [first.id, second.id, first.id])
    assert [f.id for f in done] == [first.id, second.id]
    assert {f.status for f in db.session.scalars(select(Finding))} == {"accepted"}


def test_bulk_is_all_or_nothing_and_names_every_refused_finding(db, school, make_device):
    good = add_finding(db, school, seen={"mac": MAC_NEW})
    closed = add_finding(db, school, seen={"mac": MAC_WLAN}, status="accepted")
    conflict = add_finding(db, school, kind="conflict", device=make_device(school), seen={"serial": "X"})
    with pytest.raises(findings.BulkRejected) as caught:
        findings.bulk("accept", [good.id, closed.id, conflict.id, 404])
    error = caught.value
    assert [(e["id"], e["error"]) for e in error.fields["ids"]] == [
        (closed.id, "Conflict"), (conflict.id, "InvalidInput"), (404, "NotFound")]
    assert error.status == 422 and "3 of 4 finding(s) could not be accepted; nothing was changed" == error.message
    db.session.expire_all()
    assert count(db, Device) == 1  # only the conflict's device: the good finding's device was rolled back
    assert db.session.get(Finding, good.id).status == "open"
    assert events(db, "finding", good.id) == []


def test_a_bulk_refusal_of_one_kind_keeps_its_status(db, school):
    with pytest.raises(findings.BulkRejected) as caught:
        findings.bulk("ignore", [7, 8])
    assert caught.value.status == 404 and caught.value.lines == ["finding 7 does not exist", "finding 8 does not exist"]


def test_bulk_sees_what_earlier_findings_did(db, school):
    # The same host under two keys: the second would make a device with the MAC the first one just got.
    first = add_finding(db, school, key="serial:S-1", seen={"mac": MAC_NEW, "serial": "S-1"})
    second = add_finding(db, school, key=f"mac:{MAC_NEW}", seen={"mac": MAC_NEW})
    with pytest.raises(findings.BulkRejected) as caught:
        findings.bulk("accept", [first.id, second.id])
    assert [e["id"] for e in caught.value.fields["ids"]] == [second.id]
    assert "link the finding to that device instead" in caught.value.lines[0]
    assert count(db, Device) == 0


def test_bulk_link_gives_one_device_the_lan_and_wlan_mac_it_was_seen_with(db, school, make_device):
    laptop = make_device(school)
    lan = add_finding(db, school, seen={"mac": MAC_NEW})
    wlan = add_finding(db, school, seen={"mac": MAC_WLAN})
    findings.bulk("link", [lan.id, wlan.id], device=laptop.id)
    assert sorted(i.mac for i in db.session.get(Device, laptop.id).interfaces) == [MAC_NEW, MAC_WLAN]


@pytest.mark.parametrize("action, options, field", [
    ("ignore", {"room": "A101"}, "room"), ("link", {}, "device"), ("delete", {}, "action")])
def test_bulk_refuses_options_that_do_not_fit_the_action(db, action, options, field):
    with pytest.raises(InvalidInput) as caught:
        findings.bulk(action, [1], **options)
    assert field in caught.value.fields


# --- lists ------------------------------------------------------------------------------------------------------

def test_the_queue_lists_open_findings_newest_first_unless_told_otherwise(db, school, other):
    older = add_finding(db, school, seen={"mac": MAC_NEW})
    ignored = add_finding(db, school, seen={"mac": MAC_WLAN}, status="ignored")
    newer = add_finding(db, other, seen={"mac": MAC_OLD})
    assert [f.id for f in findings.list_findings().results] == [newer.id, older.id]
    assert [f.id for f in findings.list_findings(status=["all"], sort="id").results] == [older.id, ignored.id,
                                                                                         newer.id]
    assert [f.id for f in findings.list_findings(school=["gs-test"], status=["ignored", "open"]).results] == [
        ignored.id, older.id]
    page = findings.list_findings(status=["all"], per_page=2, page=2)
    assert (page.count, [f.id for f in page.results]) == (3, [older.id])


def test_the_queue_filters_by_run_kind_and_device(db, school, make_device):
    laptop = make_device(school)
    run = add_run(db, school)
    missing = add_finding(db, school, kind="missing", device=laptop, seen={}, run=run)
    add_finding(db, school)
    assert [f.id for f in findings.list_findings(run=run.id).results] == [missing.id]
    assert [f.id for f in findings.list_findings(kind=["missing"]).results] == [missing.id]
    assert [f.id for f in findings.list_findings(device=laptop.id).results] == [missing.id]


def test_a_bad_sort_or_school_is_a_clear_error(db, school):
    with pytest.raises(InvalidInput, match="cannot sort by 'colour'"):
        findings.list_findings(sort="colour")
    with pytest.raises(UnknownSchool, match="nope"):
        findings.list_runs(school=["nope"])


def test_runs_are_listed_newest_first_and_filter_by_status_and_trigger(db, school, other):
    first = add_run(db, school, minutes_ago=90)
    failed = add_run(db, other, status="failed", trigger="schedule", minutes_ago=30)
    assert [r.id for r in findings.list_runs().results] == [failed.id, first.id]
    assert [r.id for r in findings.list_runs(status=["failed"]).results] == [failed.id]
    assert [r.id for r in findings.list_runs(trigger=["manual"], school=["gs-test"]).results] == [first.id]
    assert [r.id for r in findings.list_runs(sort="-school").results] == [first.id, failed.id]
