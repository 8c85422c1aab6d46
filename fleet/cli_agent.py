"""`fleet agent`: the on-site discovery agent that pushes to the central service.

It runs on a machine inside a school's network, so it needs no database and no application context: everything it
does goes through discovery.agent and the central service's HTTP API.
"""

import logging
import os
import re
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import click

SCHOOL_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # as in schools.yaml; also a safe directory name


class _Lines(logging.Formatter):
    """'error: …' and 'warning: …' as the other commands print them; a time stamp when running for long."""

    def __init__(self, stamped: bool):
        super().__init__("%(asctime)s %(message)s" if stamped else "%(message)s", "%Y-%m-%d %H:%M:%S")

    def formatMessage(self, record: logging.LogRecord) -> str:
        if record.levelno >= logging.WARNING:
            record.message = f"{record.levelname.lower()}: {record.message}"
        return super().formatMessage(record)


@contextmanager
def _logging_to_stderr(stamped: bool):
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Lines(stamped))
    logger = logging.getLogger("discovery")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


@contextmanager
def _stopped_by_signals(stop):
    """SIGTERM (systemd, docker) and Ctrl-C stop the agent cleanly; handlers are only set in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, lambda *_: stop()) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _school(_ctx, _param, value: str) -> str:
    if not SCHOOL_CODE.fullmatch(value):
        raise click.BadParameter(f"'{value}' is not a school code")
    return value


@click.command("agent")
@click.option("--server", required=True, envvar="FLEET_AGENT_SERVER", metavar="URL",
              help="The central service, e.g. https://fleet.example.org (env FLEET_AGENT_SERVER).")
@click.option("--token", required=True, envvar="FLEET_AGENT_TOKEN", metavar="T",
              help="The school's agent token; better in env FLEET_AGENT_TOKEN, where `ps` does not show it.")
@click.option("--school", required=True, envvar="FLEET_AGENT_SCHOOL", metavar="CODE", callback=_school,
              help="The school this agent discovers (env FLEET_AGENT_SCHOOL).")
@click.option("--once", is_flag=True, help="One pass (collect, then send the queue) and exit: 0 when everything "
                                           "was delivered, 75 when batches remain queued, 1 on an error.")
@click.option("--interval", type=click.FloatRange(min=10), default=900, show_default=True, metavar="SECONDS",
              help="Seconds between collections when running continuously.")
@click.option("--queue", "queue_root", type=click.Path(file_okay=False), metavar="DIR",
              help="Where batches wait, in DIR/<school>/ (env FLEET_AGENT_QUEUE; default "
                   "~/.local/state/schulflotte/agent).")
def agent_command(server, token, school, once, interval, queue_root):
    """Discover a school from inside its network and push the observations to the central service.

    The SNMP secrets the school's settings name (${ENV} references) are read from this machine's environment.
    """
    from discovery.agent import Agent, AgentError, Server
    from discovery.agent_queue import Queue, QueueBusy, default_root

    root = Path(queue_root).expanduser() if queue_root else default_root(os.environ)
    with _logging_to_stderr(stamped=not once):
        try:
            with Queue(root / school) as queue:
                agent = Agent(Server(server, token, school), queue, os.environ)
                with _stopped_by_signals(agent.stop):
                    status = agent.one_pass().status if once else agent.serve(interval)
        except (AgentError, QueueBusy, OSError) as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)
    sys.exit(status)


COMMANDS = (agent_command,)
