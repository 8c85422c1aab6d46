"""`fleet schools sync`: the declaration becomes the database, idempotently and all or nothing."""

import textwrap
from datetime import date
from decimal import Decimal

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
    write.path = str(path)
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


# Rollout and funding keys

FUNDED = BASE.replace(
    "carrier: {name: Stadt Lindenau, state: BB}\n",
    """carrier:
  name: Stadt Lindenau
  state: BB
  funding:
    dp2019: {own_share: "0.20", earmark: {years: 7}}
  budgets: {dp2019: "250000"}
""").replace(
    "    subnets: [10.12.0.0/22]\n",
    "    subnets: [10.12.0.0/22]\n    network_since: 2019-08-01\n    target: 2025-07-31\n").replace(
    "profile: klassenraum}\n      - {code: A102",
    "profile: klassenraum,\n         items: {access_point: 2, laptop: 0}, target: 2024-12-31}\n      - {code: A102") + """\
  - code: gs-neu
    name: Grundschule Neubau
    type: general
    subnets: [10.13.0.0/24]
grants:
  - {ref: DP-2020-0042, programme: dp2019, schools: [gs-linden], applied: 2020-06-30, decided: 2020-09-01,
     amount: "137000", rate: "0.9", project_end: 2024-12-31, proof_due: 2025-06-30}
  - {ref: DP-2021-0204, programme: dp2019-lehrkraefte, schools: [gs-neu, gs-linden], decided: 2021-06-07,
     amount: "20000.00", rate: "0.90"}
"""


def grant(db, ref):
    from provisioning.models import Grant

    db.session.expire_all()
    return db.session.scalar(select(Grant).where(Grant.ref == ref))


def test_rollout_and_funding_keys_reach_the_database_and_a_second_sync_changes_nothing(runner, db, declare):
    from inventory.models import Carrier

    path = declare(FUNDED)
    first = sync(runner, path)
    assert first.exit_code == 0, first.output
    assert "+ grant DP-2020-0042" in first.output and "+ grant DP-2021-0204" in first.output
    second = sync(runner, path)
    assert second.exit_code == 0, second.output
    assert second.output == "schools.yaml and the database agree: nothing to change\n"
    carrier = db.session.scalar(select(Carrier))
    assert carrier.funding == {"dp2019": {"own_share": "0.20", "earmark": {"years": 7}}}
    assert carrier.budgets == {"dp2019": "250000.00"}
    school = db.session.scalar(select(School).where(School.code == "gs-linden"))
    assert (school.network_since, school.target_date) == (date(2019, 8, 1), date(2025, 7, 31))
    a101 = next(room for room in school.rooms if room.code == "A101")
    assert (a101.items, a101.target_date) == ({"access_point": 2, "laptop": 0}, date(2024, 12, 31))
    dp = grant(db, "DP-2020-0042")
    assert (dp.amount, dp.rate, dp.applied, dp.proof_due) == (
        Decimal("137000.00"), Decimal("0.9000"), date(2020, 6, 30), date(2025, 6, 30))
    assert grant(db, "DP-2021-0204").school_codes == ["gs-linden", "gs-neu"]


def test_changed_grants_are_reported_old_to_new_and_audited(runner, db, declare):
    sync(runner, declare(FUNDED))
    changed = FUNDED.replace('amount: "137000"', 'amount: "140000.50"').replace(
        "schools: [gs-neu, gs-linden]", "schools: [gs-neu]")
    result = sync(runner, declare(changed))
    assert result.exit_code == 0, result.output
    assert "~ grant DP-2020-0042: amount '137000.00' → '140000.50'" in result.output
    assert "~ grant DP-2021-0204: schools gs-linden, gs-neu → gs-neu" in result.output
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "grant",
                                                         AuditEvent.action == "update")
                                .order_by(AuditEvent.id)).all()
    assert [event.changes for event in events] == [{"amount": ["137000.00", "140000.50"]},
                                                   {"schools": [["gs-linden", "gs-neu"], ["gs-neu"]]}]
    assert grant(db, "DP-2021-0204").school_codes == ["gs-neu"]


def test_a_changed_room_override_is_one_line(runner, db, declare):
    sync(runner, declare(FUNDED))
    result = sync(runner, declare(FUNDED.replace("items: {access_point: 2, laptop: 0}", "items: {access_point: 3}")))
    assert result.exit_code == 0, result.output
    assert ('~ room gs-linden/A101: items {"access_point": 2, "laptop": 0} → {"access_point": 3}'
            in result.output.splitlines())


def test_removing_a_grant_that_devices_name_is_refused_and_nothing_changes(runner, db, declare, make_device):
    sync(runner, declare(FUNDED))
    make_device("gs-linden", room="A101", kind="laptop", grant="DP-2021-0204")
    make_device("gs-neu", kind="laptop", grant="DP-2021-0204", status="retired")
    without = FUNDED.split("  - {ref: DP-2021-0204")[0].replace("Am Lindenhof", "Am Lindenplatz")
    result = sync(runner, declare(without))
    assert result.exit_code == 1
    assert ("grant DP-2021-0204 is named by 2 device(s): give them another grant first, or keep the grant in "
            "schools.yaml") in result.stderr
    assert grant(db, "DP-2021-0204") is not None
    assert db.session.scalar(select(School).where(School.code == "gs-linden")).name == "Grundschule Am Lindenhof"


def test_removing_a_grant_no_device_names_removes_it(runner, db, declare):
    sync(runner, declare(FUNDED))
    result = sync(runner, declare(FUNDED.split("  - {ref: DP-2021-0204")[0]))
    assert result.exit_code == 0, result.output
    assert "- grant DP-2021-0204" in result.output.splitlines()
    assert grant(db, "DP-2021-0204") is None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.object_type == "grant",
                                                      AuditEvent.action == "delete")).object_repr == "DP-2021-0204"


def test_a_dry_run_shows_grants_and_writes_none(runner, db, declare):
    result = runner.invoke(args=["schools", "sync", declare(FUNDED), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "+ grant DP-2020-0042" in result.output
    assert grant(db, "DP-2020-0042") is None


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("own_share: \"0.20\"", "own_share: \"1.20\"",
     "schools.yaml:5 carrier.funding.dp2019.own_share: must be at least 0 and at most 1"),
    ("    dp2019: {own_share", "    dp2O19: {own_share",
     "schools.yaml:5 carrier.funding.dp2O19: 'dp2O19' is not a programme (did you mean 'dp2019'?)"),
    ("earmark: {years: 7}", "earmark: {years: 7, nach: commissioned}",
     "schools.yaml:5 carrier.funding.dp2019.earmark.nach: unknown key 'nach'; one of: years, after"),
    ('budgets: {dp2019: "250000"}', 'budgets: {dp2019-sofrt: "250000"}',
     "schools.yaml:6 carrier.budgets.dp2019-sofrt: 'dp2019-sofrt' is not a programme (did you mean "
     "'dp2019-sofort'?)"),
    ("programme: dp2019-lehrkraefte", "programme: lehrkraefte",
     "schools.yaml:31 grants[1].programme: 'lehrkraefte' is not a programme (did you mean 'dp2019-lehrkraefte'?)"),
], ids=["a share out of range", "an unknown programme", "an unknown parameter", "a budget for no programme",
        "a grant under no programme"])
def test_funding_that_does_not_fit_the_programmes_names_file_line_and_path(runner, db, declare, old, new, expected):
    assert FUNDED.count(old) == 1
    result = sync(runner, declare(FUNDED.replace(old, new)))
    assert result.exit_code == 1
    assert expected.replace("schools.yaml", declare.path) in result.stderr.splitlines()
    assert result.stderr.splitlines()[-1] == f"error: 1 error(s) in {declare.path}; nothing was changed"
    assert db.session.scalar(select(School)) is None
