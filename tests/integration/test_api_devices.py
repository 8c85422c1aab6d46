"""The device API as a script or the web UI would use it."""

from datetime import date
from decimal import Decimal

import pytest


def test_creating_a_device_normalises_its_mac_and_records_history(client, admin, make_school):
    make_school(code="gs-linden")
    response = client.post("/api/v1/devices", headers=admin, json={
        "school": "gs-linden", "room": "A101", "kind": "laptop", "serial": "PF3ABC12",
        "interfaces": [{"mac": "00-1A-2B-3C-4D-5E", "kind": "wlan"}], "price_net": "799.00"})
    assert response.status_code == 201, response.json
    device = response.json
    assert device["macs"] == ["00:1a:2b:3c:4d:5e"]
    assert device["room"] == "A101"
    assert device["price_net"] == "799.00"
    assert device["history"][0]["action"] == "create"
    assert device["history"][0]["changes"]["serial"] == [None, "PF3ABC12"]
    assert device["history"][0]["actor"].startswith("token:")


def test_a_duplicate_serial_is_a_409_naming_the_other_device(client, admin, make_school, make_device):
    school = make_school()
    first = make_device(school, serial="S-1", hostname="nb-01")
    response = client.post("/api/v1/devices", headers=admin,
                           json={"school": school.code, "kind": "laptop", "serial": "S-1"})
    assert response.status_code == 409
    assert response.json["error"] == "DuplicateSerial"
    assert f"device {first.id} (nb-01)" in response.json["message"]
    assert "serial" in response.json["fields"]


def test_a_duplicate_mac_is_a_409_even_in_another_notation(client, admin, make_school, make_device):
    school = make_school()
    make_device(school, interfaces=[{"mac": "00:1a:2b:3c:4d:5e"}])
    response = client.post("/api/v1/devices", headers=admin, json={
        "school": school.code, "kind": "tablet", "interfaces": [{"mac": "001A.2B3C.4D5E"}]})
    assert response.status_code == 409
    assert response.json["error"] == "DuplicateMac"


def test_a_retired_devices_serial_and_mac_may_be_reused(client, admin, make_school, make_device):
    school = make_school()
    old = make_device(school, serial="S-9", interfaces=[{"mac": "00:1a:2b:3c:4d:5f"}])
    assert client.delete(f"/api/v1/devices/{old.id}", headers=admin).json["outcome"] == "retired"
    response = client.post("/api/v1/devices", headers=admin, json={
        "school": school.code, "kind": "laptop", "serial": "S-9", "interfaces": [{"mac": "00:1a:2b:3c:4d:5f"}]})
    assert response.status_code == 201


def test_deleting_a_never_used_device_removes_it(client, admin, make_school, make_device):
    school = make_school()
    planned = make_device(school, status="planned")
    assert client.delete(f"/api/v1/devices/{planned.id}", headers=admin).json["outcome"] == "deleted"
    assert client.get(f"/api/v1/devices/{planned.id}", headers=admin).status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"kind": "toaster"}, "kind"),
    ({"interfaces": [{"mac": "zz:zz"}]}, "interfaces"),
    ({"ip": "10.0.0.300"}, "ip"),
    ({"hostname": "bad_host name"}, "hostname"),
    ({"serial": "x" * 81}, "serial"),
    ({"price_net": "-5"}, "price_net"),
    ({"status": "stolen"}, "status"),
])
def test_invalid_fields_are_422_naming_the_field(client, admin, make_school, body, field):
    school = make_school()
    response = client.post("/api/v1/devices", headers=admin, json={"school": school.code, "kind": "laptop", **body})
    assert response.status_code == 422
    assert response.json["error"] == "ValidationError"
    assert field in response.json["fields"]


def test_an_unknown_school_or_room_is_named(client, admin, make_school):
    make_school(code="gs-a")
    response = client.post("/api/v1/devices", headers=admin, json={"school": "nope", "kind": "laptop"})
    assert response.status_code == 404
    assert response.json["fields"] == {"school": ["unknown school 'nope'"]}
    response = client.post("/api/v1/devices", headers=admin, json={"school": "gs-a", "room": "Z9", "kind": "laptop"})
    assert response.status_code == 404
    assert "Z9" in response.json["message"]


def test_a_body_that_is_not_json_gets_a_clear_error(client, admin, make_school):
    make_school()
    response = client.post("/api/v1/devices", headers={**admin, "Content-Type": "application/json"},
                           data="{not json")
    assert response.status_code == 400
    assert response.json["message"] == "the request body is not valid JSON"
    response = client.post("/api/v1/devices", headers=admin, json=[1, 2])
    assert response.status_code == 422


def test_patch_changes_only_the_given_fields_and_audits_before_and_after(client, admin, make_school, make_device):
    school = make_school()
    device = make_device(school, hostname="nb-01", room="A101")
    response = client.patch(f"/api/v1/devices/{device.id}", headers=admin, json={"room": "A102", "status": "repair"})
    assert response.status_code == 200
    assert response.json["room"] == "A102" and response.json["hostname"] == "nb-01"
    changes = response.json["history"][0]["changes"]
    assert changes == {"room": ["A101", "A102"], "status": ["active", "repair"]}


def test_the_list_filters_sorts_and_pages_with_a_total(client, admin, make_school, make_device):
    a, b = make_school(code="gs-a"), make_school(code="gs-b")
    for n in range(7):
        make_device(a, hostname=f"nb-{n:02d}", kind="laptop", ip=f"{a.subnets[0].cidr.split('/')[0][:-1]}{n + 10}")
    make_device(b, hostname="ap-01", kind="access_point")
    page = client.get("/api/v1/devices?school=gs-a&per_page=3&page=2&sort=-hostname", headers=admin).json
    assert page["count"] == 7
    assert [d["hostname"] for d in page["results"]] == ["nb-03", "nb-02", "nb-01"]
    assert client.get("/api/v1/devices?kind=access_point", headers=admin).json["count"] == 1
    assert client.get("/api/v1/devices?q=AP-0", headers=admin).json["count"] == 1
    within = a.subnets[0].cidr
    assert client.get(f"/api/v1/devices?within={within}", headers=admin).json["count"] == 7
    assert client.get("/api/v1/devices?within=10.0.0.0/33", headers=admin).status_code == 422
    assert client.get("/api/v1/devices?sort=colour", headers=admin).status_code == 422


def test_filter_by_mac_accepts_any_notation(client, admin, make_school, make_device):
    school = make_school()
    make_device(school, interfaces=[{"mac": "00:1a:2b:3c:4d:5e"}])
    assert client.get("/api/v1/devices?mac=001A2B3C4D5E", headers=admin).json["count"] == 1


def test_no_token_is_401_and_a_wrong_role_is_403(client, token_for, make_school):
    school = make_school()
    assert client.get("/api/v1/devices").status_code == 401
    assert client.get("/api/v1/devices", headers={"Authorization": "Bearer nope"}).status_code == 401
    finance = token_for("finance")
    assert client.get("/api/v1/devices", headers=finance).status_code == 200
    response = client.post("/api/v1/devices", headers=finance, json={"school": school.code, "kind": "laptop"})
    assert response.status_code == 403
    agent = token_for("agent", [school.code])
    assert client.get("/api/v1/devices", headers=agent).status_code == 403


def test_a_support_token_limited_to_one_school_cannot_write_another(client, token_for, make_school):
    a, b = make_school(code="gs-a"), make_school(code="gs-b")
    support = token_for("support", ["gs-a"])
    assert client.post("/api/v1/devices", headers=support, json={"school": "gs-a", "kind": "laptop"}).status_code == 201
    response = client.post("/api/v1/devices", headers=support, json={"school": "gs-b", "kind": "laptop"})
    assert response.status_code == 403
    assert "gs-a" in response.json["message"]


def test_the_openapi_document_is_served_without_a_token(client):
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/devices" in spec["paths"]
    assert "/api/v1/devices/{device_id}" in spec["paths"]


def test_seen_since_filters_on_last_seen_and_accepts_a_time_without_zone(client, admin, make_school, make_device, db):
    from datetime import UTC, datetime
    school = make_school()
    seen = make_device(school, hostname="seen-01")
    make_device(school, hostname="never-01")
    seen.last_seen_at = datetime(2026, 3, 1, 7, 30, tzinfo=UTC)
    db.session.commit()
    page = client.get("/api/v1/devices?seen_since=2026-02-01T00:00:00", headers=admin).json
    assert [d["hostname"] for d in page["results"]] == ["seen-01"]
    assert page["results"][0]["last_seen"]["at"] == "2026-03-01T07:30:00+00:00"
    assert client.get("/api/v1/devices?seen_since=2026-04-01T00:00:00Z", headers=admin).json["count"] == 0


def test_a_token_remembers_when_it_was_last_used(client, db, make_school):
    from inventory.tokens import create_token, list_tokens
    token, plain = create_token("finance")
    assert token.last_used_at is None
    client.get("/api/v1/schools", headers={"Authorization": f"Bearer {plain}"})
    db.session.expire_all()
    assert list_tokens()[0].last_used_at is not None


def test_a_form_body_instead_of_json_is_a_400_saying_so(client, admin, make_school):
    make_school(code="gs-a")
    response = client.post("/api/v1/devices", headers=admin, data={"school": "gs-a", "kind": "laptop"})
    assert response.status_code == 400
    assert "application/json" in response.json["message"]


def test_sorting_by_school_or_room_works(client, admin, make_school, make_device):
    a, b = make_school(code="gs-b"), make_school(code="gs-a")
    make_device(a, room="A102", hostname="x1")
    make_device(b, room="A101", hostname="x2")
    by_school = client.get("/api/v1/devices?sort=school", headers=admin).json["results"]
    assert [d["school"] for d in by_school] == ["gs-a", "gs-b"]
    by_room = client.get("/api/v1/devices?sort=-room", headers=admin).json["results"]
    assert [d["room"] for d in by_room] == ["A102", "A101"]


def test_an_unknown_school_filter_is_a_404_not_an_empty_list(client, admin, db):
    response = client.get("/api/v1/devices?school=nope", headers=admin)
    assert response.status_code == 404
    assert response.json["error"] == "UnknownSchool"


def test_put_replaces_the_writable_fields(client, admin, make_school, make_device):
    school = make_school()
    device = make_device(school, hostname="nb-01", serial="S-1", notes="old", interfaces=[{"mac": "00:1a:2b:3c:4d:5e"}])
    response = client.put(f"/api/v1/devices/{device.id}", headers=admin,
                          json={"school": school.code, "kind": "tablet", "serial": "S-1"})
    assert response.status_code == 200
    body = response.json
    assert (body["kind"], body["hostname"], body["notes"], body["macs"]) == ("tablet", None, None, [])
    assert body["status"] == "active"


def test_the_list_and_the_detail_show_a_device_the_same_way(client, admin, make_school, make_device):
    school = make_school()
    device = make_device(school, room="A101", hostname="nb-01", price_net=Decimal("10.50"),
                         purchase_date=date(2024, 3, 1),
                         interfaces=[{"mac": "00:1a:2b:3c:4d:5e"}])
    listed = client.get("/api/v1/devices", headers=admin).json["results"][0]
    detail = client.get(f"/api/v1/devices/{device.id}", headers=admin).json
    assert {key: detail[key] for key in listed} == listed


def test_parents_cannot_form_a_loop(client, admin, make_school, make_device):
    school = make_school()
    display = make_device(school, kind="interactive_display", serial="D-1")
    ops = make_device(school, kind="ops_pc", serial="O-1", parent_id=display.id)
    response = client.patch(f"/api/v1/devices/{display.id}", headers=admin, json={"parent_id": ops.id})
    assert response.status_code == 422
    assert "loop" in response.json["fields"]["parent_id"][0]


def test_q_treats_wildcards_and_umlauts_as_plain_text(client, admin, make_school, make_device):
    school = make_school()
    make_device(school, serial="PF-ÄÖÜ-1")
    make_device(school, serial="50-PERCENT")
    make_device(school, serial="A_B")
    assert client.get("/api/v1/devices?q=pf-äöü", headers=admin).json["count"] == 1
    assert client.get("/api/v1/devices?q=%25", headers=admin).json["count"] == 0
    assert client.get("/api/v1/devices?q=_", headers=admin).json["count"] == 1


@pytest.mark.parametrize("query", ["page=99999999999999999999", "sort=school,school", "sort=room,-room"])
def test_odd_list_arguments_never_reach_a_500(client, admin, make_school, make_device, query):
    make_device(make_school(), hostname="nb-01")
    assert client.get(f"/api/v1/devices?{query}", headers=admin).status_code in (200, 422)


def test_amounts_larger_than_the_column_are_refused(client, admin, make_school):
    school = make_school()
    response = client.post("/api/v1/devices", headers=admin,
                           json={"school": school.code, "kind": "laptop", "price_net": "12345678901234567890.00"})
    assert response.status_code == 422
    assert "price_net" in response.json["fields"]


def test_a_limited_token_cannot_attach_a_device_to_another_schools_device(client, token_for, make_school, make_device):
    a, b = make_school(code="gs-a"), make_school(code="gs-b")
    foreign = make_device(b, kind="interactive_display")
    support = token_for("support", ["gs-a"])
    response = client.post("/api/v1/devices", headers=support,
                           json={"school": "gs-a", "kind": "ops_pc", "parent_id": foreign.id})
    assert response.status_code == 403
