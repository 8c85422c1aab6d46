"""A lease row per school so that two schedulers, a manual run and an agent batch never discover one school at once.

A row in discovery_leases works the same on SQLite and PostgreSQL: taking it is one conditional UPDATE (free when
expired or already ours) or one INSERT that the primary key lets only one process win. A holder that dies leaves
a row that expires; the runs it left 'running' are then marked failed by the next holder.
"""

import os
import socket
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError

from inventory.db import db, utcnow
from inventory.errors import Conflict
from inventory.models import School

from .models import DiscoveryLease, DiscoveryRun, RunStatus

TTL = timedelta(minutes=30)  # far longer than a /16 sweep; renewed before a run is applied


class Busy(Conflict):
    """Another process is discovering this school."""


def this_process() -> str:
    """A holder name that tells a person where the other run is: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire(school: School, holder: str, ttl: timedelta = TTL) -> None:
    """Take the school's lease for holder, or raise Busy naming who has it; commits."""
    now = utcnow()
    values = {"holder": holder, "acquired_at": now, "expires_at": now + ttl}
    taken = db.session.execute(
        update(DiscoveryLease)
        .where(DiscoveryLease.school_id == school.id,
               or_(DiscoveryLease.expires_at < now, DiscoveryLease.holder == holder))
        .values(**values)).rowcount
    if not taken:
        db.session.add(DiscoveryLease(school_id=school.id, **values))
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            current = db.session.get(DiscoveryLease, school.id)
            who = (f"{current.holder} since {current.acquired_at:%Y-%m-%d %H:%M:%S} UTC" if current
                   else "another process")
            raise Busy(f"school '{school.code}' is being discovered by {who}; try again when it has finished",
                       {"school": school.code}) from None
    # Runs left 'running' by an earlier holder can no longer finish: only the lease holder runs this school.
    db.session.execute(
        update(DiscoveryRun)
        .where(DiscoveryRun.school_id == school.id, DiscoveryRun.status == RunStatus.RUNNING)
        .values(status=RunStatus.FAILED, finished_at=now, message="abandoned: the process running it stopped"))
    db.session.commit()


def release(school: School, holder: str) -> None:
    """Give the lease back (only if still ours); commits."""
    db.session.rollback()  # a failed apply must not leave its transaction open under the delete
    db.session.execute(delete(DiscoveryLease).where(DiscoveryLease.school_id == school.id,
                                                    DiscoveryLease.holder == holder))
    db.session.commit()


@contextmanager
def leased(school: School, holder: str | None = None):
    """Hold the school's lease for the block."""
    holder = holder or this_process()
    acquire(school, holder)
    try:
        yield holder
    finally:
        release(school, holder)
