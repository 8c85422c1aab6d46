"""The on-site agent: discover one school from inside its network and push what it saw to the central service.

Each pass fetches the school's settings (or uses the copy cached from the last fetch), resolves the SNMP secrets
from the agent's own environment, collects, writes the batch to the queue on disk and then sends the queue oldest
first. A batch is deleted only once the server has applied it, and the server applies a batch key once, so a lost
answer or a crash costs a resend, never a second run. Needs no database and no Flask application.
"""

import asyncio
import gzip
import http.client
import json
import logging
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

from netaddr import AddrFormatError, IPNetwork

from inventory.schoolsfile import SchoolsFileError, SnmpCredential

from .agent_queue import SUFFIX, Queue
from .collect import Collected, Settings, collect
from .snmp import Credential

log = logging.getLogger(__name__)

TEMPFAIL = 75  # EX_TEMPFAIL (sysexits.h): batches are still queued; the next run sends them
USER_AGENT = "schulflotte-agent/1"
TIMEOUT_S = 120.0  # a large school's batch takes the server a while to apply
CREDENTIAL_FIELDS = tuple(f.name for f in fields(SnmpCredential))


class AgentError(Exception):
    """Something a person must fix: a secret not set, a refused token, a wrong address. One line."""


class Unreachable(Exception):
    """The server could not be asked, or gave no usable answer; the next pass tries again."""


@dataclass(frozen=True)
class Reply:
    status: int
    data: dict
    retry_after: float | None = None
    location: str | None = None

    @property
    def message(self) -> str:
        return str(self.data.get("message") or self.data.get("error") or _phrase(self.status))


class Server:
    """The central service as the agent uses it: two endpoints of one school, a bearer token, no redirects."""

    def __init__(self, url: str, token: str, school: str, timeout: float = TIMEOUT_S):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AgentError(f"--server must be an http:// or https:// address, not '{url}'")
        if parts.scheme == "http" and not parts.hostname.startswith("127.") and parts.hostname != "localhost":
            log.warning("the token travels unencrypted to %s: use https:// outside a lab", parts.hostname)
        self.url = url.rstrip("/").removesuffix("/api/v1")
        self.school_url = f"{self.url}/api/v1/schools/{quote(school, safe='')}"
        self.token, self.timeout = token, timeout
        self.opener = urllib.request.build_opener(_NoRedirects())

    def fetch_settings(self) -> Reply:
        """GET the school's discovery settings."""
        return self._call(f"{self.school_url}/discovery-settings")

    def push(self, body: bytes) -> Reply:
        """POST one queued batch as it lies on disk (gzip JSON)."""
        return self._call(f"{self.school_url}/observations", body,
                          {"Content-Type": "application/json", "Content-Encoding": "gzip"})

    def _call(self, url: str, body: bytes | None = None, headers: dict | None = None) -> Reply:
        request = urllib.request.Request(url, data=body, method="GET" if body is None else "POST", headers={
            "Authorization": f"Bearer {self.token}", "Accept": "application/json", "User-Agent": USER_AGENT,
            **(headers or {})})
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return Reply(response.status, _json(response.read()))
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, _json(_read(error)), _seconds(error.headers.get("Retry-After")),
                             error.headers.get("Location"))
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            # A connection reset while the answer is read is not wrapped in URLError: it is just as transient.
            reason = error.reason if isinstance(error, urllib.error.URLError) else error
            raise Unreachable(f"cannot reach {self.url} ({reason or type(error).__name__})") from None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would turn a redirected POST into a GET without its body: stop and tell the person instead."""

    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Pass:
    """What one pass did; its status is the exit status of `fleet agent --once`."""

    queued: Path | None = None
    delivered: int = 0
    rejected: int = 0
    remaining: int = 0
    problem: str | None = None  # why batches are still queued, or nothing could be collected
    error: str | None = None  # what a person must fix
    retry_after: float | None = None

    @property
    def status(self) -> int:
        if self.error or self.rejected:
            return 1
        return TEMPFAIL if self.remaining or self.problem else 0


class Agent:
    """One school's agent: a server, a queue and the environment that holds the school's SNMP secrets."""

    def __init__(self, server: Server, queue: Queue, environ: Mapping[str, str]):
        self.server, self.queue, self.environ = server, queue, environ
        self.remembered: dict[str, int] = {}  # address → the SNMP credential that answered last time
        self.stopping = threading.Event()
        self._running: tuple[asyncio.AbstractEventLoop, asyncio.Task] | None = None

    def stop(self) -> None:
        """Stop after the current request; a collection in progress is abandoned and queues nothing. Signal-safe."""
        self.stopping.set()
        if (running := self._running) is not None:
            loop, task = running
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:  # the loop has just finished
                pass

    def serve(self, interval: float) -> int:
        """Collect every interval seconds and send until stopped; retries back off in between. Exit status."""
        failures, next_collect, first = 0, time.monotonic(), True
        while not self.stopping.is_set():
            collect_now = time.monotonic() >= next_collect
            if collect_now:
                next_collect = time.monotonic() + interval
            outcome = self.one_pass(collect_now)
            if first and outcome.error:  # a misconfigured agent fails where the person starting it can see it
                return 1
            first = False
            failures = failures + 1 if outcome.status else 0
            wait = max(_backoff(failures), outcome.retry_after or 0) if failures else interval
            self.stopping.wait(max(0.0, min(wait, next_collect - time.monotonic())))
        log.info("stopped; %d batch(es) queued in %s", len(self.queue.pending()), self.queue.directory)
        return 0

    def one_pass(self, collect_now: bool = True) -> Pass:
        """Collect (unless told not to) and send the queue; every outcome is logged where it happens."""
        outcome = Pass()
        if collect_now:
            try:
                outcome.queued = self.collect()
            except AgentError as error:
                self._fail(outcome, str(error))
            except Unreachable as error:
                outcome.problem = str(error)
            except Exception as error:  # a probe that breaks must not stop the queue from being sent
                outcome.error = f"collecting failed: {type(error).__name__}: {error}"
                log.exception("%s", outcome.error)
        self.flush(outcome)
        outcome.remaining = len(self.queue.pending())
        if outcome.remaining and (outcome.problem or outcome.error):
            log.warning("%d batch(es) still queued in %s; the next pass sends them%s", outcome.remaining,
                        self.queue.directory, f": {outcome.problem}" if outcome.problem else "")
        elif outcome.problem:
            log.warning("%s", outcome.problem)
        return outcome

    def settings(self) -> Settings:
        """The school's settings from the server, else as last fetched; secrets resolved from the environment."""
        try:
            reply = self.server.fetch_settings()
        except Unreachable as error:
            reply, problem = None, str(error)
        else:
            problem = f"{self.server.url} answered {reply.status} ({reply.message})"
        if reply is not None and reply.status == 200:
            settings = settings_from_json(reply.data, self.environ)
            self.queue.save_settings(reply.data)
            return settings
        if reply is not None and not _transient(reply.status):
            raise AgentError(self._refusal(reply))
        cached = self.queue.load_settings()
        if cached is None:
            raise Unreachable(f"{problem}; no settings were ever fetched into {self.queue.directory}, "
                              f"so there is nothing to collect with yet")
        data, fetched = cached
        log.warning("%s; collecting with the settings fetched %s", problem, f"{fetched:%Y-%m-%d %H:%M}")
        return settings_from_json(data, self.environ)

    def collect(self) -> Path | None:
        """Discover the school now and queue the batch; None when stopped first."""
        settings = self.settings()
        started = datetime.now(UTC)
        collected = self._until_stopped(lambda: collect(settings, self.remembered))
        if collected is None:
            return None
        self.remembered = {r.ip: r.credential for r in collected.records if r.ip and r.credential is not None}
        batch = uuid.uuid4().hex
        path = self.queue.put(batch, encode_batch(batch, started, collected), started)
        log.info("collected: %d addresses probed, %d alive, %d answered SNMP; %d records queued as batch %s",
                 collected.probed, collected.alive, collected.snmp, len(collected.records), batch)
        return path

    def flush(self, outcome: Pass) -> None:
        """Send the queued batches oldest first, stopping at the first that cannot be delivered now."""
        for path in self.queue.pending():
            if self.stopping.is_set():
                return
            batch = batch_of(path)
            try:
                reply = self.server.push(path.read_bytes())
            except Unreachable as error:
                outcome.problem = str(error)
                return
            run = reply.data
            if reply.status in (200, 201) and "run_id" not in run:
                self._fail(outcome, f"{self.server.url} answered {reply.status} without a run: is it the "
                                    f"Schulflotte service?")
                return
            if reply.status in (200, 201) and run.get("status") == "succeeded":
                self.queue.done(path)
                outcome.delivered += 1
                log.info("delivered batch %s: %s", batch, _described(run, reply.status))
            elif reply.status in (200, 201) and run.get("status") == "failed":
                self._reject(path, outcome, f"the server could not apply it (run {run.get('run_id')}): "
                                            f"{run.get('message')}")
            elif reply.status in (200, 201):  # another request of ours is still applying it
                outcome.problem = f"the server is still applying batch {batch} (run {run.get('run_id')})"
                return
            elif _transient(reply.status):
                outcome.problem = f"the server answered {reply.status} for batch {batch}: {reply.message}"
                outcome.retry_after = reply.retry_after
                return
            elif reply.status in (401, 403, 404) or 300 <= reply.status < 400:  # about the agent, not the batch
                self._fail(outcome, self._refusal(reply))
                return
            else:
                self._reject(path, outcome, f"{reply.status} {reply.data.get('error', _phrase(reply.status))}: "
                                            f"{reply.message}")

    def _fail(self, outcome: Pass, error: str) -> None:
        """Note and log what a person must fix, once per pass."""
        if outcome.error is None:
            outcome.error = error
            log.error("%s", error)

    def _reject(self, path: Path, outcome: Pass, reason: str) -> None:
        target = self.queue.reject(path, reason)
        outcome.rejected += 1
        log.error("batch %s refused for good, moved to %s: %s", batch_of(path), target.parent, reason)

    def _refusal(self, reply: Reply) -> str:
        if 300 <= reply.status < 400:
            return f"{self.server.url} redirects to {reply.location}: give that address as --server"
        if reply.status == 401:
            return f"the server refused the token ({reply.message}): check --token / FLEET_AGENT_TOKEN"
        if reply.status == 403:
            return f"the token may not push observations here ({reply.message})"
        return f"{self.server.school_url} answered {reply.status} ({reply.message}): check --server and --school"

    def _until_stopped(self, start: Callable[[], object]):
        """Run a coroutine to its end, or None when stop() cancels it."""
        async def main():
            self._running = asyncio.get_running_loop(), asyncio.current_task()
            if self.stopping.is_set():
                return None
            return await start()

        try:
            return asyncio.run(main())
        except asyncio.CancelledError:
            return None
        finally:
            self._running = None


def settings_from_json(data: dict, environ: Mapping[str, str]) -> Settings:
    """Settings from the server's JSON, each ${ENV} secret resolved from this machine's environment."""
    try:
        credentials = []
        for declared in data.get("snmp") or ():
            known = {name: declared[name] for name in CREDENTIAL_FIELDS if name in declared}
            credentials.append(Credential(**SnmpCredential(**known).resolve(environ)))
        subnets = tuple(str(IPNetwork(s).cidr) for s in data["subnets"])
        return Settings(subnets=subnets, timeout=float(data["timeout"]), retries=int(data["retries"]),
                        concurrency=int(data["concurrency"]), port=int(data["port"]),
                        credentials=tuple(credentials), routers=tuple(data.get("routers") or ()),
                        switches=tuple(data.get("switches") or ()))
    except SchoolsFileError as error:
        raise AgentError(f"{error.errors[0]}: the agent reads the school's SNMP secrets from its own "
                         f"environment") from None
    except (KeyError, TypeError, ValueError, AttributeError, AddrFormatError) as error:
        raise AgentError(f"the server's discovery settings cannot be read ({type(error).__name__}: {error})") from None


def encode_batch(batch: str, collected_at: datetime, collected: Collected) -> bytes:
    """The request body the observations endpoint takes: gzip-compressed JSON."""
    document = {"batch": batch, "collected_at": collected_at.isoformat(), "probed": collected.probed,
                "alive": collected.alive, "snmp": collected.snmp,
                "records": [record.to_json() for record in collected.records], "errors": list(collected.errors)}
    return gzip.compress(json.dumps(document, separators=(",", ":")).encode(), mtime=0)


def batch_of(path: Path) -> str:
    """The batch key in a queued file's name (<time>-<batch>.json.gz)."""
    return path.name.removesuffix(SUFFIX).partition("-")[2]


def _described(run: dict, status: int) -> str:
    if status == 200:
        return f"the server already had it as run {run.get('run_id')}"
    counts = run.get("counts") or {}
    return (f"run {run.get('run_id')}: {counts.get('matched', 0)} matched, {counts.get('new', 0)} new, "
            f"{counts.get('moved', 0)} moved, {counts.get('missing', 0)} missing, "
            f"{counts.get('conflict', 0)} conflict")


def _transient(status: int) -> bool:
    return status in (408, 409, 425, 429) or status >= 500 or status < 200


def _backoff(failures: int) -> float:
    """30 s, 1 min, 2 min … up to 15 min, spread a little so many agents do not return at once."""
    return min(30.0 * 2 ** min(failures - 1, 10), 900.0) * random.uniform(0.9, 1.1)


def _json(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _read(response) -> bytes:
    try:
        return response.read()
    except (OSError, http.client.HTTPException):
        return b""


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:  # an HTTP date; the backoff will do
        return None


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"
