"""The demo's discovery history: runs, observations and findings that make the rollout and the review queue real;
and its invoices (checks in demo_invoices.py)."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from netaddr import EUI, IPAddress, IPNetwork
from sqlalchemy import delete, select, update

from discovery.demo import seed_history
from discovery.models import DiscoveryRun, Finding, Observation
from inventory.models import Device, Interface, School
from inventory.netvalues import is_locally_administered
from provisioning.demo import record_invoices
from provisioning.rollouts import room_rollout

from . import demo_invoices as invoices
from ..conftest import ROOT

TODAY = date(2026, 11, 24)
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def demo(db):
    """The demo carrier with its fleet and history, as `fleet demo` leaves it on TODAY."""
    from inventory.demo_load import load_demo

    load_demo(ROOT / "schools.yaml")
    line = seed_history(TODAY)
    assert line.startswith("discovery history: ") and "open finding(s)" in line
    assert record_invoices(TODAY).startswith("demo invoices: ")
    return db


def _most_rooms_are_verified_but_not_everything(demo):
    report = room_rollout(verified_within_days=14, zone=BERLIN, now=datetime(2026, 11, 24, 12, tzinfo=BERLIN))
    schools = report.rollout.schools
    assert len(schools) == 6
    assert all(totals.total.verified > 0 for totals in schools.values())
    carrier = report.rollout.carrier.total
    assert 0.6 * carrier.present < carrier.verified < carrier.present
    rooms = report.rollout.rooms
    with_verified = [room for room in rooms if room.total.verified]
    assert len(with_verified) > 0.8 * len(rooms)
    assert report.rollout.carrier.phases["verified"] < len(rooms)  # document cameras are never on the network

    displays = list(demo.session.scalars(select(Device).where(Device.kind == "interactive_display",
                                                              Device.status == "active")))
    cutoff = datetime(2026, 11, 10, tzinfo=UTC)
    stale = [d for d in displays if d.last_seen_at is None or d.last_seen_at < cutoff]
    assert 0.03 * len(displays) <= len(stale) <= 0.12 * len(displays)
    assert all(d.last_seen_at is not None and d.last_seen_at > cutoff - timedelta(days=70) for d in stale)
    loaned = demo.session.scalars(select(Device).where(Device.status == "loaned")).all()
    assert loaned and all(d.last_seen_at is None for d in loaned)  # with their borrowers, not on the network


def _runs_count_what_they_observed_and_the_findings_they_raised(demo):
    runs = demo.session.scalars(select(DiscoveryRun).order_by(DiscoveryRun.id)).all()
    per_school = Counter(run.school_id for run in runs)
    assert len(per_school) == 6 and set(per_school.values()) <= {2, 3}
    owner = dict(demo.session.execute(select(Interface.mac, Interface.device_id)).all())
    for run in runs:
        assert (run.status, run.trigger, run.errors) == ("succeeded", "schedule", [])
        assert TODAY - timedelta(days=21) <= run.started_at.astimezone(BERLIN).date() < TODAY
        assert run.started_at < run.finished_at < run.started_at + timedelta(minutes=5)
        seen = demo.session.scalars(select(Observation).where(Observation.run_id == run.id)).all()
        findings = demo.session.scalars(select(Finding).where(Finding.first_run_id == run.id)).all()
        counts = run.counts
        assert counts["records"] == len(seen) > 0
        assert counts["alive"] == len({o.ip for o in seen if o.source in ("ping", "tcp")})
        assert counts["snmp"] == len({o.ip for o in seen if o.source == "snmp"}) > 0
        assert counts["unidentified"] == sum(o.source == "ping" and o.mac is None for o in seen)
        assert counts["matched"] == len({owner[o.mac] for o in seen if o.mac in owner})
        raised = Counter(f.kind for f in findings)
        assert {kind: counts[kind] for kind in ("new", "moved", "missing", "conflict", "changed")} == {
            kind: raised[kind] for kind in ("new", "moved", "missing", "conflict", "changed")}
        assert counts["probed"] >= counts["alive"]
    for device in demo.session.scalars(select(Device).where(Device.unseen_runs == 0, Device.last_seen_at.is_not(None))):
        assert device.last_seen_at in {run.started_at for run in runs if run.school_id == device.school_id}


def _the_review_queue_holds_open_new_missing_and_moved_findings(demo):
    findings = demo.session.scalars(select(Finding)).all()
    assert findings and all(f.status == "open" for f in findings)
    by_kind = Counter(f.kind for f in findings)
    assert 4 <= by_kind["new"] <= 12 and by_kind["moved"] == 1 and by_kind["missing"] >= 2
    assert set(by_kind) == {"new", "moved", "missing"}
    schools = demo.session.scalars(select(School)).all()
    subnets = {school.id: [IPNetwork(subnet.cidr) for subnet in school.subnets] for school in schools}
    known = set(demo.session.scalars(select(Interface.mac)))
    addresses = {(d.school_id, d.ip) for d in demo.session.scalars(select(Device).where(Device.ip.is_not(None)))}
    for finding in (f for f in findings if f.kind == "new"):
        mac, ip = finding.seen["mac"], finding.seen["ip"]
        assert finding.key == f"mac:{mac}" and finding.device_id is None
        assert mac not in known and not is_locally_administered(mac)
        assert finding.seen["vendor"] == EUI(mac).oui.registration().org
        assert any(IPAddress(ip) in net for net in subnets[finding.school_id])
        assert (finding.school_id, ip) not in addresses
        assert finding.detail.startswith(f"Unknown host at {ip}, MAC {mac}")
    for finding in (f for f in findings if f.kind == "missing"):
        device = demo.session.get(Device, finding.device_id)
        assert finding.key == f"device:{device.id}" and device.status == "active"
        assert device.unseen_runs >= 3 and device.school_id == finding.school_id
        assert f"not seen in {device.unseen_runs} consecutive runs" in finding.detail
    (moved,) = [f for f in findings if f.kind == "moved"]
    device = demo.session.get(Device, moved.device_id)
    assert device.last_seen_where == moved.seen["where"] and f"now at {device.last_seen_where}." in moved.detail


def test_most_rooms_are_verified_and_runs_count_what_they_observed(demo):
    _most_rooms_are_verified_but_not_everything(demo)
    _runs_count_what_they_observed_and_the_findings_they_raised(demo)
    _the_grouped_rollout_counts_as_the_one_that_reads_every_device(demo)
    invoices.check_every_invoiced_device_is_on_one_recorded_invoice_and_most_are_paid(demo)


def test_the_review_queue_holds_open_new_missing_and_moved_findings_and_seeding_again_adds_nothing(demo):
    _the_review_queue_holds_open_new_missing_and_moved_findings(demo)
    _seeding_again_adds_nothing_and_the_same_seed_gives_the_same_history(demo)
    invoices.check_the_report_splits_the_funded_share_into_reimbursed_and_requested_now_and_runs_again(demo)


def _picture(db) -> tuple:
    runs = db.session.execute(select(DiscoveryRun.school_id, DiscoveryRun.started_at, DiscoveryRun.counts)
                              .order_by(DiscoveryRun.id)).all()
    findings = db.session.execute(select(Finding.kind, Finding.key, Finding.detail).order_by(Finding.id)).all()
    seen = db.session.execute(select(Device.id, Device.last_seen_at, Device.last_seen_where, Device.unseen_runs)
                              .order_by(Device.id)).all()
    return [tuple(r) for r in runs], [tuple(f) for f in findings], [tuple(s) for s in seen]


def _forget_history(db) -> None:
    for model in (Finding, Observation, DiscoveryRun):
        db.session.execute(delete(model))
    db.session.execute(update(Device).values(last_seen_at=None, last_seen_ip=None, last_seen_ip_key=None,
                                             last_seen_where=None, unseen_runs=0))
    db.session.commit()


def _seeding_again_adds_nothing_and_the_same_seed_gives_the_same_history(demo):
    first = _picture(demo)
    assert seed_history(TODAY) == "discovery history: every school already has runs; nothing added"
    assert _picture(demo) == first
    _forget_history(demo)
    seed_history(TODAY)
    assert _picture(demo) == first
    _forget_history(demo)
    seed_history(TODAY, rng_seed=7)
    assert _picture(demo)[1] != first[1]


def _the_grouped_rollout_counts_as_the_one_that_reads_every_device(demo):
    now = datetime(2026, 11, 24, 12, tzinfo=BERLIN)
    for days in (0, 3, 14):
        one_by_one = room_rollout(verified_within_days=days, zone=BERLIN, now=now).rollout
        grouped = room_rollout(verified_within_days=days, zone=BERLIN, now=now, grouped=True).rollout
        assert grouped.carrier == one_by_one.carrier
        assert grouped.schools == one_by_one.schools
        assert [(r.school, r.room, r.lines, r.phase, r.behind) for r in grouped.rooms] == [
            (r.school, r.room, r.lines, r.phase, r.behind) for r in one_by_one.rooms]
        assert all(room.devices == () for room in grouped.rooms)
