"""Rollout per classroom: what a room needs, has and was seen with, its phase, target date and the totals."""

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provisioning.rollout import PHASES, Device, Line, Room, rollout

TODAY = date(2024, 9, 2)
DAYS = 7
KLASSENRAUM = {"interactive_display": 1, "document_camera": 1, "access_point": 1, "laptop": 1}


def room(code="A101", school="gs-a", profile=None, overrides=None, target=None):
    return Room(school=school, code=code, profile=KLASSENRAUM if profile is None else profile,
                overrides=overrides or {}, target=target)


def dev(id, kind, room="A101", school="gs-a", status="active", seen=TODAY - timedelta(days=1)):
    return Device(id=id, school=school, room=room, kind=kind, status=status, last_seen=seen)


def equipped(room_code="A101", school="gs-a", first_id=1, **changes):
    """The four devices of a Klassenraum, seen yesterday; changes replace one kind's device (None drops it)."""
    devices = []
    for offset, kind in enumerate(sorted(KLASSENRAUM)):
        if kind in changes:
            if changes[kind] is not None:
                devices.append(changes[kind])
            continue
        devices.append(dev(first_id + offset, kind, room_code, school))
    return devices


def one_room(devices, **room_fields):
    result = rollout([room(**room_fields)], devices, TODAY, DAYS)
    return result.rooms[0]


def line(result, kind):
    return next(line for line in result.lines if line.kind == kind)


@pytest.mark.parametrize("case", [
    dict(name="a fully equipped room seen yesterday is verified and complete",
         devices=equipped(), phase="verified", complete=True, missing=0, surplus=0, verified=4),
    dict(name="a room missing its board is planned and incomplete",
         devices=equipped(interactive_display=None), phase="planned", complete=False, missing=1, surplus=0,
         verified=3),
    dict(name="a board on order makes the room ordered",
         devices=equipped(interactive_display=dev(9, "interactive_display", status="ordered", seen=None)),
         phase="ordered", complete=False, missing=1, surplus=0, verified=3),
    dict(name="a board in stock is on the way as well",
         devices=equipped(interactive_display=dev(9, "interactive_display", status="in_stock", seen=None)),
         phase="ordered", complete=False, missing=1, surplus=0, verified=3),
    dict(name="a board in repair is not present",
         devices=equipped(interactive_display=dev(9, "interactive_display", status="repair")),
         phase="planned", complete=False, missing=1, surplus=0, verified=3),
    dict(name="a loaned laptop is present",
         devices=equipped(laptop=dev(9, "laptop", status="loaned")), phase="verified", complete=True, missing=0,
         surplus=0, verified=4),
    dict(name="a second laptop is surplus and does not fill the missing board",
         devices=[*equipped(interactive_display=None), dev(9, "laptop")], phase="planned", complete=False,
         missing=1, surplus=1, verified=4),
    dict(name="a device present but not seen for longer than N days makes the room installed, not verified",
         devices=equipped(laptop=dev(9, "laptop", seen=TODAY - timedelta(days=DAYS + 1))),
         phase="installed", complete=True, missing=0, surplus=0, verified=3),
    dict(name="a device seen exactly N days ago is verified",
         devices=equipped(laptop=dev(9, "laptop", seen=TODAY - timedelta(days=DAYS))),
         phase="verified", complete=True, missing=0, surplus=0, verified=4),
    dict(name="a device never seen is not verified",
         devices=equipped(laptop=dev(9, "laptop", seen=None)), phase="installed", complete=True, missing=0,
         surplus=0, verified=3),
    dict(name="a sighting counts by its calendar date, whatever the hour",
         devices=equipped(laptop=dev(9, "laptop", seen=datetime(2024, 8, 26, 23, 59))),
         phase="verified", complete=True, missing=0, surplus=0, verified=4),
    dict(name="a device of another school with the same room code does not count",
         devices=equipped(interactive_display=dev(9, "interactive_display", school="gs-b")),
         phase="planned", complete=False, missing=1, surplus=0, verified=3),
    dict(name="a device without a room does not count",
         devices=equipped(interactive_display=dev(9, "interactive_display", room=None)),
         phase="planned", complete=False, missing=1, surplus=0, verified=3),
], ids=lambda case: case["name"])
def test_a_room(case):
    result = one_room(case["devices"])

    assert (result.phase, result.complete) == (case["phase"], case["complete"])
    assert (result.total.missing, result.total.surplus, result.total.verified) == (
        case["missing"], case["surplus"], case["verified"])
    assert result.total.required == 4


def test_a_room_missing_its_board_shows_the_gap_on_the_boards_line():
    result = one_room([*equipped(interactive_display=None), dev(9, "laptop")])

    assert result.lines == (
        Line("access_point", required=1, present=1, verified=1),
        Line("document_camera", required=1, present=1, verified=1),
        Line("interactive_display", required=1, missing=1),
        Line("laptop", required=1, present=2, verified=2, surplus=1),
    )
    assert result.devices == (1, 2, 4, 9)


def test_a_device_of_a_kind_not_required_is_its_own_surplus_line():
    result = one_room([*equipped(), dev(9, "printer")])

    assert line(result, "printer") == Line("printer", present=1, verified=1, surplus=1)
    assert result.phase == "verified"


def test_a_room_stays_planned_until_every_missing_unit_is_on_the_way():
    devices = [*equipped(access_point=None), dev(9, "access_point", status="ordered")]

    assert one_room(devices, overrides={"access_point": 2}).phase == "planned"
    assert one_room([*devices, dev(10, "access_point", status="ordered")], overrides={"access_point": 2}).phase == \
        "ordered"


def test_the_least_advanced_unit_decides_the_phase():
    devices = equipped(interactive_display=dev(9, "interactive_display", status="ordered"),
                       laptop=dev(10, "laptop", seen=None))

    assert one_room(devices).phase == "ordered"


@pytest.mark.parametrize("case", [
    dict(name="an override replaces the profile's count", overrides={"access_point": 2},
         kind="access_point", required=2, missing=1),
    dict(name="an override of zero drops the kind", overrides={"laptop": 0},
         kind="laptop", required=0, missing=0),
    dict(name="an override may add a kind the profile lacks", overrides={"projector": 1},
         kind="projector", required=1, missing=1),
], ids=lambda case: case["name"])
def test_per_room_overrides(case):
    result = one_room(equipped(), overrides=case["overrides"])

    lines = {line.kind: line for line in result.lines}
    found = lines.get(case["kind"], Line(case["kind"]))
    assert (found.required, found.missing) == (case["required"], case["missing"])
    assert result.complete == (case["missing"] == 0)


def test_the_required_counts_are_the_profile_with_the_overrides_laid_over_it():
    plan = room(overrides={"access_point": 2, "laptop": 0, "projector": 1})

    assert plan.required() == {"access_point": 2, "document_camera": 1, "interactive_display": 1, "projector": 1}


@pytest.mark.parametrize("case", [
    dict(name="an incomplete room after its target date is behind",
         devices=equipped(interactive_display=None), target=TODAY - timedelta(days=1), behind=True),
    dict(name="an incomplete room on its target date is not behind yet",
         devices=equipped(interactive_display=None), target=TODAY, behind=False),
    dict(name="a complete room past its target date is not behind",
         devices=equipped(laptop=dev(9, "laptop", seen=None)), target=TODAY - timedelta(days=30), behind=False),
    dict(name="a room without a target date is never behind",
         devices=[], target=None, behind=False),
], ids=lambda case: case["name"])
def test_behind_the_target_date(case):
    result = one_room(case["devices"], target=case["target"])

    assert (result.behind, result.target) == (case["behind"], case["target"])


def test_a_room_that_requires_nothing_has_no_phase_and_is_complete():
    result = one_room([dev(1, "desktop")], profile={}, target=TODAY - timedelta(days=1))

    assert (result.phase, result.complete, result.behind) == (None, True, False)
    assert result.lines == (Line("desktop", present=1, verified=1, surplus=1),)


def test_totals_per_school_and_for_the_carrier():
    rooms = [room("A101", target=TODAY - timedelta(days=1)), room("A102"), room("B1", school="gs-b"),
             room("B2", school="gs-b", profile={})]
    devices = [*equipped("A101", interactive_display=None), *equipped("A102", first_id=11),
               *equipped("B1", school="gs-b", first_id=21, laptop=dev(29, "laptop", "B1", "gs-b", seen=None)),
               dev(31, "laptop", "B1", "gs-b")]

    result = rollout(rooms, devices, TODAY, DAYS)

    assert [(r.school, r.room, r.phase, r.behind) for r in result.rooms] == [
        ("gs-a", "A101", "planned", True), ("gs-a", "A102", "verified", False),
        ("gs-b", "B1", "verified", False), ("gs-b", "B2", None, False)]
    school_a, school_b = result.schools["gs-a"], result.schools["gs-b"]
    assert (school_a.rooms, school_a.complete, school_a.behind) == (2, 1, 1)
    assert school_a.phases == {"planned": 1, "ordered": 0, "installed": 0, "verified": 1}
    assert school_a.total == Line(None, required=8, present=7, verified=7, missing=1)
    assert (school_b.rooms, school_b.complete, school_b.behind) == (2, 2, 0)
    assert school_b.total == Line(None, required=4, present=5, verified=4, surplus=1)
    assert result.carrier.total == Line(None, required=12, present=12, verified=11, missing=1, surplus=1)
    assert result.carrier.phases == {"planned": 1, "ordered": 0, "installed": 0, "verified": 2}
    assert line(result.carrier, "laptop") == Line("laptop", required=3, present=4, verified=3, surplus=1)
    assert list(result.schools) == ["gs-a", "gs-b"]


def test_an_empty_carrier_has_empty_totals():
    result = rollout([], [], TODAY, DAYS)

    assert result.rooms == () and result.schools == {}
    assert result.carrier.total == Line(None) and result.carrier.phases == dict.fromkeys(PHASES, 0)


@pytest.mark.parametrize(("rooms", "days", "message"), [
    ([room(), room()], DAYS, "room A101 of school gs-a is given twice"),
    ([room(overrides={"laptop": -1})], DAYS, "room A101 of school gs-a requires a negative count"),
    ([room()], -1, "verified_within_days must be at least 0"),
])
def test_wrong_input_is_refused(rooms, days, message):
    with pytest.raises(ValueError, match=message):
        rollout(rooms, [], TODAY, days)


# Properties

KINDS = ("interactive_display", "laptop", "access_point")
STATUSES = ("planned", "ordered", "in_stock", "active", "loaned", "repair", "missing", "retired")
ROOM_KEYS = [("gs-a", "A1"), ("gs-a", "A2"), ("gs-b", "B1"), ("gs-b", "B2"), ("gs-c", "C1")]

rooms_strategy = st.lists(
    st.builds(lambda key, profile, overrides, target: Room(key[0], key[1], profile, overrides, target),
              st.sampled_from(ROOM_KEYS), st.dictionaries(st.sampled_from(KINDS), st.integers(0, 3)),
              st.dictionaries(st.sampled_from(KINDS), st.integers(0, 3), max_size=1),
              st.none() | st.dates(date(2024, 8, 1), date(2024, 10, 1))),
    unique_by=lambda r: (r.school, r.code), max_size=5)
devices_strategy = st.lists(
    st.builds(lambda key, kind, status, seen: Device(0, key[0], key[1], kind, status, seen),
              st.sampled_from([*ROOM_KEYS, ("gs-a", None)]), st.sampled_from(KINDS), st.sampled_from(STATUSES),
              st.none() | st.dates(date(2024, 8, 1), date(2024, 9, 10))),
    max_size=25).map(lambda devices: [Device(i, d.school, d.room, d.kind, d.status, d.last_seen)
                                      for i, d in enumerate(devices)])


@settings(max_examples=80, deadline=None)
@given(rooms=rooms_strategy, devices=devices_strategy)
def test_totals_are_the_sums_of_the_rooms(rooms, devices):
    result = rollout(rooms, devices, TODAY, DAYS)

    assert result.carrier.total == sum((r.total for r in result.rooms), Line(None))
    assert result.carrier.total == sum((s.total for s in result.schools.values()), Line(None))
    assert result.carrier.rooms == len(result.rooms) == sum(s.rooms for s in result.schools.values())
    assert result.carrier.behind == sum(r.behind for r in result.rooms)
    assert sum(result.carrier.phases.values()) == sum(r.phase is not None for r in result.rooms)
    for r in result.rooms:
        assert r.complete == (r.total.missing == 0) == (r.phase in (None, "installed", "verified"))
        assert r.total.verified <= r.total.present
        assert all(line.missing == max(line.required - line.present, 0) for line in r.lines)


@settings(max_examples=40, deadline=None)
@given(rooms=rooms_strategy, devices=devices_strategy, data=st.data())
def test_the_rollout_does_not_depend_on_input_order(rooms, devices, data):
    shuffled_rooms = data.draw(st.permutations(rooms))
    shuffled_devices = data.draw(st.permutations(devices))

    assert rollout(shuffled_rooms, shuffled_devices, TODAY, DAYS) == rollout(rooms, devices, TODAY, DAYS)
