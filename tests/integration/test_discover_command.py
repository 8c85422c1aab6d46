"""`fleet discover` end to end against the school in a box: sweep, SNMP, ARP, FDB, reconcile, apply.

The school's subnet is 127.0.0.120/29, where the simulated router, switches, access point, printer and OPS PC
answer; nothing outside 127.0.0.0/8 is ever probed.
"""

import json

import pytest
from sqlalchemy import select

from discovery.lease import acquire
from discovery.models import DiscoveryRun, Finding, Observation
from inventory.models import Device
from tests.helpers import fleet
from tests.schoolbox import AP, BOARD, OPS, PC, PRINTER, ROUTER, SWITCH, every_agent
from tests.snmplab import Lab

pytest.importorskip("snmpsim", reason="snmpsim is not installed (pip install -e '.[test]')")

SUBNET = "127.0.0.120/29"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with Lab(every_agent(), tmp_path_factory.mktemp("schoolbox")).running() as box:
        yield box


@pytest.fixture
def school(make_school, lab, monkeypatch):
    monkeypatch.setenv("BOX_COMMUNITY", "public")
    return make_school("gs-box", subnets=[SUBNET], discovery={
        "port": lab.port, "timeout": 0.5, "retries": 0, "concurrency": 64, "missing_after": 1,
        "snmp": [{"version": "2c", "community": "${BOX_COMMUNITY}"}], "routers": [ROUTER], "switches": [SWITCH]})


@pytest.fixture
def inventory(school, make_device):
    """What the carrier has recorded for the school: some of it is on the network, some moved, one is gone."""
    return {
        "switch": make_device(school, kind="switch", serial="CN12345678", status="active"),
        "printer": make_device(school, kind="printer", serial="E78123A4N123456"),
        "ops": make_device(school, kind="ops_pc", interfaces=[{"mac": PC}], room="A101"),
        "board": make_device(school, kind="interactive_display", interfaces=[{"mac": BOARD}], status="in_stock"),
        "laptop": make_device(school, kind="laptop", serial="LT-GONE", status="active"),
    }


def discover(runner, *extra):
    result = fleet(runner, "discover", "gs-box", "--json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_json_summary_has_the_documented_shape(runner, school):
    out = discover(runner)
    assert set(out) == {"run_id", "status", "duration_s", "counts", "errors"}
    assert set(out["counts"]) == {"probed", "alive", "snmp", "matched", "new", "moved", "missing", "conflict"}
    assert out["status"] == "succeeded" and out["counts"]["probed"] == 6 and out["counts"]["alive"] == 6


def test_a_run_matches_what_is_recorded_and_queues_the_rest(db, runner, inventory):
    ops = db.session.get(Device, inventory["ops"].id)
    ops.last_seen_where = f"switch {SWITCH} port 1/0/2"
    db.session.commit()
    out = discover(runner)
    counts = out["counts"]
    assert counts["snmp"] == 6 and counts["matched"] == 4  # switch and printer by serial, OPS PC and board by MAC
    findings = {(f.kind, f.key) for f in db.session.scalars(select(Finding))}
    assert findings == {
        ("new", "mac:4c:5e:0c:11:22:33"),  # the router: one interface MAC, unknown
        ("new", "mac:78:8a:20:aa:bb:cc"),  # the access point
        ("moved", f"device:{inventory['ops'].id}"),  # the FDB puts it on port 1/0/1 now
        ("changed", f"device:{inventory['board'].id}"),  # recorded in stock, but on the network
        ("missing", f"device:{inventory['laptop'].id}"),
    }
    db.session.expire_all()
    assert db.session.get(Device, inventory["printer"].id).last_seen_ip == PRINTER
    assert db.session.get(Device, inventory["ops"].id).last_seen_where == f"switch {SWITCH} port 1/0/1"
    assert db.session.get(Device, inventory["board"].id).last_seen_where == f"switch {SWITCH} port 1/0/2"


def test_a_second_identical_run_raises_nothing_new(db, runner, inventory):
    discover(runner)
    before = db.session.scalars(select(Finding.id)).all()
    out = discover(runner)
    assert [out["counts"][k] for k in ("new", "moved", "missing", "conflict")] == [0, 0, 0, 0]
    assert db.session.scalars(select(Finding.id)).all() == before
    assert all(f.times_seen == 2 for f in db.session.scalars(select(Finding)))


def test_new_hosts_are_classified_and_remember_their_credential(db, runner, school):
    discover(runner)
    router = db.session.scalars(select(Finding).where(Finding.key == "mac:4c:5e:0c:11:22:33")).one()
    assert router.seen["ip"] == ROUTER and router.seen["kind"] == "router"
    ap = db.session.scalars(select(Finding).where(Finding.key == "mac:78:8a:20:aa:bb:cc")).one()
    assert ap.seen["kind"] == "access_point" and ap.seen["ip"] == AP
    printer = db.session.scalars(select(Observation).where(Observation.ip == PRINTER,
                                                           Observation.source == "snmp")).one()
    assert printer.model == "Brother HL-L8360CDW series" and printer.kind == "printer"
    from discovery.runs import remembered_credentials
    assert remembered_credentials(school)[OPS] == 0


def test_the_human_summary_names_the_run_and_its_counts(runner, school):
    result = fleet(runner, "discover", "gs-box", "--quiet")
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.stdout and "6 probed, 6 alive, 6 answered SNMP" in result.stdout


def test_an_unknown_school_is_one_error_line(runner, school):
    result = fleet(runner, "discover", "gs-nowhere")
    assert result.exit_code == 1 and "gs-nowhere" in result.stderr and "Traceback" not in result.output


def test_an_unset_secret_names_the_variable_and_probes_nothing(db, runner, school, monkeypatch):
    monkeypatch.delenv("BOX_COMMUNITY")
    result = fleet(runner, "discover", "gs-box")
    assert result.exit_code == 1 and "BOX_COMMUNITY" in result.stderr
    assert db.session.scalars(select(DiscoveryRun)).all() == []


def test_a_school_held_by_another_process_is_refused_with_the_holder(db, runner, school):
    acquire(school, "scheduler-host:4242")
    result = fleet(runner, "discover", "gs-box")
    assert result.exit_code == 1 and "scheduler-host:4242" in result.stderr
    assert db.session.scalars(select(DiscoveryRun)).all() == []
