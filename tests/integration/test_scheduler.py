"""`fleet scheduler`: jobs from the schools' schedules, one discovery per school at a time, and a clean stop.

Most tests inject the collecting step and sweep nothing. The ones that start real scheduler processes discover
127.88.0.0/29 only, with a UDP socket on 127.88.0.1 that swallows SNMP requests so a run stays under way as long
as the test needs; nothing outside 127.0.0.0/8 is ever probed.
"""

import asyncio
import logging
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from discovery.collect import Collected
from discovery.lease import acquire, this_process
from discovery.models import DiscoveryRun
from discovery.scheduler import Job, Scheduler, cron_trigger, job_table, plan
from tests.helpers import fleet

FLEET = Path(sys.executable).with_name("fleet")
BERLIN = ZoneInfo("Europe/Berlin")
LOOPBACK = "127.88.0.0/29"
NOTHING_SEEN = Collected(records=(), errors=(), probed=0, alive=0, snmp=0)


def fire_times(cron: str, start: datetime, count: int = 7) -> list[datetime]:
    trigger, times, now = cron_trigger(cron, BERLIN), [], start
    for _ in range(count):
        times.append(trigger.get_next_fire_time(None, now))
        now = times[-1] + timedelta(minutes=1)
    return times


def wait_until(condition, what, timeout: float = 20):
    """Poll until condition() is truthy; a guard against hanging, not a measurement. what: text or a callable."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what() if callable(what) else what}")
        time.sleep(0.05)
    return result


# --- schedules: cron as cron means it ------------------------------------------------------------------------------


def test_weekdays_are_counted_as_cron_counts_them_from_sunday():
    saturday = datetime(2025, 3, 1, tzinfo=BERLIN)
    assert [f"{t:%a %d %H:%M}" for t in fire_times("30 6 * * 1-5", saturday, 6)] == [
        "Mon 03 06:30", "Tue 04 06:30", "Wed 05 06:30", "Thu 06 06:30", "Fri 07 06:30", "Mon 10 06:30"]


@pytest.mark.parametrize("weekday, days", [
    ("0", {"Sun"}), ("7", {"Sun"}), ("sun", {"Sun"}), ("MON", {"Mon"}), ("1,3,5", {"Mon", "Wed", "Fri"}),
    ("fri-sun", {"Fri", "Sat", "Sun"}), ("5-7", {"Fri", "Sat", "Sun"}), ("*/2", {"Sun", "Tue", "Thu", "Sat"}),
    ("1-5/2", {"Mon", "Wed", "Fri"}), ("*", {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}),
])
def test_a_weekday_field_selects_the_days_cron_would(weekday, days):
    assert {f"{t:%a}" for t in fire_times(f"0 12 * * {weekday}", datetime(2025, 3, 1, tzinfo=BERLIN))} == days


def test_a_day_of_month_and_a_weekday_together_mean_either_as_in_cron():
    dates = fire_times("0 7 13 * 5", datetime(2025, 6, 1, tzinfo=BERLIN))
    assert [f"{t:%m-%d %a}" for t in dates] == [
        "06-06 Fri", "06-13 Fri", "06-20 Fri", "06-27 Fri", "07-04 Fri", "07-11 Fri", "07-13 Sun"]


def test_a_schedule_is_kept_in_local_time_across_daylight_saving():
    winter, summer = (fire_times("30 6 * * *", datetime(2025, month, 15, tzinfo=BERLIN), 1)[0] for month in (1, 7))
    assert (f"{winter:%H:%M}", f"{summer:%H:%M}") == ("06:30", "06:30")
    assert (f"{winter.astimezone(ZoneInfo('UTC')):%H:%M}", f"{summer.astimezone(ZoneInfo('UTC')):%H:%M}") == (
        "05:30", "04:30")


@pytest.mark.parametrize("cron", ["61 * * * *", "* * * *", "* * * * 8", "* * * * funday", "* * * * 5-1"])
def test_a_malformed_schedule_is_refused(cron):
    with pytest.raises(ValueError):
        cron_trigger(cron, BERLIN)


def test_the_plan_adds_reschedules_and_removes_by_school():
    changes = plan({"a": "0 6 * * *", "b": "0 7 * * *", "c": "0 8 * * *"},
                   [Job("a", "0 6 * * *"), Job("b", "0 9 * * *"), Job("d", "0 5 * * *")])
    assert changes.added == (Job("d", "0 5 * * *"),)
    assert changes.changed == ((Job("b", "0 9 * * *"), "0 7 * * *"),)
    assert changes.removed == ("c",)


# --- the job table from the database -------------------------------------------------------------------------------


@pytest.fixture
def make_box(make_school):
    """Factory: a school on a loopback subnet of its own, whatever a test does with it."""
    subnets = (f"127.88.0.{8 * n}/29" for n in range(32))

    def make(code, schedule=None, **discovery):
        return make_school(code, subnets=[next(subnets)],
                           discovery={**discovery, **({"schedule": schedule} if schedule else {})})
    return make


@pytest.fixture
def engine(app):
    """A scheduler that keeps its jobs but runs none of them on its own."""
    scheduler = Scheduler(app)
    scheduler.start(paused=True)
    yield scheduler
    scheduler.shutdown()


def test_each_school_with_a_schedule_gets_one_job(db, make_box):
    make_box("gs-b", "30 6 * * 1-5")
    make_box("gs-a", "0 7 * * *", timeout=0.5)
    make_box("gs-c")
    assert job_table() == [Job("gs-a", "0 7 * * *"), Job("gs-b", "30 6 * * 1-5")]


def test_reloading_follows_the_schools_and_says_what_changed(db, engine, make_box, caplog):
    caplog.set_level(logging.INFO, logger="discovery")
    stays, changes, goes = make_box("gs-a", "0 6 * * *"), make_box("gs-b", "0 7 * * *"), make_box("gs-c", "0 8 * * *")
    assert [line.split(", next run")[0] for line in engine.sync()] == [
        "gs-a: scheduled '0 6 * * *'", "gs-b: scheduled '0 7 * * *'", "gs-c: scheduled '0 8 * * *'"]
    changes.discovery = {"schedule": "0 9 * * 1-5"}
    goes.discovery = {}
    make_box("gs-d", "0 5 * * *")
    db.session.commit()
    lines = engine.sync()
    assert [line.split(", next run")[0] for line in lines] == [
        "gs-d: scheduled '0 5 * * *'", "gs-b: schedule changed from '0 7 * * *' to '0 9 * * 1-5'",
        "gs-c: no schedule any more; job removed"]
    assert [r.getMessage() for r in caplog.records if r.name == "discovery.scheduler"][-3:] == lines
    assert {job.id: job.next_run_time.strftime("%H:%M") for job in engine.jobs()} == {
        "gs-a": "06:00", "gs-b": "09:00", "gs-d": "05:00"}
    assert engine.sync() == [] and stays.code in engine.scheduled


def test_a_broken_schedule_gets_no_job_and_is_reported_once(db, engine, make_box, caplog):
    make_box("gs-a", "0 6 * * *")
    broken = make_box("gs-b", "0 6 * * *")
    engine.sync()
    broken.discovery = {"schedule": "0 25 * * *"}  # written past the schools.yaml check, by hand
    db.session.commit()
    lines = engine.sync()
    assert len(lines) == 1 and lines[0].startswith("gs-b: schedule '0 25 * * *' is not valid (")
    assert engine.sync() == []
    assert sorted(job.id for job in engine.jobs()) == ["gs-a"]


# --- one job ------------------------------------------------------------------------------------------------------


@pytest.fixture
def collect_nothing(monkeypatch):
    """Runs go through the real service (lease, run row, apply) but see an empty network."""
    async def collect(settings, remembered=None, progress=None):
        return NOTHING_SEEN
    monkeypatch.setattr("discovery.runs.collect", collect)


@pytest.fixture
def held_collect(monkeypatch):
    """Runs that stay in their collecting step until the test releases them."""
    collecting, release = threading.Event(), threading.Event()

    async def collect(settings, remembered=None, progress=None):
        collecting.set()
        await asyncio.to_thread(release.wait, 20)
        return NOTHING_SEEN
    monkeypatch.setattr("discovery.runs.collect", collect)
    yield collecting, release
    release.set()


def scheduler_lines(caplog, level=logging.INFO) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "discovery.scheduler" and r.levelno >= level]


def test_a_scheduled_run_is_recorded_as_the_schedule_s_by_this_scheduler(db, engine, make_box, collect_nothing,
                                                                          caplog):
    caplog.set_level(logging.INFO, logger="discovery")
    make_box("gs-a", "0 6 * * *")
    assert engine.run_job("gs-a") == "succeeded"
    run = db.session.scalars(select(DiscoveryRun)).one()
    assert (run.trigger, run.status, run.actor) == ("schedule", "succeeded", f"scheduler:{this_process()}")
    assert scheduler_lines(caplog)[-1].startswith(f"gs-a: run {run.id} succeeded in ")


def test_a_school_another_process_is_discovering_is_skipped_in_one_line(db, engine, make_box, collect_nothing,
                                                                        caplog):
    school = make_box("gs-a", "0 6 * * *")
    acquire(school, "other-host:4242")
    assert engine.run_job("gs-a") == "busy"
    [line] = scheduler_lines(caplog, logging.WARNING)
    assert line.startswith("gs-a: skipped: school 'gs-a' is being discovered by other-host:4242 since ")
    assert db.session.scalars(select(DiscoveryRun)).all() == []


def test_a_failed_run_is_logged_with_its_run_id_and_the_next_job_still_runs(db, engine, make_box, monkeypatch,
                                                                            caplog):
    make_box("gs-a", "0 6 * * *")

    async def unreachable(settings, remembered=None, progress=None):
        raise OSError("network is unreachable")
    monkeypatch.setattr("discovery.runs.collect", unreachable)
    assert engine.run_job("gs-a") == "failed"
    run = db.session.scalars(select(DiscoveryRun)).one()
    assert run.status == "failed"
    assert scheduler_lines(caplog, logging.ERROR) == [
        f"gs-a: run {run.id} failed: collecting failed: OSError: network is unreachable"]

    async def quiet(settings, remembered=None, progress=None):
        return NOTHING_SEEN
    monkeypatch.setattr("discovery.runs.collect", quiet)
    assert engine.run_job("gs-a") == "succeeded"


def test_an_error_before_any_run_is_logged_in_one_line_and_not_raised(app, db, make_box, caplog):
    make_box("gs-a", "0 6 * * *")

    def broken(code, trigger):
        raise RuntimeError("no route to the database")
    assert Scheduler(app, run=broken).run_job("gs-a") == "failed"
    assert scheduler_lines(caplog, logging.ERROR) == [
        "gs-a: failed before a run started: RuntimeError: no route to the database"]


def test_two_schedulers_never_discover_one_school_at_once(app, db, make_box, held_collect, monkeypatch):
    collecting, release = held_collect
    make_box("gs-a", "0 6 * * *")
    # each thread stands for a scheduler process of its own, so each holds the lease under its own name
    monkeypatch.setattr("discovery.lease.this_process", lambda: f"host:{threading.current_thread().name}")
    outcomes = {}

    def scheduler(name):
        return threading.Thread(name=name, target=lambda: outcomes.update({name: Scheduler(app).run_job("gs-a")}))

    first, second = scheduler("first"), scheduler("second")
    first.start()
    assert collecting.wait(20)
    second.start()
    second.join(20)
    release.set()
    first.join(20)
    assert outcomes == {"first": "succeeded", "second": "busy"}
    assert [run.status for run in db.session.scalars(select(DiscoveryRun))] == ["succeeded"]


def test_a_stop_request_lets_the_running_job_finish_and_starts_no_other(app, db, make_box, held_collect, caplog):
    caplog.set_level(logging.INFO, logger="discovery")
    collecting, release = held_collect
    make_box("gs-a", "* * * * *")
    engine = Scheduler(app, every=0.2)
    order, outcome = [], []
    serving = threading.Thread(target=lambda: (outcome.append(engine.serve()), order.append("serve returned")))
    serving.start()
    assert collecting.wait(20)
    engine.request_stop("test")
    wait_until(lambda: "test: stopping; waiting for gs-a to finish (signal again to abandon)" in
               scheduler_lines(caplog), "the stop to be acknowledged")
    order.append("run released")
    release.set()
    serving.join(20)
    assert order == ["run released", "serve returned"] and outcome == ["stopped"]
    assert [run.status for run in db.session.scalars(select(DiscoveryRun))] == ["succeeded"]
    assert scheduler_lines(caplog)[-1] == "scheduler stopped"


# --- the command --------------------------------------------------------------------------------------------------


def test_list_prints_each_job_with_its_next_run_and_the_schools_without_one(runner, make_box):
    make_box("gs-a", "30 6 * * 1-5")
    make_box("gs-b")
    result = fleet(runner, "scheduler", "--list")
    assert result.exit_code == 0, result.output
    header, job, rest = result.stdout.splitlines()
    assert header.split() == ["school", "schedule", "next", "run", "(Europe/Berlin)"]
    assert re.fullmatch(r"gs-a +30 6 \* \* 1-5 +(Mon|Tue|Wed|Thu|Fri) \d{4}-\d\d-\d\d 06:30", job)
    assert rest == "without a schedule: gs-b"


def test_once_runs_a_school_s_job_now_as_the_scheduler_would(runner, db, make_box, collect_nothing):
    make_box("gs-a")
    result = fleet(runner, "scheduler", "--once", "gs-a")
    assert result.exit_code == 0, result.output
    run = db.session.scalars(select(DiscoveryRun)).one()
    assert (run.trigger, run.status) == ("schedule", "succeeded")
    assert f"INFO gs-a: run {run.id} succeeded in " in result.stderr


def test_once_for_an_unknown_school_is_a_user_error(runner, db):
    result = fleet(runner, "scheduler", "--once", "gs-nowhere")
    assert (result.exit_code, result.stderr) == (1, "error: unknown school 'gs-nowhere'\n")


def test_an_unknown_time_zone_is_a_user_error(runner, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "TIMEZONE", "Europe/Lindenau")
    result = fleet(runner, "scheduler", "--list")
    assert (result.exit_code, result.stderr) == (
        1, "error: unknown time zone 'Europe/Lindenau' (FLEET_TIMEZONE; e.g. Europe/Berlin)\n")


# --- real scheduler processes ---------------------------------------------------------------------------------------

SCHOOLS_YAML = """\
carrier: {{name: Stadt Lindenau, state: BB}}
schools:
  - code: gs-box
    name: Grundschule im Kasten
    number: "999001"
    type: general
    subnets: [{subnet}]
    discovery:
      schedule: "30 6 * * 1-5"
      timeout: 4
      retries: 0
      concurrency: 16
      port: {port}
      snmp:
        - {{version: 2c, community: "${{BOX_COMMUNITY}}"}}
"""


class Process:
    """A `fleet scheduler` process whose stderr lines are collected as they come."""

    def __init__(self, env: dict, cwd: Path, *args: str):
        self.popen = subprocess.Popen([str(FLEET), "scheduler", *args], env=env, cwd=cwd, text=True,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.pid = self.popen.pid
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.popen.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str) -> str:
        """The first log line containing text."""
        return wait_until(lambda: next((line for line in self.lines if text in line), None),
                          lambda: f"'{text}' in the log:\n" + "\n".join(self.lines))

    def sigterm(self) -> None:
        self.popen.send_signal(15)

    def exit_status(self) -> int:
        status = self.popen.wait(timeout=30)
        self.reader.join(5)
        return status

    def close(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()
        self.reader.join(5)
        self.popen.stderr.close()


class Installation:
    """A SQLite installation of its own, one loopback school, and a UDP socket that swallows its SNMP requests."""

    def __init__(self, tmp_path: Path):
        self.database = tmp_path / "fleet.sqlite"
        self.cwd = tmp_path
        self.env = {**os.environ, "FLEET_DATABASE_URL": f"sqlite:///{self.database}", "BOX_COMMUNITY": "public"}
        self.env.pop("FLEET_SCHOOLS", None)
        self.env.pop("FLEET_TIMEZONE", None)
        self.snmp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.snmp.bind(("127.88.0.1", 0))
        (tmp_path / "schools.yaml").write_text(SCHOOLS_YAML.format(subnet=LOOPBACK, port=self.snmp.getsockname()[1]))
        for args in (["init"], ["schools", "sync", "schools.yaml"]):
            done = subprocess.run([str(FLEET), *args], env=self.env, cwd=tmp_path, capture_output=True, text=True,
                                  timeout=60)
            assert done.returncode == 0, done.stderr
        self.processes: list[Process] = []

    def scheduler(self, *args: str) -> Process:
        self.processes.append(Process(self.env, self.cwd, *args))
        return self.processes[-1]

    def run_under_way(self) -> None:
        """Return once a run holds the school: its sweep and its unanswered SNMP request take a timeout each."""
        wait_until(lambda: self.query("SELECT id FROM discovery_runs WHERE status = 'running'"), "a running run")

    def query(self, sql: str) -> list[tuple]:
        with sqlite3.connect(self.database) as connection:
            rows = connection.execute(sql).fetchall()
        connection.close()
        return rows

    def close(self) -> None:
        for process in self.processes:
            process.close()
        self.snmp.close()


@pytest.fixture
def installation(tmp_path):
    box = Installation(tmp_path)
    yield box
    box.close()


def test_a_second_scheduler_process_skips_the_school_the_first_is_discovering(installation):
    first = installation.scheduler("--every", "1")
    installation.run_under_way()
    second = installation.scheduler("--every", "0.2")
    skipped = second.wait_for("gs-box: skipped:")
    assert f"being discovered by {socket.gethostname()}:{first.pid} since" in skipped
    second.sigterm()
    assert second.exit_status() == 0
    first.sigterm()
    first.wait_for("SIGTERM: stopping; waiting for gs-box to finish (signal again to abandon)")
    assert first.exit_status() == 0
    assert first.lines[-1].endswith("INFO scheduler stopped")
    assert installation.query("SELECT trigger, status, actor FROM discovery_runs") == [
        ("schedule", "succeeded", f"scheduler:{socket.gethostname()}:{first.pid}")]
    assert installation.query("SELECT * FROM discovery_leases") == []


def test_a_second_sigterm_abandons_the_run_and_marks_it_failed(installation):
    scheduler = installation.scheduler("--every", "1")
    installation.run_under_way()
    scheduler.sigterm()
    scheduler.wait_for("waiting for gs-box to finish")
    scheduler.sigterm()
    assert scheduler.exit_status() == 1
    assert scheduler.lines[-1].endswith("WARNING SIGTERM again: abandoning gs-box; marking the run failed")
    assert installation.query("SELECT status, message FROM discovery_runs") == [
        ("failed", "abandoned: the scheduler was stopped during the run")]
    assert installation.query("SELECT * FROM discovery_leases") == []
