"""Runs people ask for: a queued row that the scheduler process starts under the school's lease, keeping its id.

Most tests inject the collecting step, as the scheduler tests do. The last one starts a real `fleet scheduler`
process against the loopback school of those tests (127.88.0.0/29, SNMP swallowed on 127.88.0.1).
"""

import asyncio
import json
import logging
import threading

import pytest
from sqlalchemy import select

from discovery.lease import acquire, release
from discovery.models import DiscoveryRun
from discovery.runs import QUEUED, RunPending, request_run
from discovery.scheduler import Scheduler
from fleet import create_app
from inventory.audit import acting_as
from inventory.db import db as _db
from inventory.errors import InvalidInput

from .test_scheduler import NOTHING_SEEN, Installation, scheduler_lines, wait_until


@pytest.fixture
def make_box(make_school):
    """Factory: a school on a loopback /29 of its own (never probed here: collecting is injected)."""
    blocks = iter(range(0, 256, 8))
    return lambda code, schedule=None, **discovery: make_school(
        code, subnets=[f"127.88.1.{next(blocks)}/29"], discovery={**discovery, **({"schedule": schedule} if schedule
                                                                                 else {})})


@pytest.fixture
def collect_nothing(monkeypatch):
    """Runs take the real path (lease, run row, apply) and see an empty network."""
    async def empty(settings, remembered=None, progress=None):
        return NOTHING_SEEN
    monkeypatch.setattr("discovery.runs.collect", empty)


@pytest.fixture
def held_collect(monkeypatch):
    """Runs that stay collecting until the test lets them go: (collecting, finish) events."""
    collecting, finish = threading.Event(), threading.Event()

    async def held(settings, remembered=None, progress=None):
        collecting.set()
        await asyncio.to_thread(finish.wait, 20)
        return NOTHING_SEEN
    monkeypatch.setattr("discovery.runs.collect", held)
    yield collecting, finish
    finish.set()


def ask(code: str, who: str = "user:anna") -> DiscoveryRun:
    with acting_as(who):
        return request_run(code)


def runs(db) -> list[tuple]:
    db.session.expire_all()
    return [(r.id, r.trigger, r.status, r.actor) for r in db.session.scalars(select(DiscoveryRun).order_by(
        DiscoveryRun.id))]


@pytest.fixture
def engine(app):
    scheduler = Scheduler(app)
    scheduler.start()
    yield scheduler
    scheduler.shutdown()


def test_a_request_is_a_queued_manual_run_of_the_person_who_asked(db, make_box):
    make_box("gs-a")
    run = ask("gs-a")
    assert runs(db) == [(run.id, "manual", QUEUED, "user:anna")]
    assert run.finished_at is None and run.counts == {}


def test_a_second_request_is_refused_while_one_is_queued(db, make_box):
    make_box("gs-a")
    make_box("gs-b")
    first = ask("gs-a")
    with pytest.raises(RunPending) as refused:
        ask("gs-a", "user:ben")
    assert refused.value.run.id == first.id and refused.value.status == 409
    ask("gs-b")  # another school is not held up
    assert [status for _, _, status, _ in runs(db)] == [QUEUED, QUEUED]


def test_a_school_without_subnets_cannot_be_requested(db, make_school):
    make_school("gs-empty", subnets=["10.9.0.0/24"]).subnets = []
    db.session.commit()
    with pytest.raises(InvalidInput):
        ask("gs-empty")
    assert runs(db) == []


def test_the_scheduler_carries_out_a_request_under_its_own_id(db, engine, make_box, collect_nothing, caplog):
    caplog.set_level(logging.INFO, logger="discovery")
    make_box("gs-a")
    run = ask("gs-a")
    requested_at = run.started_at
    assert engine.run_requests() == [run.id]
    wait_until(lambda: runs(db)[0][2] == "succeeded", lambda: runs(db))
    db.session.expire_all()
    done = db.session.get(DiscoveryRun, run.id)
    assert (done.trigger, done.actor, done.started_at >= requested_at) == ("manual", "user:anna", True)
    assert done.created_at <= done.started_at <= done.finished_at
    assert f"gs-a: run {run.id} succeeded in " in "\n".join(scheduler_lines(caplog))
    assert engine.run_requests() == []  # nothing is left to start


def test_a_request_is_refused_while_its_run_is_under_way_then_allowed(db, engine, make_box, held_collect):
    collecting, finish = held_collect
    make_box("gs-a")
    run = ask("gs-a")
    engine.run_requests()
    assert collecting.wait(20)
    assert runs(db)[0][2] == "running"
    with pytest.raises(RunPending):
        ask("gs-a")
    finish.set()
    wait_until(lambda: runs(db)[0][2] == "succeeded", lambda: runs(db))
    assert ask("gs-a").id != run.id


def test_a_run_left_running_by_a_dead_process_does_not_block_a_request(db, make_box):
    school = make_box("gs-a")
    dead = DiscoveryRun(school_id=school.id, trigger="schedule", status="running", started_at=school.created_at,
                        counts={}, errors=[])
    db.session.add(dead)
    db.session.commit()
    assert ask("gs-a").status == QUEUED


def test_a_request_waits_while_another_process_holds_the_school(db, engine, make_box, collect_nothing, caplog):
    caplog.set_level(logging.INFO, logger="discovery")
    school = make_box("gs-a")
    acquire(school, "other-host:4242")
    run = ask("gs-a")
    assert engine.run_request(run.id, "gs-a") == "busy"
    assert runs(db) == [(run.id, "manual", QUEUED, "user:anna")]
    assert f"gs-a: requested run {run.id} waits: school 'gs-a' is being discovered by other-host:4242" in \
        "\n".join(scheduler_lines(caplog))
    release(school, "other-host:4242")
    assert engine.run_request(run.id, "gs-a") == "succeeded"
    assert runs(db)[0][2] == "succeeded"


def test_a_request_never_overlaps_the_school_s_scheduled_run_in_the_same_process(app, db, make_box, held_collect):
    collecting, finish = held_collect
    make_box("gs-a", "0 6 * * *")
    engine = Scheduler(app)
    scheduled = threading.Thread(target=engine.run_job, args=("gs-a",))
    scheduled.start()
    assert collecting.wait(20)
    with pytest.raises(RunPending):  # a scheduled run is under way
        ask("gs-a")
    finish.set()
    scheduled.join(20)
    run = ask("gs-a")
    collecting.clear()
    finish.clear()
    requested = threading.Thread(target=engine.run_request, args=(run.id, "gs-a"))
    requested.start()
    assert collecting.wait(20)
    assert engine.run_job("gs-a") == "busy"  # the same process holds the lease, so only this check keeps them apart
    finish.set()
    requested.join(20)
    assert [(trigger, status) for _, trigger, status, _ in runs(db)] == [("schedule", "succeeded"),
                                                                      ("manual", "succeeded")]


def test_a_request_that_can_never_run_fails_with_the_reason(db, engine, make_box, monkeypatch):
    make_box("gs-a", snmp=[{"version": "2c", "community": "${RUN_REQUEST_COMMUNITY}"}])
    monkeypatch.delenv("RUN_REQUEST_COMMUNITY", raising=False)
    run = ask("gs-a")
    assert engine.run_request(run.id, "gs-a") == "failed"
    db.session.expire_all()
    failed = db.session.get(DiscoveryRun, run.id)
    assert failed.status == "failed" and failed.message.startswith("not started: ")
    assert "RUN_REQUEST_COMMUNITY" in failed.message


def test_a_stopping_scheduler_starts_no_request(db, engine, make_box, collect_nothing):
    make_box("gs-a")
    run = ask("gs-a")
    engine._stopping = True
    assert engine.run_request(run.id, "gs-a") == "skipped"
    assert runs(db)[0][2] == QUEUED


def test_a_scheduler_process_picks_up_a_queued_request_and_sweeps_the_loopback_school(tmp_path):
    box = Installation(tmp_path)
    try:
        other = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{box.database}", "SECRET_KEY": "test"})
        with other.app_context():
            run_id = ask("gs-box").id
            _db.session.remove()
            _db.engine.dispose()
        box.env["FLEET_SCHEDULER_REQUESTS_SECONDS"] = "0.5"
        scheduler = box.scheduler()
        scheduler.wait_for(f"gs-box: requested run {run_id} started")
        line = scheduler.wait_for(f"gs-box: run {run_id} ")
        assert f"gs-box: run {run_id} succeeded in " in line, "\n".join(scheduler.lines)
        assert box.query("SELECT id, trigger, status, actor FROM discovery_runs") == [
            (run_id, "manual", "succeeded", "user:anna")]
        [(counts,)] = box.query("SELECT counts FROM discovery_runs")
        assert json.loads(counts)["probed"] == 6  # the sweep covered every host address of the loopback /29
        scheduler.sigterm()
        assert scheduler.exit_status() == 0
        assert box.query("SELECT * FROM discovery_leases") == []
    finally:
        box.close()
