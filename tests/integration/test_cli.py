"""The `fleet` command line: tokens, the demo, schools sync and the exit status contract."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask_migrate import stamp
from sqlalchemy import func, select, text

from inventory.db import utcnow
from inventory.models import ApiToken, Device, School
from inventory.users import authenticate
from provisioning.models import Purchase

from ..helpers import fleet

FLEET = Path(sys.executable).with_name("fleet")
DEVICES = "/api/v1/devices"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def device_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Device))


# --- tokens ------------------------------------------------------------------------------------------------------


def test_tokens_create_prints_a_token_that_works_against_the_api(runner, client, db):
    result = fleet(runner, "tokens", "create", "--role", "admin", "--name", "ops")
    assert result.exit_code == 0, result.output
    token = db.session.scalars(select(ApiToken)).one()
    assert result.stderr == f"token {token.id} 'ops' (admin):\n"
    plain = result.stdout.strip()
    assert result.stdout == plain + "\n"
    assert plain.startswith("sft_") and plain[:12] == token.prefix
    response = client.get(DEVICES, headers=bearer(plain))
    assert response.status_code == 200
    assert response.json["count"] == 0
    assert client.get("/api/v1/tokens", headers=bearer(plain)).json[0]["name"] == "ops"


def test_a_support_token_for_one_school_is_limited_to_it(runner, client, db, make_school):
    make_school(code="gs-linden")
    make_school(code="os-nord")
    result = fleet(runner, "tokens", "create", "--role", "support", "--school", "gs-linden")
    assert result.exit_code == 0, result.output
    assert "(support, gs-linden):" in result.stderr
    headers = bearer(result.stdout.strip())
    own = client.post(DEVICES, headers=headers, json={"school": "gs-linden", "kind": "laptop"})
    assert own.status_code == 201
    other = client.post(DEVICES, headers=headers, json={"school": "os-nord", "kind": "laptop"})
    assert other.status_code == 403


@pytest.mark.parametrize("how", ["id", "name", "prefix"])
def test_a_revoked_token_gets_401(runner, client, db, how):
    plain = fleet(runner, "tokens", "create", "--role", "admin", "--name", "laptop-skript").stdout.strip()
    token = db.session.scalars(select(ApiToken)).one()
    assert client.get(DEVICES, headers=bearer(plain)).status_code == 200
    ident = {"id": str(token.id), "name": "laptop-skript", "prefix": token.prefix}[how]
    result = fleet(runner, "tokens", "revoke", ident)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"token {token.id} 'laptop-skript' is now revoked\n"
    response = client.get(DEVICES, headers=bearer(plain))
    assert response.status_code == 401
    assert response.json["message"] == "the token is unknown or revoked"


def test_revoking_one_token_leaves_the_others_working(runner, client, db):
    first = fleet(runner, "tokens", "create", "--role", "admin", "--name", "eins").stdout.strip()
    second = fleet(runner, "tokens", "create", "--role", "finance", "--name", "zwei").stdout.strip()
    fleet(runner, "tokens", "revoke", "eins")
    assert client.get(DEVICES, headers=bearer(first)).status_code == 401
    assert client.get(DEVICES, headers=bearer(second)).status_code == 200


def test_revoking_an_unknown_token_is_a_clear_error(runner, db):
    result = fleet(runner, "tokens", "revoke", "gibtsnicht")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no token 'gibtsnicht' (give its id, name or the prefix")


def test_an_agent_token_needs_a_school(runner, db):
    result = fleet(runner, "tokens", "create", "--role", "agent")
    assert result.exit_code == 1
    assert result.stderr == "error: an agent token needs exactly one school (--school CODE)\n"
    assert result.stdout == ""
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_a_token_for_an_unknown_school_is_refused(runner, db):
    result = fleet(runner, "tokens", "create", "--role", "agent", "--school", "gs-nirgendwo")
    assert result.exit_code == 1
    assert result.stderr == "error: unknown school 'gs-nirgendwo'\n"
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_an_agent_token_cannot_read_the_inventory(runner, client, db, make_school):
    make_school(code="gs-linden")
    result = fleet(runner, "tokens", "create", "--role", "agent", "--school", "gs-linden")
    assert result.exit_code == 0, result.output
    response = client.get(DEVICES, headers=bearer(result.stdout.strip()))
    assert response.status_code == 403


def test_tokens_list_never_prints_a_secret(runner, db, make_school):
    make_school(code="gs-linden")
    secrets = [fleet(runner, "tokens", "create", "--role", role, *school, "--name", name).stdout.strip()
               for role, school, name in (("admin", (), "ops"), ("agent", ("--school", "gs-linden"), "agent-linden"))]
    fleet(runner, "tokens", "revoke", "ops")
    listing = fleet(runner, "tokens", "list")
    as_json = fleet(runner, "tokens", "list", "--json")
    assert listing.exit_code == 0 and as_json.exit_code == 0
    for secret in secrets:
        assert secret not in listing.output and secret not in as_json.output
        assert secret[12:20] not in listing.output and secret[12:20] not in as_json.output
    lines = listing.stdout.splitlines()
    assert len(lines) == 2
    assert "agent-linden" in lines[0] and "active" in lines[0] and "gs-linden" in lines[0]
    assert "ops" in lines[1] and "revoked" in lines[1] and f"{secrets[0][:12]}…" in lines[1]
    rows = json.loads(as_json.stdout)
    assert [(row["name"], row["role"], row["revoked"], row["schools"]) for row in rows] == [
        ("agent-linden", "agent", False, ["gs-linden"]), ("ops", "admin", True, [])]
    assert all(set(row) == {"id", "name", "prefix", "role", "schools", "revoked"} for row in rows)


# --- the demo ----------------------------------------------------------------------------------------------------


@pytest.fixture
def migrated(db):
    """Mark the test schema as migrated, as `fleet init` leaves a real database, so the demo's upgrade is a no-op."""
    stamp()
    yield db
    db.session.rollback()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def test_the_demo_loads_a_fleet_prints_a_working_token_and_runs_twice_without_duplicates(runner, client, migrated):
    db = migrated
    first = fleet(runner, "demo")
    assert first.exit_code == 0, first.output
    summary, history, invoices, user_line, token_line = first.stdout.strip().splitlines()[-5:]
    devices = device_count(db)
    assert 800 <= devices <= 1000
    assert f"demo fleet: {devices} device(s) created, 0 updated, 0 unchanged" in summary
    assert history.startswith("discovery history: ") and history.endswith(" open finding(s) to review")
    recorded = db.session.scalar(select(func.count()).select_from(Purchase))
    assert recorded > 20
    assert invoices.startswith(f"demo invoices: {recorded} invoice(s) were created, 0 replaced, 0 unchanged; ")
    assert db.session.scalar(select(func.count()).select_from(School)) == 6
    assert token_line.startswith("admin API token (shown once): sft_")
    assert user_line.startswith("web UI user 'admin', password (shown once): ")
    assert authenticate("admin", user_line.rsplit(" ", 1)[1], utcnow()).role == "admin"
    token = token_line.rsplit(" ", 1)[1]
    page = client.get(f"{DEVICES}?kind=interactive_display&per_page=1", headers=bearer(token)).json
    assert page["count"] > 0

    second = fleet(runner, "demo")
    assert second.exit_code == 0, second.output
    assert ": 0 change(s) to schools and rooms; " in second.stdout
    assert f"demo fleet: 0 device(s) created, 0 updated, {devices} unchanged" in second.stdout
    assert "discovery history: every school already has runs; nothing added" in second.stdout
    assert f"demo invoices: 0 invoice(s) were created, 0 replaced, {recorded} unchanged; " in second.stdout
    assert "web UI user 'admin' exists already" in second.stdout
    assert device_count(db) == devices
    assert client.get(DEVICES, headers=bearer(token)).status_code == 200


# --- schools sync ------------------------------------------------------------------------------------------------


def test_schools_sync_of_a_missing_file_is_a_clear_error(runner, db, tmp_path):
    missing = tmp_path / "schulen.yaml"
    result = fleet(runner, "schools", "sync", missing)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"{missing}: cannot be read: No such file or directory",
                                          f"error: 1 error(s) in {missing}; nothing was loaded"]
    assert db.session.scalar(select(func.count()).select_from(School)) == 0


def test_schools_sync_applies_the_shipped_schools_yaml(runner, db, monkeypatch):
    for name in ("FLEET_SNMP_COMMUNITY", "FLEET_SNMP_V3_AUTH", "FLEET_SNMP_V3_PRIV"):
        monkeypatch.setenv(name, "test-only")
    result = fleet(runner, "schools", "sync")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1].endswith(" change(s) applied")
    assert db.session.scalar(select(func.count()).select_from(School)) == 6
    again = fleet(runner, "schools", "sync")
    assert again.stdout == "schools.yaml and the database agree: nothing to change\n"


# --- the installed console script --------------------------------------------------------------------------------


def test_the_console_script_reports_user_errors_in_one_line_without_a_traceback(tmp_path):
    env = {**os.environ, "FLEET_DATABASE_URL": f"sqlite:///{tmp_path / 'fleet.sqlite'}"}
    env.pop("FLEET_SCHOOLS", None)

    def run(*args):
        return subprocess.run([str(FLEET), *map(str, args)], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=60)

    init = run("init")
    assert init.returncode == 0, init.stderr
    assert init.stdout.startswith("database ready: sqlite:///")
    bad = tmp_path / "geraete.csv"
    bad.write_text("school,kind\ngs-linden,toaster\n", encoding="utf-8")
    for args, first_line in (
            (("import", "devices", tmp_path / "fehlt.csv"), f"error: {tmp_path / 'fehlt.csv'}: no such file"),
            (("import", "devices", bad), "geraete.csv:2: kind: 'toaster' is not one of: "),
            (("export", "devices", "--school", "gs-linden"), "error: unknown school 'gs-linden'")):
        result = run(*args)
        assert result.returncode == 1, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert result.stderr.splitlines()[0].startswith(first_line)
        assert result.stdout == ""


def test_token_names_are_unique_so_revoking_by_name_is_never_ambiguous(runner, db):
    assert fleet(runner, "tokens", "create", "--role", "admin", "--name", "ops").exit_code == 0
    again = fleet(runner, "tokens", "create", "--role", "finance", "--name", "ops")
    assert again.exit_code == 1
    assert "a token named 'ops' already exists" in again.stderr
    assert fleet(runner, "tokens", "revoke", "ops").stdout.endswith("is now revoked\n")
    assert fleet(runner, "tokens", "revoke", "ops").stdout.endswith("was already revoked\n")


def test_a_database_that_was_never_initialised_gets_one_clear_line(tmp_path):
    from fleet import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.sqlite'}"})
    result = fleet(app.test_cli_runner(), "tokens", "create", "--role", "admin")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "is not ready" in result.stderr and "fleet init" in result.stderr
    assert "sft_" not in result.output and "token_hash" not in result.output
