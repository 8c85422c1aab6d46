"""`fleet discovery …`: runs and the review queue at the prompt."""

import json

import pytest
from sqlalchemy import func, select

from discovery.models import Finding
from inventory.models import AuditEvent, Device
from tests.helpers import fleet

from .test_findings import MAC_NEW, MAC_WLAN, add_finding, add_run


@pytest.fixture
def school(make_school):
    return make_school("gs-a", rooms=("A101",))


def status_of(db, finding):
    db.session.expire_all()
    return db.session.get(Finding, finding.id).status


def test_runs_prints_a_table_newest_first(runner, db, school, make_school):
    earlier = add_run(db, school, counts={"alive": 40, "matched": 35, "new": 3, "moved": 1}, minutes_ago=90,
                      seconds=61.24)
    later = add_run(db, make_school("gs-b"), status="failed", trigger="schedule", minutes_ago=5,
                    errors=[{"ip": "10.2.0.1", "message": "timeout"}])
    result = fleet(runner, "discovery", "runs")
    assert result.exit_code == 0
    header, first, second = result.stdout.splitlines()
    assert header.split() == ["ID", "SCHOOL", "TRIGGER", "STATUS", "STARTED", "(UTC)", "SECONDS", "ALIVE",
                              "MATCHED", "NEW", "MOVED", "MISSING", "CONFLICT", "ERRORS"]
    assert first.split()[:4] == [str(later.id), "gs-b", "schedule", "failed"] and first.split()[-1] == "1"
    assert second.split()[:4] == [str(earlier.id), "gs-a", "manual", "succeeded"]
    assert second.split()[6:11] == ["61.2", "40", "35", "3", "1"]


def test_runs_filters_limits_and_prints_json(runner, db, school, make_school):
    first = add_run(db, school, minutes_ago=30)
    second = add_run(db, school, minutes_ago=20)
    third = add_run(db, make_school("gs-b"), minutes_ago=10)
    limited = fleet(runner, "discovery", "runs", "--school", "gs-a", "--limit", "1")
    assert limited.stdout.splitlines()[1].split()[:2] == [str(second.id), "gs-a"]
    assert limited.stdout.splitlines()[-1].startswith("… 1 more")
    runs = json.loads(fleet(runner, "discovery", "runs", "--json").stdout)
    assert [r["id"] for r in runs] == [third.id, second.id, first.id] and runs[0]["errors"] == [] and "findings" in runs[0]


def test_runs_says_so_when_there_are_none_and_names_an_unknown_school(runner, db, school):
    assert fleet(runner, "discovery", "runs").stdout == "no discovery runs\n"
    result = fleet(runner, "discovery", "runs", "--school", "nope")
    assert (result.exit_code, result.stderr) == (1, "error: unknown school 'nope'\n")


def test_findings_lists_the_open_queue_and_filters(runner, db, school, make_device):
    new = add_finding(db, school, detail="Unknown host at 10.1.0.30, MAC " + MAC_NEW)
    gone = add_finding(db, school, kind="missing", device=make_device(school), seen={})
    add_finding(db, school, seen={"mac": MAC_WLAN}, status="ignored")
    lines = fleet(runner, "discovery", "findings").stdout.splitlines()
    assert lines[0].split() == ["ID", "SCHOOL", "KIND", "STATUS", "DEVICE", "KEY", "DETAIL"]
    assert [line.split()[:4] for line in lines[1:]] == [[str(gone.id), "gs-a", "missing", "open"],
                                                       [str(new.id), "gs-a", "new", "open"]]
    assert f"mac:{MAC_NEW}  Unknown host at 10.1.0.30" in lines[2]
    assert len(fleet(runner, "discovery", "findings", "--status", "all").stdout.splitlines()) == 4
    only = json.loads(fleet(runner, "discovery", "findings", "--kind", "missing", "--json").stdout)
    assert [(f["id"], f["device"]) for f in only] == [(gone.id, gone.device_id)]
    assert fleet(runner, "discovery", "findings", "--status", "linked").stdout == "no linked findings\n"


def test_accepting_one_finding_prints_the_device_it_made(runner, db, school):
    finding = add_finding(db, school, seen={"mac": MAC_NEW, "hostname": "board-a101"})
    result = fleet(runner, "discovery", "accept", finding.id, "--room", "A101")
    assert result.exit_code == 0, result.stderr
    device = db.session.scalars(select(Device)).one()
    assert result.stdout == f"finding {finding.id} accepted: new mac:{MAC_NEW} → device {device.id} (board-a101)\n"
    assert device.room.code == "A101"
    actor = db.session.scalar(select(AuditEvent.actor).where(AuditEvent.object_type == "finding"))
    assert actor.startswith("cli:")


def test_a_refused_finding_is_one_line_on_stderr_and_exit_status_1(runner, db, school):
    finding = add_finding(db, school, status="accepted")
    result = fleet(runner, "discovery", "accept", finding.id)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (f"error: finding {finding.id} is accepted, not open: only an open finding can be "
                             f"accepted\n")


def test_accepting_several_is_all_or_nothing_with_a_line_per_refusal(runner, db, school):
    good = add_finding(db, school)
    closed = add_finding(db, school, seen={"mac": MAC_WLAN}, status="ignored")
    result = fleet(runner, "discovery", "accept", good.id, closed.id, 77)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"finding {closed.id} is ignored, not open: only an open finding can be accepted; reopen it first",
        "finding 77 does not exist",
        "error: 2 of 3 finding(s) could not be accepted; nothing was changed"]
    assert status_of(db, good) == "open"
    assert db.session.scalar(select(func.count()).select_from(Device)) == 0


def test_ignore_with_a_note_then_reopen(runner, db, school):
    first, second = add_finding(db, school), add_finding(db, school, seen={"mac": MAC_WLAN})
    result = fleet(runner, "discovery", "ignore", first.id, second.id, "--note", "Gäste-WLAN")
    assert result.stdout.splitlines() == [f"finding {first.id} ignored: new mac:{MAC_NEW}",
                                          f"finding {second.id} ignored: new mac:{MAC_WLAN}"]
    db.session.expire_all()
    assert db.session.get(Finding, first.id).note == "Gäste-WLAN"
    assert fleet(runner, "discovery", "reopen", first.id).stdout == f"finding {first.id} reopened: new mac:{MAC_NEW}\n"
    assert (status_of(db, first), status_of(db, second)) == ("open", "ignored")


def test_link_attaches_the_seen_mac_to_the_device(runner, db, school, make_device):
    laptop = make_device(school, hostname="nb-07")
    finding = add_finding(db, school)
    result = fleet(runner, "discovery", "link", finding.id, "--device", laptop.id)
    assert result.stdout == f"finding {finding.id} linked: new mac:{MAC_NEW} → device {laptop.id} (nb-07)\n"
    db.session.expire_all()
    assert [i.mac for i in db.session.get(Device, laptop.id).interfaces] == [MAC_NEW]


def test_link_without_a_device_is_a_usage_error(runner, db, school):
    result = fleet(runner, "discovery", "link", "1")
    assert result.exit_code == 2 and "--device" in result.stderr
