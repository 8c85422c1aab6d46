"""Discovery runs, what they observed, the review queue, and the per-school lease that keeps runs apart."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.db import Timestamped, UTCDateTime, db
from inventory.models import Device, School


class Trigger(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    AGENT = "agent"


class RunStatus(StrEnum):
    QUEUED = "queued"  # asked for (the web UI's "run now"), waiting for the scheduler process
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class FindingKind(StrEnum):
    NEW = "new"
    MOVED = "moved"
    MISSING = "missing"
    CONFLICT = "conflict"
    CHANGED = "changed"


class FindingStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    IGNORED = "ignored"
    LINKED = "linked"
    RESOLVED = "resolved"  # closed by a later run: the missing device came back, the new MAC became known


# Open and ignored findings are what a run must not raise again.
STANDING = (FindingStatus.OPEN, FindingStatus.IGNORED)
STANDING_SQL = text("status IN ('open', 'ignored')")


class DiscoveryRun(Timestamped, db.Model):
    __tablename__ = "discovery_runs"
    __table_args__ = (
        # An agent's batch is applied once, whatever its retries.
        Index("uq_discovery_runs_batch", "school_id", "batch_key", unique=True),
        Index("ix_discovery_runs_school_id_id", "school_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.RUNNING, index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    errors: Mapped[list] = mapped_column(JSON, default=list)  # [{"ip": ..., "message": ...}], per host
    message: Mapped[str | None] = mapped_column(Text)  # why a failed run failed
    batch_key: Mapped[str | None] = mapped_column(String(80))
    actor: Mapped[str | None] = mapped_column(String(120))

    school: Mapped[School] = relationship()

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to finish, None while running."""
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 3)


class Observation(db.Model):
    __tablename__ = "observations"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("discovery_runs.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(8))  # ping, tcp, arp, snmp, fdb
    ip: Mapped[str | None] = mapped_column(String(45))
    mac: Mapped[str | None] = mapped_column(String(17), index=True)
    hostname: Mapped[str | None] = mapped_column(String(255))
    sys_descr: Mapped[str | None] = mapped_column(Text)
    sys_object_id: Mapped[str | None] = mapped_column(String(255))
    serial: Mapped[str | None] = mapped_column(String(80), index=True)
    model: Mapped[str | None] = mapped_column(String(120))
    vendor: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[str | None] = mapped_column(String(32))
    switch: Mapped[str | None] = mapped_column(String(80))
    port: Mapped[str | None] = mapped_column(String(80))
    open_ports: Mapped[str | None] = mapped_column(String(120))  # space-separated
    credential: Mapped[int | None] = mapped_column(Integer)  # the SNMP credential that answered, by position


class Finding(Timestamped, db.Model):
    __tablename__ = "findings"
    __table_args__ = (
        # One standing finding per kind and key: a later run updates it instead of raising it again.
        Index("uq_findings_kind_key_standing", "kind", "key", unique=True,
              sqlite_where=STANDING_SQL, postgresql_where=STANDING_SQL),
        Index("ix_findings_school_id_status", "school_id", "status"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    key: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default=FindingStatus.OPEN)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"), index=True)
    first_run_id: Mapped[int | None] = mapped_column(ForeignKey("discovery_runs.id", ondelete="SET NULL"))
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("discovery_runs.id", ondelete="SET NULL"))
    times_seen: Mapped[int] = mapped_column(Integer, default=1)
    detail: Mapped[str] = mapped_column(Text)
    seen: Mapped[dict | None] = mapped_column(JSON)  # the host as the run saw it (ip, mac, serial, hostname, ...)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)

    school: Mapped[School] = relationship()
    device: Mapped[Device | None] = relationship()


class DiscoveryLease(db.Model):
    """Who runs discovery for a school right now; a row outlives its holder only until it expires."""

    __tablename__ = "discovery_leases"

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
