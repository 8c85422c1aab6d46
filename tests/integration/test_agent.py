"""`fleet agent` end to end: a real HTTP server in a thread, a school in a box on 127.89.0.0/29, a queue on disk.

Only loopback addresses are probed. The server is the test app behind werkzeug's server, so runs land in the test
database; the agent itself runs without any app or database, as it does on a school's machine.
"""

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

from discovery.agent import batch_of, encode_batch
from discovery.agent_queue import Queue, QueueBusy
from discovery.collect import Collected, Record
from discovery.lease import acquire, release
from discovery.models import DiscoveryRun, Finding
from fleet.cli_agent import agent_command
from tests.schoolbox import access_point, router
from tests.snmplab import Lab

pytest.importorskip("snmpsim", reason="snmpsim is not installed (pip install -e '.[test]')")

SUBNET = "127.89.0.0/29"
ROUTER, AP = "127.89.0.1", "127.89.0.4"
ROUTER_MAC, AP_MAC = "4c:5e:0c:11:22:33", "78:8a:20:aa:bb:cc"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with Lab([replace(router(), address=ROUTER), replace(access_point(), address=AP)],
             tmp_path_factory.mktemp("agentlab")).running() as box:
        yield box


@pytest.fixture
def school(make_school, lab):
    return make_school("gs-agent", subnets=[SUBNET], discovery={
        "port": lab.port, "timeout": 0.5, "retries": 0, "concurrency": 16,
        "snmp": [{"version": "2c", "community": "${AGENT_BOX_COMMUNITY}"}], "routers": [ROUTER]})


@pytest.fixture
def token(token_for, school):
    return token_for("agent", ["gs-agent"])["Authorization"].split()[1]


class Line:
    """The app behind a line that can lose the next POST's answer after the app has done its work."""

    def __init__(self, app):
        self.app, self.lose_next_answer = app, False

    def __call__(self, environ, start_response):
        if not (self.lose_next_answer and environ["REQUEST_METHOD"] == "POST"):
            return self.app(environ, start_response)
        self.lose_next_answer = False
        response = self.app(environ, lambda *args: None)
        try:
            b"".join(response)
        finally:
            response.close()
        environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
        start_response("200 OK", [])
        return [b""]


class _Quiet(WSGIRequestHandler):
    def log(self, *args):
        pass


@pytest.fixture
def line(app, db):
    return Line(app)


@pytest.fixture
def server(line):
    """The central service on 127.0.0.1:<free port>, in a thread."""
    httpd = make_server("127.0.0.1", 0, line, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def closed():
    """An address where nothing listens: the central service is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def agent(server, token, root, *extra, **environment):
    """`fleet agent --once` as typed on the school's machine, with the community in its environment."""
    env = {"FLEET_AGENT_TOKEN": token, "AGENT_BOX_COMMUNITY": "public", **environment}
    result = CliRunner().invoke(agent_command, ["--server", server, "--school", "gs-agent", "--queue", str(root),
                                                "--once", *extra], env=env, catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def queued(root):
    return [path.name for path in Queue(root / "gs-agent").pending()]


def runs(db):
    db.session.expire_all()
    return db.session.scalars(select(DiscoveryRun).order_by(DiscoveryRun.id)).all()


def a_batch(key, *records):
    collected = Collected(records=tuple(records), errors=(), probed=6, alive=len(records), snmp=0)
    return encode_batch(key, datetime(2000, 1, 1, tzinfo=UTC), collected)


def test_one_pass_pushes_what_the_agent_saw_and_keeps_the_settings_without_secrets(db, server, token, tmp_path):
    result = agent(server, token, tmp_path)
    assert result.exit_code == 0, result.stderr
    [run] = runs(db)
    assert (run.trigger, run.status) == ("agent", "succeeded")
    assert run.counts["probed"] == 6 and run.counts["snmp"] == 2
    assert set(db.session.scalars(select(Finding.key))) == {f"mac:{ROUTER_MAC}", f"mac:{AP_MAC}"}
    assert queued(tmp_path) == []
    assert f"delivered batch {run.batch_key}: run {run.id}" in result.stderr
    cached = (tmp_path / "gs-agent" / "settings.json").read_text()  # for when the server cannot be reached
    assert "${AGENT_BOX_COMMUNITY}" in cached and "public" not in cached


def test_while_the_server_is_down_batches_wait_and_go_oldest_first_when_it_is_back(db, server, closed, token,
                                                                                  tmp_path):
    assert agent(server, token, tmp_path).exit_code == 0  # fetches and caches the settings
    down = agent(closed, token, tmp_path)
    assert down.exit_code == 75
    assert "1 batch(es) still queued" in down.stderr and "cannot reach" in down.stderr
    [waiting] = queued(tmp_path)
    assert len(runs(db)) == 1

    back = agent(server, token, tmp_path)
    assert back.exit_code == 0, back.stderr
    assert queued(tmp_path) == []
    first, second, third = runs(db)
    assert second.batch_key == batch_of(tmp_path / waiting)  # the waiting batch went before the new one
    assert third.batch_key not in (first.batch_key, second.batch_key)


def test_an_agent_that_never_reached_the_server_has_nothing_to_collect_with(db, closed, token, tmp_path):
    result = agent(closed, token, tmp_path)
    assert result.exit_code == 75
    assert "no settings were ever fetched" in result.stderr
    assert queued(tmp_path) == []


def test_a_lost_answer_is_sent_again_and_applied_only_once(db, server, line, token, tmp_path):
    line.lose_next_answer = True
    lost = agent(server, token, tmp_path)
    assert lost.exit_code == 75, lost.stderr
    [waiting] = queued(tmp_path)
    [applied] = runs(db)
    assert applied.batch_key == batch_of(tmp_path / waiting)  # the server has it; the agent does not know

    again = agent(server, token, tmp_path)
    assert again.exit_code == 0, again.stderr
    assert f"the server already had it as run {applied.id}" in again.stderr
    assert queued(tmp_path) == []
    assert [run.batch_key for run in runs(db)].count(applied.batch_key) == 1
    assert len(runs(db)) == 2


def test_an_unset_secret_is_one_clear_error_line_and_nothing_is_collected(db, server, token, tmp_path):
    result = agent(server, token, tmp_path, AGENT_BOX_COMMUNITY=None)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: SNMP community: environment variable AGENT_BOX_COMMUNITY is not set: the agent reads the school's "
        "SNMP secrets from its own environment"]
    assert queued(tmp_path) == [] and runs(db) == []


def test_a_batch_the_server_refuses_is_set_aside_with_the_reason_and_the_rest_still_go(db, server, token, tmp_path):
    directory = tmp_path / "gs-agent"
    directory.mkdir()
    bad = directory / "20000101T000000000000Z-bad.json.gz"
    bad.write_bytes(gzip.compress(json.dumps({
        "batch": "bad", "collected_at": "2000-01-01T00:00:00+00:00", "probed": 6, "alive": 1, "snmp": 0,
        "records": [{"source": "tcp", "ip": "127.89.0.2", "mac": "zz"}]}).encode()))
    result = agent(server, token, tmp_path)
    assert result.exit_code == 1
    assert (directory / "rejected" / bad.name).exists()
    assert "records[0].mac" in (directory / "rejected" / "20000101T000000000000Z-bad.txt").read_text()
    assert queued(tmp_path) == [] and len(runs(db)) == 1


def test_a_school_being_discovered_elsewhere_keeps_the_batch_for_later(db, server, school, token, tmp_path):
    acquire(school, "other:1")
    busy = agent(server, token, tmp_path)
    assert busy.exit_code == 75 and "409" in busy.stderr
    assert len(queued(tmp_path)) == 1 and runs(db) == []
    release(school, "other:1")
    assert agent(server, token, tmp_path).exit_code == 0
    assert len(runs(db)) == 2 and queued(tmp_path) == []


def test_a_token_of_another_school_stops_with_one_line_and_keeps_the_queue(db, server, make_school, token_for,
                                                                           school, tmp_path):
    make_school("gs-other")
    wrong = token_for("agent", ["gs-other"])["Authorization"].split()[1]
    with Queue(tmp_path / "gs-agent") as queue:
        queue.put("waiting", a_batch("waiting", Record("tcp", ip="127.89.0.2")), datetime.now(UTC))
    result = agent(server, wrong, tmp_path)
    assert result.exit_code == 1
    assert "may not push observations here" in result.stderr
    assert len(queued(tmp_path)) == 1 and not (tmp_path / "gs-agent" / "rejected").exists()


def test_two_agents_cannot_share_a_queue(db, server, token, tmp_path):
    with Queue(tmp_path / "gs-agent"):
        result = agent(server, token, tmp_path)
    assert result.exit_code == 1 and "another agent is already using" in result.stderr
    with pytest.raises(QueueBusy), Queue(tmp_path / "q"), Queue(tmp_path / "q"):
        pass


def test_queued_batches_sort_oldest_first_and_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    with Queue(tmp_path) as queue:
        late = queue.put("b", b"late", datetime(2025, 3, 3, 10, 0, 0, 5, tzinfo=UTC))
        early = queue.put("a", b"early", datetime(2025, 3, 3, 9, 59, 59, 999999, tzinfo=UTC))
        assert queue.pending() == [early, late]
        def disk_full(_fd):
            raise OSError("disk full")

        monkeypatch.setattr(os, "fsync", disk_full)
        with pytest.raises(OSError):
            queue.put("c", b"never", datetime(2025, 3, 3, 11, tzinfo=UTC))
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([".lock", early.name, late.name])


def test_running_continuously_the_fleet_command_needs_no_database_and_stops_on_sigterm(db, server, token,
                                                                                       tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FLEET_")}
    environment.update(FLEET_AGENT_TOKEN=token, AGENT_BOX_COMMUNITY="public")
    log = tmp_path / "agent.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", "from fleet.cli import main; main()", "agent", "--server", server,
             "--school", "gs-agent", "--queue", str(tmp_path / "queue"), "--interval", "3600"],
            env=environment, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 120
        while "delivered batch" not in log.read_text() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "delivered batch" in log.read_text(), log.read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "stopped; 0 batch(es) queued" in log.read_text()
    assert len(runs(db)) == 1
