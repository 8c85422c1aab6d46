"""Rollout per room from the database, and `fleet rollout`: what each room needs, has, and was seen with lately."""

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from inventory.errors import InvalidInput, UnknownSchool
from inventory.models import Profile
from provisioning.rollouts import room_rollout, settings

from ..helpers import fleet

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)  # a Monday morning in Berlin
KLASSENRAUM = {"interactive_display": 1, "document_camera": 1, "access_point": 1, "laptop": 1}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def equip(db):
    """Factory: give a room of a school a profile (created on first use), overrides and a target date."""
    profiles: dict[str, Profile] = {}

    def make(school, room_code, profile=None, items=None, target=None):
        room = next(room for room in school.rooms if room.code == room_code)
        if profile is not None:
            code, wanted = profile
            if code not in profiles:
                profiles[code] = Profile(code=code, label=code.title(), items=wanted)
            room.profile = profiles[code]
        room.items = items or {}
        room.target_date = target
        db.session.commit()
        return room
    return make


@pytest.fixture
def seen(db):
    """Set when a device was last seen on the network."""
    def mark(device, when):
        device.last_seen_at = when
        db.session.commit()
        return device
    return mark


def rollout_of(*schools, now=NOW, days=14):
    return room_rollout(list(schools) or None, verified_within_days=days, zone=BERLIN, now=now)


def lines(entry):
    return {line.kind: (line.required, line.present, line.verified, line.ordered, line.missing, line.surplus)
            for line in entry.lines}


def test_a_classroom_filled_and_seen_lately_is_verified_and_complete(make_school, make_device, equip, seen):
    school = make_school("gs-a", rooms=("A101",))
    equip(school, "A101", ("klassenraum", KLASSENRAUM))
    for kind in KLASSENRAUM:
        seen(make_device(school, room="A101", kind=kind), NOW - timedelta(days=2))

    (room,) = rollout_of().rollout.rooms

    assert (room.school, room.room, room.phase, room.complete, room.behind) == ("gs-a", "A101", "verified", True, False)
    assert lines(room) == {kind: (1, 1, 1, 0, 0, 0) for kind in KLASSENRAUM}
    assert (room.total.required, room.total.present, room.total.verified) == (4, 4, 4)


def test_overrides_replace_the_profile_counts_and_zero_drops_a_kind(make_school, make_device, equip):
    school = make_school("gs-a", rooms=("B12",))
    equip(school, "B12", ("fachraum_informatik", {"interactive_display": 1, "desktop": 30}),
          items={"desktop": 12, "document_camera": 0, "access_point": 2})
    for _ in range(13):
        make_device(school, room="B12", kind="desktop")

    (room,) = rollout_of().rollout.rooms

    assert lines(room) == {"access_point": (2, 0, 0, 0, 2, 0), "desktop": (12, 13, 0, 0, 0, 1),
                           "interactive_display": (1, 0, 0, 0, 1, 0)}
    assert room.phase == "planned" and not room.complete


def test_only_devices_in_service_are_present_and_ordered_ones_are_on_the_way(make_school, make_device, equip):
    school = make_school("gs-a", rooms=("A101",))
    equip(school, "A101", ("klassenraum", KLASSENRAUM))
    make_device(school, room="A101", kind="interactive_display", status="repair")
    make_device(school, room="A101", kind="interactive_display", status="ordered")
    make_device(school, room="A101", kind="laptop", status="loaned")
    make_device(school, room="A101", kind="document_camera", status="retired")
    make_device(school, room="A101", kind="document_camera", status="in_stock")
    make_device(school, room="A101", kind="access_point", status="missing")
    make_device(school, room="A101", kind="access_point", status="ordered")

    (room,) = rollout_of().rollout.rooms

    assert lines(room) == {"access_point": (1, 0, 0, 1, 1, 0), "document_camera": (1, 0, 0, 1, 1, 0),
                           "interactive_display": (1, 0, 0, 1, 1, 0), "laptop": (1, 1, 0, 0, 0, 0)}
    assert room.phase == "ordered"


def test_verified_means_seen_on_one_of_the_last_n_local_days(make_school, make_device, equip, seen):
    school = make_school("gs-a", rooms=("A101",))
    equip(school, "A101", ("wlan", {"access_point": 4}))
    window_opens = datetime(2026, 3, 2, tzinfo=BERLIN)  # NOW's Berlin date minus 14 days, at midnight
    seen(make_device(school, room="A101", kind="access_point"), window_opens)
    seen(make_device(school, room="A101", kind="access_point"), window_opens - timedelta(seconds=1))
    # 23:30 UTC the evening before is already the window's first day in Berlin.
    seen(make_device(school, room="A101", kind="access_point"), datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    make_device(school, room="A101", kind="access_point")  # never seen

    (room,) = rollout_of().rollout.rooms
    (narrow,) = rollout_of(days=0).rollout.rooms

    assert lines(room) == {"access_point": (4, 4, 2, 0, 0, 0)}
    assert room.phase == "installed" and room.complete
    assert lines(narrow) == {"access_point": (4, 4, 0, 0, 0, 0)}


def test_a_room_takes_its_schools_target_unless_it_has_its_own(make_school, make_device, equip):
    school = make_school("gs-a", rooms=("A101", "A102", "A103"), target_date=date(2026, 3, 15))
    equip(school, "A101", ("wlan", {"access_point": 1}))
    equip(school, "A102", ("wlan", {"access_point": 1}), target=date(2026, 3, 16))
    equip(school, "A103", ("wlan", {"access_point": 1}), target=date(2026, 3, 1))
    make_device(school, room="A103", kind="access_point")

    report = rollout_of()

    assert [(r.room, r.target, r.behind) for r in report.rollout.rooms] == [
        ("A101", date(2026, 3, 15), True),  # the day after the school's target
        ("A102", date(2026, 3, 16), False),  # on its own target day it is not yet behind
        ("A103", date(2026, 3, 1), False),  # late, but complete
    ]
    assert report.today == date(2026, 3, 16)


def test_totals_add_up_per_school_and_for_the_carrier(make_school, make_device, equip):
    first = make_school("gs-a", rooms=("A101", "A102"))
    second = make_school("gs-b", rooms=("A101",))
    for school, room in ((first, "A101"), (first, "A102"), (second, "A101")):
        equip(school, room, ("klassenraum", KLASSENRAUM), target=date(2025, 7, 31))
    for kind in KLASSENRAUM:
        make_device(first, room="A101", kind=kind)
    make_device(second, room="A101", kind="laptop")
    make_device(second, room="A101", kind="laptop")

    report = rollout_of()

    a, b, carrier = report.rollout.schools["gs-a"], report.rollout.schools["gs-b"], report.rollout.carrier
    assert (a.rooms, a.complete, a.behind, a.total.required, a.total.present, a.total.missing) == (2, 1, 1, 8, 4, 4)
    assert (b.rooms, b.complete, b.behind, b.total.missing, b.total.surplus) == (1, 0, 1, 3, 1)
    assert (carrier.rooms, carrier.complete, carrier.behind) == (3, 1, 2)
    assert carrier.phases == {"planned": 2, "ordered": 0, "installed": 1, "verified": 0}
    assert {line.kind: line.missing for line in carrier.lines} == {
        "access_point": 2, "document_camera": 2, "interactive_display": 2, "laptop": 1}


def test_a_slot_in_pc_counts_only_where_the_room_requires_its_kind(make_school, make_device, equip):
    school = make_school("gs-a", rooms=("A101", "A102"))
    equip(school, "A101", ("tafel", {"interactive_display": 1}))
    equip(school, "A102", ("tafel_ops", {"interactive_display": 1, "ops_pc": 1}))
    for room in ("A101", "A102"):
        display = make_device(school, room=room, kind="interactive_display", serial=f"D-{room}")
        make_device(school, room=room, kind="ops_pc", parent_id=display.id)

    plain, with_ops = rollout_of().rollout.rooms

    assert lines(plain) == {"interactive_display": (1, 1, 0, 0, 0, 0)}
    assert lines(with_ops) == {"interactive_display": (1, 1, 0, 0, 0, 0), "ops_pc": (1, 1, 0, 0, 0, 0)}


def test_the_scope_narrows_to_schools_and_rooms_and_an_unknown_school_is_refused(make_school, equip):
    make_school("gs-a", rooms=("A101", "A102"))
    make_school("gs-b", rooms=("A101",))

    report = room_rollout(["gs-a"], ["A102"], verified_within_days=14, zone=BERLIN, now=NOW)

    assert [(r.school, r.room) for r in report.rollout.rooms] == [("gs-a", "A102")]
    assert report.rooms[("gs-a", "A102")].name == "Raum A102"
    with pytest.raises(UnknownSchool):
        rollout_of("gs-z")


@pytest.mark.parametrize(("config", "expected"), [
    ({}, (14, BERLIN)),
    ({"ROLLOUT_VERIFIED_DAYS": 0, "TIMEZONE": "UTC"}, (0, ZoneInfo("UTC"))),
])
def test_settings_default_to_fourteen_days_in_berlin(config, expected):
    assert settings(config) == expected


@pytest.mark.parametrize("config", [{"ROLLOUT_VERIFIED_DAYS": -1}, {"ROLLOUT_VERIFIED_DAYS": "two weeks"},
                                    {"ROLLOUT_VERIFIED_DAYS": True}, {"TIMEZONE": "Europe/Lindenau"}])
def test_bad_settings_are_named(config):
    with pytest.raises(InvalidInput, match="FLEET_"):
        settings(config)


def test_the_demo_has_rooms_behind_their_target(db):
    from inventory.demo_load import load_demo

    load_demo(ROOT / "schools.yaml")
    report = rollout_of("gs-linden", "gym-humboldt", now=datetime(2026, 11, 24, tzinfo=UTC))

    rooms = {(r.school, r.room): r for r in report.rollout.rooms}
    turnhalle, informatik = rooms[("gs-linden", "B001")], rooms[("gym-humboldt", "B1.01")]
    assert (turnhalle.target, turnhalle.behind, lines(turnhalle)["access_point"][4]) == (date(2025, 3, 31), True, 1)
    assert (informatik.target, informatik.behind) == (date(2025, 8, 31), True)
    assert lines(informatik)["desktop"][:2] == (32, 30)
    assert rooms[("gs-linden", "A106")].target == date(2024, 12, 31)  # the school's target


# `fleet rollout`

@pytest.fixture
def lindenau(make_school, make_device, equip, seen):
    school = make_school("gs-linden", rooms=("A101", "A102"))
    equip(school, "A101", ("klassenraum", KLASSENRAUM), target=date(2024, 12, 31))
    equip(school, "A102", ("klassenraum", KLASSENRAUM), target=date(2999, 12, 31))
    for kind in KLASSENRAUM:
        seen(make_device(school, room="A102", kind=kind), datetime.now(UTC) - timedelta(days=1))
    make_device(school, room="A101", kind="laptop")
    make_school("gs-other", rooms=("X1",))
    return school


def test_the_command_prints_a_table_per_room_and_the_totals(runner, lindenau):
    result = fleet(runner, "rollout", "--school", "gs-linden")

    assert result.exit_code == 0, result.output
    out = result.output.splitlines()
    assert out[0].startswith("rollout on ") and "within 14 days" in out[0]
    assert "gs-linden A101 Raum A101 [klassenraum]: planned, target 2024-12-31, behind" in out
    assert "gs-linden A102 Raum A102 [klassenraum]: verified, target 2999-12-31, complete" in out
    header = out.index("gs-linden A101 Raum A101 [klassenraum]: planned, target 2024-12-31, behind")
    assert out[header + 1].split() == ["kind", "required", "present", "verified", "ordered", "missing", "surplus"]
    assert out[header + 2].split() == ["access_point", "1", "0", "0", "0", "1", "0"]
    assert out[header + 5].split() == ["laptop", "1", "1", "0", "0", "0", "0"]
    assert out[header + 6].split() == ["all", "kinds", "4", "1", "0", "0", "3", "0"]
    assert ("gs-linden: 2 rooms, 1 complete, 1 behind; planned 1, ordered 0, installed 0, verified 1") in out
    assert "gs-other" not in result.output and not any(line.startswith("carrier") for line in out)


def test_behind_lists_only_rooms_past_their_target_but_totals_cover_all(runner, lindenau):
    result = fleet(runner, "rollout", "--behind")

    assert result.exit_code == 0, result.output
    assert "gs-linden A101 " in result.output and "gs-linden A102 " not in result.output
    assert "carrier (2 schools): 3 rooms, 2 complete, 1 behind;" in result.output


def test_json_output_is_the_apis_shape(runner, lindenau):
    result = fleet(runner, "rollout", "--school", "gs-linden", "--json")

    body = json.loads(result.output)
    assert [room["room"] for room in body["results"]] == ["A101", "A102"]
    assert body["results"][1]["phase"] == "verified" and body["results"][0]["behind"] is True
    assert body["carrier"]["total"]["required"] == 8 and body["verified_within_days"] == 14
    assert set(body["schools"]) == {"gs-linden"}


def test_an_unknown_school_is_one_line_and_exit_status_1(runner, lindenau):
    result = fleet(runner, "rollout", "--school", "gs-nowhere")

    assert result.exit_code == 1
    assert result.stderr == "error: unknown school 'gs-nowhere'\n"
