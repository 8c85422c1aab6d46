"""What a room needs and by when, over the rooms API: its own items, the effective items and the target dates."""

from datetime import date

import pytest
from sqlalchemy import select

from inventory.models import AuditEvent, Profile

ROOMS = "/api/v1/schools/gs-a/rooms"
KLASSENRAUM = {"interactive_display": 1, "document_camera": 1, "access_point": 1, "laptop": 1}


@pytest.fixture
def school(db, make_school):
    """gs-a with a Klassenraum A101 (no overrides, no target) and a school target date."""
    school = make_school(code="gs-a", rooms=("A101", "A102"), target_date=date(2025, 7, 31))
    profile = Profile(code="klassenraum", label="Klassenraum", items=KLASSENRAUM)
    db.session.add(profile)
    for room in school.rooms:
        room.profile = profile
    db.session.commit()
    return school


def room_events(db, room="gs-a/A101"):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "room",
                                                            AuditEvent.object_repr == room)
                                   .order_by(AuditEvent.id)))


def test_a_room_shows_its_own_items_what_it_requires_and_both_target_dates(client, admin, school):
    room = client.get(f"{ROOMS}/A101", headers=admin).json
    assert room["items"] == {}
    assert room["required"] == KLASSENRAUM
    assert (room["target_date"], room["effective_target_date"]) == (None, "2025-07-31")
    listed = client.get(ROOMS, headers=admin).json
    assert [(r["code"], r["required"], r["effective_target_date"]) for r in listed] == [
        ("A101", KLASSENRAUM, "2025-07-31"), ("A102", KLASSENRAUM, "2025-07-31")]


def test_overrides_replace_the_profiles_counts_and_zero_drops_a_kind(client, admin, school, db):
    response = client.patch(f"{ROOMS}/A101", headers=admin,
                            json={"items": {"document_camera": 0, "access_point": 2}, "target_date": "2026-03-31"})
    assert response.status_code == 200, response.json
    assert response.json["items"] == {"access_point": 2, "document_camera": 0}
    assert response.json["required"] == {"access_point": 2, "interactive_display": 1, "laptop": 1}
    assert (response.json["target_date"], response.json["effective_target_date"]) == ("2026-03-31", "2026-03-31")
    again = client.get(f"{ROOMS}/A101", headers=admin).json
    assert again["required"] == {"access_point": 2, "interactive_display": 1, "laptop": 1}
    assert client.get(f"{ROOMS}/A102", headers=admin).json["required"] == KLASSENRAUM  # the profile is untouched


def test_the_rollout_needs_what_the_room_shows(client, admin, school):
    client.patch(f"{ROOMS}/A101", headers=admin, json={"items": {"laptop": 0, "desktop": 3}})
    rollout = client.get("/api/v1/rollout?school=gs-a&room=A101", headers=admin).json["results"][0]
    shown = client.get(f"{ROOMS}/A101", headers=admin).json["required"]
    assert {line["kind"]: line["required"] for line in rollout["lines"]} == shown


def test_null_and_empty_clear_the_overrides_and_the_target(client, admin, school):
    client.patch(f"{ROOMS}/A101", headers=admin, json={"items": {"laptop": 3}, "target_date": "2026-03-31"})
    cleared = client.patch(f"{ROOMS}/A101", headers=admin, json={"items": None, "target_date": None}).json
    assert (cleared["items"], cleared["required"]) == ({}, KLASSENRAUM)
    assert (cleared["target_date"], cleared["effective_target_date"]) == (None, "2025-07-31")
    client.patch(f"{ROOMS}/A101", headers=admin, json={"items": {"laptop": 3}})
    assert client.patch(f"{ROOMS}/A101", headers=admin, json={"items": {}}).json["items"] == {}


def test_a_patch_without_items_keeps_them(client, admin, school):
    client.patch(f"{ROOMS}/A101", headers=admin, json={"items": {"laptop": 3}})
    renamed = client.patch(f"{ROOMS}/A101", headers=admin, json={"name": "Klasse 5b"}).json
    assert (renamed["name"], renamed["items"]) == ("Klasse 5b", {"laptop": 3})


def test_a_new_room_takes_items_and_a_target(client, admin, school):
    created = client.post(ROOMS, headers=admin, json={
        "code": "B201", "name": "Physik", "kind": "lab", "profile": "klassenraum",
        "items": {"laptop": 0}, "target_date": "2027-01-31"})
    assert created.status_code == 201, created.json
    assert created.json["required"] == {"access_point": 1, "document_camera": 1, "interactive_display": 1}
    assert created.json["effective_target_date"] == "2027-01-31"


def test_a_room_without_a_profile_requires_only_its_own_items(client, admin, school):
    created = client.post(ROOMS, headers=admin, json={"code": "S1", "name": "Server", "kind": "server",
                                                      "items": {"server": 1, "switch": 0}}).json
    assert created["required"] == {"server": 1}


def test_an_unknown_kind_is_named(client, admin, school, db):
    response = client.patch(f"{ROOMS}/A101", headers=admin, json={"items": {"whiteboard": 1, "laptop": 2}})
    assert response.status_code == 422
    assert response.json["error"] == "ValidationError"
    assert list(response.json["fields"]) == ["items.whiteboard"]
    assert "'whiteboard' is not a device kind" in response.json["fields"]["items.whiteboard"][0]
    assert client.get(f"{ROOMS}/A101", headers=admin).json["items"] == {}
    assert room_events(db) == []


@pytest.mark.parametrize("count", [-1, 501, 1.5, "2", True, None])
def test_a_count_that_is_not_a_whole_number_from_0_to_500_is_named(client, admin, school, count):
    response = client.patch(f"{ROOMS}/A101", headers=admin, json={"items": {"laptop": 1, "access_point": count}})
    assert response.status_code == 422
    assert response.json["fields"] == {"items.access_point": ["must be a whole number from 0 to 500"]}


def test_the_bounds_are_allowed(client, admin, school):
    response = client.patch(f"{ROOMS}/A101", headers=admin, json={"items": {"laptop": 0, "tablet": 500}})
    assert response.status_code == 200
    assert response.json["required"] == {"access_point": 1, "document_camera": 1, "interactive_display": 1,
                                          "tablet": 500}


@pytest.mark.parametrize("body, field", [({"items": [1, 2]}, "items"), ({"target_date": "31.03.2026"}, "target_date")])
def test_malformed_items_or_dates_are_named(client, admin, school, body, field):
    response = client.patch(f"{ROOMS}/A101", headers=admin, json=body)
    assert response.status_code == 422
    assert list(response.json["fields"]) == [field]


def test_every_change_leaves_an_audit_event_with_old_and_new(client, admin, school, db):
    client.patch(f"{ROOMS}/A101", headers=admin, json={"items": {"access_point": 2}, "target_date": "2026-03-31"})
    client.patch(f"{ROOMS}/A101", headers=admin, json={"items": {"access_point": 2}})  # no change: no event
    client.patch(f"{ROOMS}/A101", headers=admin, json={"target_date": None})
    events = room_events(db)
    assert [(e.action, e.changes, e.school_code) for e in events] == [
        ("update", {"items": [{}, {"access_point": 2}], "target_date": [None, "2026-03-31"]}, "gs-a"),
        ("update", {"target_date": ["2026-03-31", None]}, "gs-a")]
    assert events[0].actor.startswith("token:") and events[0].actor.endswith("(admin)")


def test_a_new_rooms_audit_event_names_its_items_and_target(client, admin, school, db):
    client.post(ROOMS, headers=admin, json={"code": "B201", "name": "Physik", "items": {"desktop": 4},
                                            "target_date": "2027-01-31"})
    (event,) = room_events(db, "gs-a/B201")
    assert event.action == "create"
    assert (event.changes["items"], event.changes["target_date"]) == ([None, {"desktop": 4}], [None, "2027-01-31"])


def test_a_support_token_limited_to_a_school_plans_its_rooms_but_not_another_schools(client, token_for, school,
                                                                                     make_school, db):
    make_school(code="gs-b", rooms=("X1",))
    support = token_for("support", ["gs-a"])
    mine = client.patch(f"{ROOMS}/A101", headers=support, json={"items": {"access_point": 2}})
    assert mine.status_code == 200, mine.json
    theirs = client.patch("/api/v1/schools/gs-b/rooms/X1", headers=support, json={"items": {"access_point": 2}})
    assert theirs.status_code == 403
    assert "limited to gs-a; not 'gs-b'" in theirs.json["message"]
    assert client.get("/api/v1/schools/gs-b/rooms/X1", headers=support).json["items"] == {}
    assert [e.object_repr for e in db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "room"))
            ] == ["gs-a/A101"]


def test_other_room_fields_stay_with_admins_and_viewers_change_nothing(client, token_for, school):
    support, viewer = token_for("support", ["gs-a"]), token_for("viewer")
    renamed = client.patch(f"{ROOMS}/A101", headers=support, json={"name": "X", "items": {"laptop": 2}})
    assert renamed.status_code == 403
    assert client.patch(f"{ROOMS}/A101", headers=viewer, json={"items": {"laptop": 2}}).status_code == 403
    assert client.get(f"{ROOMS}/A101", headers=viewer).json["items"] == {}
