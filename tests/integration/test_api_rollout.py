"""GET /api/v1/rollout: rooms with their lines, filtered and paged, totals per school and carrier, roles as elsewhere."""

from datetime import UTC, date, datetime, timedelta

import pytest

from inventory.models import Profile

KLASSENRAUM = {"interactive_display": 1, "document_camera": 1, "access_point": 1, "laptop": 1}


@pytest.fixture
def carrier(db, make_school, make_device):
    """gs-a: A101 complete and verified, A102 empty and behind, A103 ordered; gs-b: B1 half done, not yet due."""
    profile = Profile(code="klassenraum", label="Klassenraum", items=KLASSENRAUM)
    gs_a = make_school("gs-a", rooms=("A101", "A102", "A103"), target_date=date(2024, 12, 31))
    gs_b = make_school("gs-b", rooms=("B1",))
    for room in (*gs_a.rooms, *gs_b.rooms):
        room.profile = profile
    gs_b.rooms[0].target_date = date(2999, 7, 31)
    db.session.commit()
    for kind in KLASSENRAUM:
        device = make_device(gs_a, room="A101", kind=kind)
        device.last_seen_at = datetime.now(UTC) - timedelta(hours=6)
        make_device(gs_a, room="A103", kind=kind, status="ordered")
    make_device(gs_b, room="B1", kind="interactive_display")
    make_device(gs_b, room="B1", kind="laptop")
    db.session.commit()


def get(client, headers, **query):
    return client.get("/api/v1/rollout", headers=headers, query_string=query)


def test_every_room_is_listed_with_its_lines_and_the_totals(client, admin, carrier):
    response = get(client, admin)

    assert response.status_code == 200, response.json
    body = response.json
    assert body["count"] == 4 and (body["page"], body["per_page"]) == (1, 50)
    assert [(r["school"], r["room"], r["phase"], r["complete"], r["behind"]) for r in body["results"]] == [
        ("gs-a", "A101", "verified", True, False), ("gs-a", "A102", "planned", False, True),
        ("gs-a", "A103", "ordered", False, True), ("gs-b", "B1", "planned", False, False)]
    a101 = body["results"][0]
    assert (a101["name"], a101["profile"], a101["target"]) == ("Raum A101", "klassenraum", "2024-12-31")
    assert a101["lines"][0] == {"kind": "access_point", "required": 1, "present": 1, "verified": 1, "ordered": 0,
                                "missing": 0, "surplus": 0}
    assert len(a101["devices"]) == 4
    assert body["schools"]["gs-a"]["rooms"] == 3 and body["schools"]["gs-a"]["behind"] == 2
    assert body["schools"]["gs-b"]["total"]["missing"] == 2
    assert body["carrier"]["total"] == {"kind": None, "required": 16, "present": 6, "verified": 4, "ordered": 4,
                                        "missing": 10, "surplus": 0}
    assert body["carrier"]["phases"] == {"planned": 2, "ordered": 1, "installed": 0, "verified": 1}
    assert body["verified_within_days"] == 14


@pytest.mark.parametrize(("state", "rooms"), [
    ("complete", ["A101"]), ("incomplete", ["A102", "A103", "B1"]), ("behind", ["A102", "A103"]),
    ("planned", ["A102", "B1"]), ("ordered", ["A103"]), ("installed", []), ("verified", ["A101"]),
])
def test_state_picks_the_rooms_listed_while_the_totals_stay_whole(client, admin, carrier, state, rooms):
    body = get(client, admin, state=state).json

    assert [r["room"] for r in body["results"]] == rooms and body["count"] == len(rooms)
    assert body["carrier"]["rooms"] == 4


def test_school_and_room_narrow_the_scope_and_its_totals(client, admin, carrier):
    body = get(client, admin, school="gs-a", room=["A102", "A103"]).json

    assert [r["room"] for r in body["results"]] == ["A102", "A103"]
    assert set(body["schools"]) == {"gs-a"} and body["carrier"]["rooms"] == 2


def test_rooms_are_paged(client, admin, carrier):
    body = get(client, admin, per_page=3, page=2).json

    assert (body["count"], body["page"], body["per_page"]) == (4, 2, 3)
    assert [r["room"] for r in body["results"]] == ["B1"]


@pytest.mark.parametrize(("query", "status", "field"), [
    ({"state": "late"}, 422, "state"),
    ({"per_page": 0}, 422, "per_page"),
    ({"school": "gs-z"}, 404, "school"),
])
def test_bad_filters_are_named(client, admin, carrier, query, status, field):
    response = get(client, admin, **query)

    assert response.status_code == status
    assert field in response.json["fields"]


def test_a_token_is_required(client, carrier):
    response = client.get("/api/v1/rollout")

    assert response.status_code == 401 and response.json["error"] == "Unauthorized"


@pytest.mark.parametrize("role", ["finance", "support"])
def test_finance_and_support_read_the_rollout(client, token_for, carrier, role):
    assert get(client, token_for(role)).json["count"] == 4


def test_an_agent_may_not_read_the_rollout(client, token_for, carrier):
    response = get(client, token_for("agent", ["gs-a"]))

    assert response.status_code == 403


def test_a_token_limited_to_a_school_sees_that_school_only(client, token_for, carrier):
    support = token_for("support", ["gs-b"])

    body = get(client, support).json
    refused = get(client, support, school="gs-a")

    assert [r["room"] for r in body["results"]] == ["B1"] and set(body["schools"]) == {"gs-b"}
    assert refused.status_code == 403 and "gs-b" in refused.json["message"]


def test_the_openapi_document_describes_the_rollout(client):
    spec = client.get("/api/v1/openapi.json").json

    parameters = {p["name"] for p in spec["paths"]["/api/v1/rollout"]["get"]["parameters"]}
    assert {"school", "room", "state", "page", "per_page"} <= parameters
    assert "RoomRolloutOut" in spec["components"]["schemas"]
