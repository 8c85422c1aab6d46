"""The agent's queue on disk: one gzip JSON file per batch, written atomically, named so they sort by time.

A file is either complete or absent (temp file, fsync, rename), so a power cut on the school's machine costs at
most the batch being written. Batches the server refused for good move to rejected/ with a note saying why; the
last settings fetched from the server are kept beside them (only ${ENV} names, never a secret).
"""

import json
import os
import time
from datetime import datetime
from pathlib import Path

try:
    import fcntl
except ImportError:  # not on Windows; the lock only guards against two agents sharing a queue
    fcntl = None

SUFFIX = ".json.gz"
PARTIAL = ".partial"
SETTINGS = "settings.json"
STALE_PARTIAL_S = 3600  # a temp file this old was left by a process that died while writing


class QueueBusy(Exception):
    """Another agent process is using this queue."""


def default_root(environ) -> Path:
    """FLEET_AGENT_QUEUE, else $XDG_STATE_HOME/schulflotte/agent (~/.local/state/schulflotte/agent)."""
    if environ.get("FLEET_AGENT_QUEUE"):
        return Path(environ["FLEET_AGENT_QUEUE"]).expanduser()
    state = environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(state) / "schulflotte" / "agent"


class Queue:
    """The batches of one school waiting to be sent, in directory/."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.rejected = self.directory / "rejected"
        self._lock = None

    def open(self) -> "Queue":
        """Create the directory, take its lock and clear temp files left by a crash."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if fcntl is not None:
            handle = open(self.directory / ".lock", "a+")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                raise QueueBusy(f"another agent is already using the queue {self.directory}") from None
            self._lock = handle
        for partial in self.directory.glob("*" + PARTIAL):
            if time.time() - partial.stat().st_mtime > STALE_PARTIAL_S:
                partial.unlink(missing_ok=True)
        return self

    def close(self) -> None:
        """Give the lock back."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self) -> "Queue":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def put(self, batch: str, body: bytes, collected_at: datetime) -> Path:
        """Queue a batch's request body; the name starts with the UTC time, so names sort oldest first."""
        return _write_atomically(self.directory / f"{collected_at:%Y%m%dT%H%M%S%fZ}-{batch}{SUFFIX}", body)

    def pending(self) -> list[Path]:
        """The queued batches, oldest first."""
        return sorted(self.directory.glob("*" + SUFFIX))

    def done(self, path: Path) -> None:
        """The server has the batch: forget it."""
        path.unlink(missing_ok=True)

    def reject(self, path: Path, reason: str) -> Path:
        """Set a refused batch aside with a note, so it no longer blocks the queue."""
        self.rejected.mkdir(exist_ok=True)
        target = self.rejected / path.name
        _write_atomically(self.rejected / (path.name.removesuffix(SUFFIX) + ".txt"), (reason + "\n").encode())
        os.replace(path, target)
        return target

    def save_settings(self, settings: dict) -> None:
        """Keep the settings last fetched, for when the server cannot be reached."""
        _write_atomically(self.directory / SETTINGS, json.dumps(settings, indent=2).encode())

    def load_settings(self) -> tuple[dict, datetime] | None:
        """The settings last fetched and when, or None."""
        path = self.directory / SETTINGS
        try:
            return json.loads(path.read_bytes()), datetime.fromtimestamp(path.stat().st_mtime).astimezone()
        except (OSError, ValueError):
            return None


def _write_atomically(path: Path, data: bytes) -> Path:
    partial = path.with_name(f".{path.name}.{os.getpid()}{PARTIAL}")
    try:
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)
    return path


def _sync_directory(directory: Path) -> None:
    """Make the rename itself survive a power cut (POSIX; elsewhere the file's own fsync has to do)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
