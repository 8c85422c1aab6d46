"""Applying discovery runs to the inventory: one transaction, findings never duplicated, failures leave no trace."""

import pytest
from sqlalchemy import func, select

from discovery import runs
from discovery.collect import Collected, Record
from discovery.lease import Busy, acquire, leased, release
from discovery.models import DiscoveryLease, DiscoveryRun, Finding, Observation
from inventory.models import AuditEvent, Device, Interface

MAC_A, MAC_B, MAC_NEW = "00:02:75:00:00:0a", "00:02:75:00:00:0b", "6c:dc:6a:00:00:99"
RANDOM = "02:11:22:33:44:55"


def batch(*records, probed=254, errors=()):
    alive = len({r.ip for r in records if r.ip})
    return Collected(records=tuple(records), errors=tuple(errors), probed=probed, alive=alive,
                     snmp=sum(r.source == "snmp" for r in records))


@pytest.fixture
def school(make_school):
    return make_school("gs-test", discovery={"missing_after": 2})


@pytest.fixture
def board(make_device, school):
    return make_device(school, kind="interactive_display", serial="SB-1", interfaces=[{"mac": MAC_A}], hostname="board-a101",
                       room="A101")


def run_once(school, collected, trigger="manual"):
    run = runs.start_run(school, trigger)
    return runs.apply_run(run.id, collected)


def test_a_matched_device_records_where_and_when_it_was_seen(db, school, board):
    run = run_once(school, batch(Record("ping", ip="10.1.0.20", mac=MAC_A),
                                 Record("fdb", mac=MAC_A, switch="sw1", port="Gi1/0/7")))
    device = db.session.get(Device, board.id)
    assert run.status == "succeeded" and run.counts["matched"] == 1
    assert device.last_seen_ip == "10.1.0.20" and device.last_seen_where == "switch sw1 port Gi1/0/7"
    assert device.last_seen_at is not None and device.unseen_runs == 0
    assert db.session.scalar(select(Interface.last_ip).where(Interface.mac == MAC_A)) == "10.1.0.20"
    assert db.session.scalar(select(func.count()).select_from(Observation).where(Observation.run_id == run.id)) == 2


def test_an_unknown_host_raises_one_new_finding_and_a_second_run_updates_it(db, school):
    first = run_once(school, batch(Record("ping", ip="10.1.0.30", mac=MAC_NEW, kind="interactive_display")))
    second = run_once(school, batch(Record("ping", ip="10.1.0.30", mac=MAC_NEW, kind="interactive_display")))
    findings = db.session.scalars(select(Finding)).all()
    assert [(f.kind, f.key, f.status) for f in findings] == [("new", f"mac:{MAC_NEW}", "open")]
    assert findings[0].first_run_id == first.id and findings[0].last_run_id == second.id
    assert findings[0].times_seen == 2 and findings[0].seen["ip"] == "10.1.0.30"
    assert first.counts["new"] == 1 and second.counts["new"] == 0


def test_an_ignored_finding_is_not_raised_again(db, school):
    run_once(school, batch(Record("ping", ip="10.1.0.30", mac=MAC_NEW)))
    finding = db.session.scalars(select(Finding)).one()
    finding.status = "ignored"
    db.session.commit()
    run_once(school, batch(Record("ping", ip="10.1.0.30", mac=MAC_NEW)))
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 1


def test_a_randomised_mac_never_raises_a_finding(db, school):
    run = run_once(school, batch(Record("ping", ip="10.1.0.31", mac=RANDOM)))
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 0
    assert run.counts["unidentified"] == 1


def test_a_device_unseen_for_n_runs_is_reported_missing_once(db, school, board):
    for _ in range(3):
        run_once(school, batch())
    findings = db.session.scalars(select(Finding)).all()
    assert [(f.kind, f.key, f.device_id) for f in findings] == [("missing", f"device:{board.id}", board.id)]
    assert db.session.get(Device, board.id).unseen_runs == 3
    assert db.session.get(Device, board.id).status == "active"  # nothing is changed because it was not seen


def test_a_missing_device_seen_again_resolves_its_finding(db, school, board):
    run_once(school, batch())
    run_once(school, batch())
    run_once(school, batch(Record("ping", ip="10.1.0.20", mac=MAC_A)))
    finding = db.session.scalars(select(Finding)).one()
    assert finding.status == "resolved" and finding.resolved_by.startswith("discovery:run")
    assert db.session.get(Device, board.id).unseen_runs == 0


def test_a_serial_proves_a_new_mac_which_becomes_an_interface_with_an_audit_event(db, school, board):
    run_once(school, batch(Record("snmp", ip="10.1.0.21", mac=MAC_B, serial="SB-1")))
    assert sorted(i.mac for i in db.session.get(Device, board.id).interfaces) == [MAC_A, MAC_B]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.object_id == board.id)
                               .order_by(AuditEvent.id.desc())).first()
    assert event.changes == {"macs": [None, MAC_B]} and event.actor.startswith("discovery:run")


def test_a_move_to_another_switch_port_is_a_finding(db, school, board):
    run_once(school, batch(Record("fdb", mac=MAC_A, switch="sw1", port="Gi1/0/7")))
    run = run_once(school, batch(Record("fdb", mac=MAC_A, switch="sw2", port="Gi1/0/1")))
    finding = db.session.scalars(select(Finding)).one()
    assert finding.kind == "moved" and "sw2" in finding.detail and run.counts["moved"] == 1


def test_a_failed_apply_leaves_the_inventory_unchanged_and_the_run_failed(db, school, board, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(runs, "_raise_findings", broken)
    run = runs.start_run(school, "manual")
    with pytest.raises(runs.DiscoveryFailed):
        runs.apply_run(run.id, batch(Record("ping", ip="10.1.0.20", mac=MAC_A),
                                     Record("ping", ip="10.1.0.30", mac=MAC_NEW)))
    db.session.expire_all()
    stored = db.session.get(DiscoveryRun, run.id)
    assert stored.status == "failed" and "disk full" in stored.message
    assert db.session.get(Device, board.id).last_seen_at is None
    assert db.session.scalar(select(func.count()).select_from(Observation)) == 0


def test_an_agent_batch_is_applied_once(db, school):
    collected = batch(Record("ping", ip="10.1.0.30", mac=MAC_NEW))
    run, applied = runs.receive_batch(school.code, collected, "batch-1")
    again, applied_again = runs.receive_batch(school.code, collected, "batch-1")
    assert applied and not applied_again and again.id == run.id
    assert db.session.scalar(select(func.count()).select_from(DiscoveryRun)) == 1


def test_the_lease_keeps_a_second_process_out_and_names_the_holder(db, school):
    with leased(school, "host-a:1"):
        with pytest.raises(Busy, match="host-a:1"):
            acquire(school, "host-b:2")
    acquire(school, "host-b:2")
    assert db.session.get(DiscoveryLease, school.id).holder == "host-b:2"
    release(school, "host-b:2")
    assert db.session.get(DiscoveryLease, school.id) is None


def test_an_expired_lease_is_taken_over_and_its_running_run_marked_abandoned(db, school):
    from datetime import timedelta
    acquire(school, "crashed:1", ttl=timedelta(seconds=-1))
    orphan = runs.start_run(school, "schedule")
    acquire(school, "host-b:2")
    db.session.expire_all()
    assert db.session.get(DiscoveryRun, orphan.id).status == "failed"
    assert "abandoned" in db.session.get(DiscoveryRun, orphan.id).message


def test_the_summary_has_the_documented_shape(db, school):
    run = run_once(school, batch(Record("ping", ip="10.1.0.30", mac=MAC_NEW), errors=({"ip": "10.1.0.9",
                                                                                       "message": "timeout"},)))
    out = runs.summary(run)
    assert set(out["counts"]) == {"probed", "alive", "snmp", "matched", "new", "moved", "missing", "conflict"}
    assert out["run_id"] == run.id and out["status"] == "succeeded" and out["duration_s"] >= 0
    assert out["errors"] == [{"ip": "10.1.0.9", "message": "timeout"}]


def test_an_agent_batch_records_devices_as_seen_when_collected_not_when_received(db, school, board):
    from datetime import UTC, datetime
    collected_at = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)
    run, _ = runs.receive_batch(school.code, batch(Record("ping", ip="10.1.0.20", mac=MAC_A)), "late-1", collected_at)
    assert run.started_at == collected_at
    assert db.session.get(Device, board.id).last_seen_at == collected_at


def test_an_open_finding_seen_again_shows_the_latest_sighting(db, school, board):
    run_once(school, batch(Record("fdb", mac=MAC_A, switch="sw1", port="Gi1/0/7")))
    run_once(school, batch(Record("fdb", mac=MAC_A, switch="sw2", port="Gi1/0/1")))
    run_once(school, batch(Record("fdb", mac=MAC_A, switch="sw3", port="Gi1/0/9")))
    finding = db.session.scalars(select(Finding)).one()
    assert finding.kind == "moved" and finding.times_seen == 2
    assert finding.seen["where"] == "switch sw3 port Gi1/0/9"


def test_a_batch_whose_apply_failed_is_applied_when_sent_again(db, school, board, monkeypatch):
    collected = batch(Record("ping", ip="10.1.0.20", mac=MAC_A))
    real = runs._raise_findings

    def broken(*_args, **_kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(runs, "_raise_findings", broken)
    with pytest.raises(runs.DiscoveryFailed):
        runs.receive_batch(school.code, collected, "batch-9")
    monkeypatch.setattr(runs, "_raise_findings", real)
    run, applied = runs.receive_batch(school.code, collected, "batch-9")
    assert applied and run.status == "succeeded" and run.batch_key == "batch-9"
    statuses = sorted(r.status for r in db.session.scalars(select(DiscoveryRun)))
    assert statuses == ["failed", "succeeded"]
    assert db.session.get(Device, board.id).last_seen_ip == "10.1.0.20"
