"""`fleet schools sync`: the declaration becomes the database, idempotently and all or nothing."""

import textwrap

import pytest
from sqlalchemy import select

from inventory.models import AuditEvent, Room, School

BASE = """\
carrier: {name: Stadt Lindenau, state: BB}
profiles:
  klassenraum: {label: Klassenraum, items: {interactive_display: 1, access_point: 1}}
schools:
  - code: gs-linden
    name: Grundschule Am Lindenhof
    number: "112233"
    type: general
    subnets: [10.12.0.0/22]
    discovery:
      snmp:
        - {version: 2c, community: "${SYNC_TEST_COMMUNITY}"}
    rooms:
      - {code: A101, name: Klasse 1a, kind: classroom, building: A, floor: 1, profile: klassenraum}
      - {code: A102, name: Klasse 1b, kind: classroom, building: A, floor: 1, profile: klassenraum}
"""


@pytest.fixture
def declare(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNC_TEST_COMMUNITY", "s3cret-community")
    path = tmp_path / "schools.yaml"

    def write(text: str):
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return str(path)
    return write


def sync(runner, path):
    return runner.invoke(args=["schools", "sync", path])


def test_first_sync_creates_everything_and_the_second_changes_nothing(runner, db, declare):
    path = declare(BASE)
    first = sync(runner, path)
    assert first.exit_code == 0, first.output
    assert "+ school gs-linden (Grundschule Am Lindenhof)" in first.output
    assert "+ room gs-linden/A101 (Klasse 1a)" in first.output
    assert "+ subnet gs-linden 10.12.0.0/22" in first.output
    second = sync(runner, path)
    assert second.exit_code == 0
    assert "nothing to change" in second.output
    assert db.session.scalar(select(School).where(School.code == "gs-linden")).number == "112233"


def test_a_changed_room_is_reported_with_old_and_new_value(runner, db, declare):
    sync(runner, declare(BASE))
    result = sync(runner, declare(BASE.replace("Klasse 1b", "Klasse 2b")))
    assert result.exit_code == 0
    assert "~ room gs-linden/A102: name 'Klasse 1b' → 'Klasse 2b'" in result.output
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "room",
                                                        AuditEvent.action == "update")).one()
    assert event.changes == {"name": ["Klasse 1b", "Klasse 2b"]}


def test_removing_a_room_that_holds_devices_is_refused_and_nothing_changes(runner, db, declare, make_device):
    sync(runner, declare(BASE))
    make_device("gs-linden", room="A102", hostname="nb-01")
    without_a102 = BASE.replace("      - {code: A102, name: Klasse 1b, kind: classroom, building: A, floor: 1, "
                                "profile: klassenraum}\n", "").replace("Am Lindenhof", "Am Lindenplatz")
    result = sync(runner, declare(without_a102))
    assert result.exit_code == 1
    assert "room gs-linden/A102 still holds 1 device(s)" in result.stderr
    assert "Traceback" not in result.output
    db.session.expire_all()
    school = db.session.scalar(select(School).where(School.code == "gs-linden"))
    assert school.name == "Grundschule Am Lindenhof"
    assert {room.code for room in school.rooms} == {"A101", "A102"}


def test_removing_an_empty_room_removes_it(runner, db, declare):
    sync(runner, declare(BASE))
    without_a102 = BASE.replace("      - {code: A102, name: Klasse 1b, kind: classroom, building: A, floor: 1, "
                                "profile: klassenraum}\n", "")
    result = sync(runner, declare(without_a102))
    assert result.exit_code == 0, result.output
    assert "- room gs-linden/A102" in result.output
    assert db.session.scalar(select(Room).where(Room.code == "A102")) is None


def test_dry_run_shows_changes_and_writes_nothing(runner, db, declare):
    result = runner.invoke(args=["schools", "sync", declare(BASE), "--dry-run"])
    assert result.exit_code == 0
    assert "+ school gs-linden" in result.output and "dry run" in result.output
    assert db.session.scalar(select(School)) is None


def test_a_bad_file_is_one_line_per_problem_and_exit_status_1(runner, db, declare):
    result = sync(runner, declare(BASE.replace("10.12.0.0/22", "10.12.0.0/33")))
    assert result.exit_code == 1
    assert "schools.yaml:9 schools[0].subnets[0]:" in result.stderr
    assert "Traceback" not in result.output
    assert db.session.scalar(select(School)) is None


def test_secrets_never_reach_the_database_or_the_api(runner, db, declare, client, admin):
    sync(runner, declare(BASE))
    school = db.session.scalar(select(School))
    assert "s3cret-community" not in str(school.discovery)
    body = client.get("/api/v1/schools/gs-linden", headers=admin).get_data(as_text=True)
    assert "s3cret" not in body and "SYNC_TEST_COMMUNITY" not in body


def test_a_school_that_scopes_a_token_is_not_removed(runner, db, declare, token_for):
    extra = BASE + """\
  - code: gs-neu
    name: Grundschule Neubau
    type: general
    subnets: [10.13.0.0/24]
"""
    first = sync(runner, declare(extra))
    assert first.exit_code == 0, first.output
    token_for("support", ["gs-neu"])
    result = sync(runner, declare(BASE))
    assert result.exit_code == 1
    assert "school gs-neu is the scope of API token(s)" in result.stderr
    assert db.session.scalar(select(School).where(School.code == "gs-neu")) is not None
