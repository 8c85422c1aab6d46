"""`fleet scheduler`: the long-running process that discovers each school on its schedule (one per installation)."""

import logging
import os
import signal
import sys
from contextlib import contextmanager
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from .cli import user_errors


class _OneLine(logging.Formatter):
    """Log records without tracebacks: the scheduler's log is read line by line (journalctl, grep)."""

    def format(self, record: logging.LogRecord) -> str:
        record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
        return super().format(record)


@contextmanager
def _log_to_stderr(verbose: bool):
    """Timestamped lines on stderr from discovery (and APScheduler's warnings) while the command runs."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter if verbose else _OneLine
    handler.setFormatter(formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    levels = {"discovery": logging.DEBUG if verbose else logging.INFO, "apscheduler": logging.WARNING}
    saved = {name: logging.getLogger(name).level for name in levels}
    for name, level in levels.items():
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(level)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).removeHandler(handler)
            logging.getLogger(name).setLevel(level)


@click.command("scheduler")
@click.option("--list", "list_jobs", is_flag=True, help="Print the job table (school, schedule, next run) and exit.")
@click.option("--once", metavar="SCHOOL", help="Run SCHOOL's job now, as the scheduler would, and exit.")
@click.option("--workers", type=click.IntRange(min=1), help="Schools discovered at the same time at most. [default: 4]")
@click.option("--reload-every", "reload_minutes", type=click.FloatRange(min=0, min_open=True), metavar="MINUTES",
              help="How often the schools are re-read for changed schedules. [default: 5]")
@click.option("--every", type=click.FloatRange(min=0, min_open=True), hidden=True,
              help="Try-out: run each scheduled school every SECONDS instead of on its cron.")
@click.option("-v", "--verbose", is_flag=True, help="Debug lines and tracebacks in the log.")
@with_appcontext
@user_errors
def scheduler_command(list_jobs, once, workers, reload_minutes, every, verbose):
    """Run each school's discovery on its schedule (schools.yaml: discovery.schedule, cron in FLEET_TIMEZONE).

    One scheduler per installation, never inside the web service. SIGTERM or Ctrl-C lets running discoveries
    finish and exits; a second one abandons them (their runs are marked failed).
    """
    from discovery.scheduler import DEFAULT_TIMEZONE, SUCCEEDED, Scheduler
    from inventory.devices import school_by_code

    if list_jobs and once:
        raise click.UsageError("--list and --once exclude each other")
    config = current_app.config
    workers = workers or int(config.get("SCHEDULER_WORKERS") or 4)
    reload_every = timedelta(minutes=reload_minutes or float(config.get("SCHEDULER_RELOAD_MINUTES") or 5))
    engine = Scheduler(current_app._get_current_object(), timezone=config.get("TIMEZONE") or DEFAULT_TIMEZONE,
                       workers=workers, reload_every=reload_every, every=every,
                       requests_every=float(config.get("SCHEDULER_REQUESTS_SECONDS") or 10))
    if list_jobs:
        _print_jobs(engine)
        return
    with _log_to_stderr(verbose):
        if once:
            school_by_code(once)
            sys.exit(0 if engine.run_job(once) == SUCCEEDED else 1)
        previous = {signum: signal.signal(signum, lambda number, _: engine.request_stop(signal.Signals(number).name))
                    for signum in (signal.SIGTERM, signal.SIGINT)}
        try:
            outcome = engine.serve()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if outcome == "abandoned":
            # The running discoveries' threads cannot be stopped; their runs are marked, so leave at once.
            logging.shutdown()
            sys.stderr.flush()
            os._exit(1)


def _print_jobs(engine) -> None:
    from discovery.scheduler import unscheduled_schools

    rows = engine.listing()
    width = max([len(job.school) for job, _, _ in rows] + [6])
    cron_width = max([len(job.cron) for job, _, _ in rows] + [8])
    click.echo(f"{'school':<{width}}  {'schedule':<{cron_width}}  next run ({engine.timezone})")
    for job, when, problem in rows:
        shown = f"{when:%a %Y-%m-%d %H:%M}" if when else f"invalid: {problem}" if problem else "never"
        click.echo(f"{job.school:<{width}}  {job.cron:<{cron_width}}  {shown}")
    if not rows:
        click.echo("no school has a schedule (schools.yaml: discovery.schedule)")
    if unscheduled := unscheduled_schools():
        click.echo(f"without a schedule: {', '.join(unscheduled)}")


COMMANDS = (scheduler_command,)
