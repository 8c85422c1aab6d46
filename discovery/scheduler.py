"""Scheduled discovery: the job table built from the schools' schedules, and the engine `fleet scheduler` runs.

Jobs are data (one per school with a schedule, re-read from the database while running), each a crontab line in
the school's local time. Only the `fleet scheduler` process runs them, never a web worker. What keeps two
schedulers, a manual run and an agent batch off one school is the database lease inside `discover`;
max_instances=1 only keeps this process from starting a school's job while its last one still runs.

Runs a person asks for in the web UI are rows in state 'queued' (discovery.runs.request_run): a small interval job
starts each one as a scheduled run starts, under the school's lease and with the run's own id.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete, or_, select, update

from inventory import audit
from inventory.cron import DEFAULT_TIMEZONE, cron_trigger, zone
from inventory.db import db, utcnow
from inventory.errors import FileRejected, FleetError
from inventory.models import School

from .lease import Busy, this_process
from .models import DiscoveryLease, DiscoveryRun, RunStatus, Trigger
from .runs import DiscoveryFailed, discover, queued_requests

log = logging.getLogger(__name__)

MISFIRE_GRACE = 15 * 60  # seconds a run may start late (a suspended VM, a clock step) before it is skipped
TICK = 0.5  # seconds between the main loop's looks at the stop requests
SUCCEEDED, FAILED, BUSY, SKIPPED = "succeeded", "failed", "busy", "skipped"
REQUESTS_JOB = "requested runs"  # the job that starts queued runs; no school code has a space
REQUESTS_EVERY = 10.0  # seconds between looks for runs people asked for

# --- the job table -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    """One row of the job table: discover this school when its crontab schedule fires."""

    school: str
    cron: str


@dataclass(frozen=True)
class Changes:
    added: tuple[Job, ...] = ()
    changed: tuple[tuple[Job, str], ...] = ()  # (the new job, the schedule it replaces)
    removed: tuple[str, ...] = ()


def job_table() -> list[Job]:
    """The jobs the database's schools declare: one per school with a schedule, by code."""
    rows = db.session.execute(select(School.code, School.discovery).order_by(School.code))
    return [Job(code, declared["schedule"]) for code, declared in rows if (declared or {}).get("schedule")]


def unscheduled_schools() -> list[str]:
    """Schools without a schedule: only a person (or an agent) discovers them."""
    scheduled = {job.school for job in job_table()}
    return [code for code in db.session.scalars(select(School.code).order_by(School.code)) if code not in scheduled]


def plan(current: dict[str, str], wanted: Iterable[Job]) -> Changes:
    """What turns the jobs now scheduled ({school: cron}) into the wanted ones."""
    wanted = list(wanted)
    codes = {job.school for job in wanted}
    return Changes(added=tuple(job for job in wanted if job.school not in current),
                   changed=tuple((job, current[job.school]) for job in wanted
                                 if job.school in current and current[job.school] != job.cron),
                   removed=tuple(sorted(code for code in current if code not in codes)))


# --- the engine --------------------------------------------------------------------------------------------------

class Scheduler:
    """The job table in APScheduler, re-read from the database, each job a discovery under the school's lease."""

    def __init__(self, app, timezone: str = DEFAULT_TIMEZONE, workers: int = 4,
                 reload_every: timedelta = timedelta(minutes=5), every: float | None = None,
                 run: Callable = discover, requests_every: float = REQUESTS_EVERY):
        self.app = app
        self.timezone = zone(timezone)
        self.reload_every = reload_every
        self.every = every  # seconds: every job fires this often instead of on its cron (for trying it out)
        self.actor = f"scheduler:{this_process()}"
        self.scheduled: dict[str, str] = {}  # school → the schedule its job runs on
        self.stop_requests: list[str] = []  # appended by signal handlers, which must not take locks or log
        self._run = run
        self.requests_every = requests_every
        self._requests: dict[str, int] = {}  # school → the requested run this process is carrying out
        self._dispatched: set[int] = set()  # requested runs handed to the thread pool, not finished yet
        self._invalid: dict[str, str] = {}  # school → the broken schedule already reported
        self._lock = threading.Lock()
        self._running: dict[str, datetime] = {}
        self._stopping = False
        self._aps = BackgroundScheduler(
            timezone=self.timezone, executors={"default": ThreadPoolExecutor(workers)},
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": MISFIRE_GRACE})

    def start(self, paused: bool = False) -> None:
        """Start the timer thread; paused, it keeps the jobs and runs none."""
        self._aps.start(paused=paused)

    def shutdown(self) -> None:
        """Stop at once, without waiting for running jobs."""
        self._aps.shutdown(wait=False)

    def jobs(self) -> list:
        """The APScheduler jobs now scheduled."""
        return self._aps.get_jobs()

    def trigger(self, cron: str) -> BaseTrigger:
        if self.every:
            return IntervalTrigger(seconds=self.every, timezone=self.timezone)
        return cron_trigger(cron, self.timezone)

    def next_run(self, cron: str) -> datetime | None:
        return self.trigger(cron).get_next_fire_time(None, datetime.now(self.timezone))

    def listing(self) -> list[tuple[Job, datetime | None, str | None]]:
        """(job, next run, why it cannot run) for each school with a schedule; needs an app context."""
        rows = []
        for job in job_table():
            try:
                rows.append((job, self.next_run(job.cron), None))
            except ValueError as error:
                rows.append((job, None, str(error)))
        return rows

    def sync(self) -> list[str]:
        """Bring the jobs in line with the schools in the database; log and return what changed."""
        with self.app.app_context():
            wanted = job_table()
        lines, valid, triggers = [], [], {}

        def note(line: str, level: int = logging.INFO) -> None:
            lines.append(line)
            log.log(level, line)

        for job in wanted:
            try:
                triggers[job.school] = self.trigger(job.cron)
            except ValueError as error:
                if self._invalid.get(job.school) != job.cron:  # said once, not at every reload
                    note(f"{job.school}: schedule '{job.cron}' is not valid ({error}); no job until fixed",
                         logging.ERROR)
                continue
            valid.append(job)
        self._invalid = {job.school: job.cron for job in wanted if job not in valid}
        changes = plan(self.scheduled, valid)
        for job in changes.added:
            self._add(job, triggers[job.school])
            note(f"{job.school}: scheduled '{job.cron}', next run {self._when(job)}")
        for job, before in changes.changed:
            self._add(job, triggers[job.school])
            note(f"{job.school}: schedule changed from '{before}' to '{job.cron}', next run {self._when(job)}")
        for code in changes.removed:
            self._aps.remove_job(code)
            del self.scheduled[code]
            if code not in self._invalid:
                note(f"{code}: no schedule any more; job removed")
        return lines

    def _add(self, job: Job, trigger: BaseTrigger) -> None:
        self._aps.add_job(self.run_job, trigger, args=(job.school,), id=job.school, name=f"discover {job.school}",
                          replace_existing=True)
        self.scheduled[job.school] = job.cron

    def _when(self, job: Job) -> str:
        when = self.next_run(job.cron)
        return f"{when:%a %Y-%m-%d %H:%M %Z}" if when else "never"

    def run_job(self, code: str) -> str:
        """One scheduled discovery of a school; logs its outcome in one line and never raises."""
        with self._lock:
            if self._stopping:
                log.info("%s: not started, the scheduler is stopping", code)
                return SKIPPED
            if code in self._running:  # a requested run of the school is under way in this process, under its lease
                log.warning("%s: skipped: this scheduler is discovering it already", code)
                return BUSY
            self._running[code] = utcnow()
        try:
            with self.app.app_context(), audit.acting_as(self.actor):
                return self._discover(code)
        except Exception as error:  # even a broken database must not end the scheduler
            log.error("%s: job failed: %s", code, _reason(error))
            return FAILED
        finally:
            with self._lock:
                self._running.pop(code, None)

    def run_requests(self) -> list[int]:
        """Hand each queued run not yet under way here to the thread pool; the ids handed over. Never raises."""
        try:
            with self.app.app_context():
                queued = queued_requests()
        except Exception as error:
            log.error("looking for requested runs failed: %s", _reason(error))
            return []
        started = []
        for run_id, code in queued:
            with self._lock:
                if self._stopping or run_id in self._dispatched:
                    continue
                self._dispatched.add(run_id)
            self._aps.add_job(self.run_request, args=(run_id, code), id=f"request {run_id}",
                              name=f"requested run {run_id} of {code}")
            started.append(run_id)
        return started

    def run_request(self, run_id: int, code: str) -> str:
        """Carry out one queued run as a scheduled one is carried out; it stays queued while the school is busy."""
        try:
            with self._lock:
                if self._stopping:
                    return SKIPPED
                if code in self._running:  # this process is discovering the school: the next look starts it
                    return BUSY
                self._running[code] = utcnow()
                self._requests[code] = run_id
            try:
                with self.app.app_context(), audit.acting_as(self.actor):
                    return self._discover(code, request=run_id)
            except Exception as error:
                log.error("%s: requested run %d failed: %s", code, run_id, _reason(error))
                return FAILED
            finally:
                with self._lock:
                    self._running.pop(code, None)
                    self._requests.pop(code, None)
        finally:
            with self._lock:
                self._dispatched.discard(run_id)

    def _discover(self, code: str, request: int | None = None) -> str:
        what = f"requested run {request}" if request is not None else "discovery"
        log.info("%s: %s started", code, what)
        try:
            if request is None:
                run = self._run(code, trigger=Trigger.SCHEDULE)
            elif (run := self._run(code, trigger=Trigger.MANUAL, request=request)) is None:
                log.info("%s: requested run %d is not queued any more", code, request)
                return SKIPPED
        except Busy as error:
            if request is not None:  # it stays queued; the next look starts it
                log.info("%s: requested run %d waits: %s", code, request, error.message)
            else:
                log.warning("%s: skipped: %s", code, error.message)
            return BUSY
        except DiscoveryFailed as error:
            log.debug("%s: discovery failed", code, exc_info=True)
            log.error("%s: run %d failed: %s", code, error.run_id, error.reason)
            return FAILED
        except Exception as error:
            log.debug("%s: discovery failed", code, exc_info=True)
            db.session.rollback()
            log.error("%s: failed before a run started: %s", code, _reason(error))
            return FAILED
        counts = run.counts or {}
        log.info("%s: run %d %s in %.1f s: %d alive, %d matched, new findings: %d new, %d moved, %d missing, "
                 "%d conflict", code, run.id, run.status, run.duration_s or 0, counts.get("alive", 0),
                 counts.get("matched", 0), counts.get("new", 0), counts.get("moved", 0), counts.get("missing", 0),
                 counts.get("conflict", 0))
        return run.status

    def running(self) -> list[str]:
        """The schools this process is discovering now."""
        with self._lock:
            return sorted(self._running)

    def request_stop(self, why: str = "stop requested") -> None:
        """Ask the loop to stop; the second request abandons running jobs. Safe in a signal handler."""
        self.stop_requests.append(why)

    def serve(self) -> str:
        """Run the jobs until asked to stop: 'stopped' once running jobs finished, 'abandoned' on a second request."""
        self.sync()
        self.start()
        self._aps.add_job(self.run_requests, IntervalTrigger(seconds=self.requests_every, timezone=self.timezone),
                          id=REQUESTS_JOB, name="start requested runs", replace_existing=True)
        log.info("scheduler %s started: %d job(s), schedules in %s, schools re-read every %g min", self.actor,
                 len(self.scheduled), self.timezone, self.reload_every.total_seconds() / 60)
        next_reload = time.monotonic() + self.reload_every.total_seconds()
        while not self.stop_requests:
            time.sleep(TICK)
            if time.monotonic() >= next_reload and not self.stop_requests:
                self._reload()
                next_reload = time.monotonic() + self.reload_every.total_seconds()
        return self._drain()

    def _reload(self) -> None:
        try:
            self.sync()
        except Exception as error:  # the database is away for a moment: keep the jobs we have
            log.error("re-reading the schools failed, keeping the current jobs: %s", _reason(error))

    def _drain(self) -> str:
        with self._lock:
            self._stopping = True
            running = sorted(self._running)
        self._aps.pause()
        log.info("%s: stopping%s", self.stop_requests[0],
                 f"; waiting for {', '.join(running)} to finish (signal again to abandon)" if running else "")
        while (running := self.running()) and len(self.stop_requests) < 2:
            time.sleep(TICK)
        if running:
            self.abandon(running)
            return "abandoned"
        self._aps.shutdown(wait=True)
        log.info("scheduler stopped")
        return "stopped"

    def abandon(self, codes: list[str]) -> None:
        """Mark this process's running runs of codes failed and give their leases back, before it exits."""
        log.warning("%s again: abandoning %s; marking the run failed", self.stop_requests[-1], ", ".join(codes))
        with self._lock:
            requested = list(self._requests.values())
        try:
            with self.app.app_context():
                schools = select(School.id).where(School.code.in_(codes))
                db.session.execute(update(DiscoveryRun).where(
                    DiscoveryRun.status == RunStatus.RUNNING,
                    or_(DiscoveryRun.actor == self.actor, DiscoveryRun.id.in_(requested)),
                    DiscoveryRun.school_id.in_(schools)).values(
                    status=RunStatus.FAILED, finished_at=utcnow(),
                    message="abandoned: the scheduler was stopped during the run"))
                db.session.execute(delete(DiscoveryLease).where(DiscoveryLease.holder == this_process(),
                                                                DiscoveryLease.school_id.in_(schools)))
                db.session.commit()
        except Exception as error:
            log.error("could not mark the abandoned runs (their leases expire on their own): %s", _reason(error))


def _reason(error: BaseException) -> str:
    if isinstance(error, FileRejected):
        return "; ".join(error.errors) or error.message
    if isinstance(error, FleetError):
        return error.message
    return f"{type(error).__name__}: {error}"
