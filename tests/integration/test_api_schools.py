"""Schools and rooms over the API."""


def test_schools_list_counts_rooms_and_devices_that_are_not_retired(client, admin, make_school, make_device):
    school = make_school(code="gs-a", rooms=("A101", "A102", "A103"))
    make_device(school, room="A101")
    make_device(school, room="A101", status="retired")
    schools = client.get("/api/v1/schools", headers=admin).json
    assert schools == [{"code": "gs-a", "name": school.name, "number": school.number, "type": "general",
                        "subnets": [school.subnets[0].cidr], "rooms": 3, "devices": 1,
                        "discovery": {"snmp": []}}]


def test_an_unknown_school_is_404_in_the_one_error_shape(client, admin, db):
    response = client.get("/api/v1/schools/nope", headers=admin)
    assert response.status_code == 404
    assert response.json == {"error": "UnknownSchool", "message": "unknown school 'nope'",
                             "fields": {"code": ["unknown school 'nope'"]}}


def test_rooms_can_be_added_changed_and_removed_when_empty(client, admin, make_school):
    make_school(code="gs-a", rooms=("A101",))
    created = client.post("/api/v1/schools/gs-a/rooms", headers=admin,
                          json={"code": "B201", "name": "Fachraum Physik", "kind": "lab", "floor": 2})
    assert created.status_code == 201
    assert created.json["kind"] == "lab"
    assert client.post("/api/v1/schools/gs-a/rooms", headers=admin,
                       json={"code": "B201", "name": "again"}).status_code == 409
    changed = client.patch("/api/v1/schools/gs-a/rooms/B201", headers=admin, json={"name": "Physik 1"})
    assert changed.json["name"] == "Physik 1"
    assert client.delete("/api/v1/schools/gs-a/rooms/B201", headers=admin).status_code == 204
    codes = [room["code"] for room in client.get("/api/v1/schools/gs-a/rooms", headers=admin).json]
    assert codes == ["A101"]


def test_a_room_that_holds_devices_cannot_be_removed(client, admin, make_school, make_device):
    school = make_school(code="gs-a", rooms=("A101",))
    make_device(school, room="A101")
    response = client.delete("/api/v1/schools/gs-a/rooms/A101", headers=admin)
    assert response.status_code == 409
    assert "still holds 1 device(s)" in response.json["message"]


def test_only_admins_change_rooms(client, token_for, make_school):
    make_school(code="gs-a")
    support = token_for("support")
    response = client.post("/api/v1/schools/gs-a/rooms", headers=support, json={"code": "X1", "name": "X"})
    assert response.status_code == 403
    assert response.json["error"] == "Forbidden"


def test_schools_can_be_added_changed_and_removed_when_empty(client, admin, db):
    created = client.post("/api/v1/schools", headers=admin, json={
        "code": "gs-neu", "name": "Grundschule Neubau", "number": "123456", "subnets": ["10.50.0.7/24"]})
    assert created.status_code == 201, created.json
    assert created.json["subnets"] == ["10.50.0.0/24"]
    changed = client.patch("/api/v1/schools/gs-neu", headers=admin,
                           json={"name": "Grundschule Am Neubau", "subnets": ["10.50.0.0/23"]})
    assert changed.json["name"] == "Grundschule Am Neubau"
    assert changed.json["subnets"] == ["10.50.0.0/23"]
    assert client.delete("/api/v1/schools/gs-neu", headers=admin).status_code == 204
    assert client.get("/api/v1/schools/gs-neu", headers=admin).status_code == 404


def test_a_school_subnet_may_not_overlap_another_schools(client, admin, make_school):
    make_school(code="gs-a", subnets=["10.60.0.0/22"])
    response = client.post("/api/v1/schools", headers=admin,
                           json={"code": "gs-b", "name": "B", "subnets": ["10.60.1.0/24"]})
    assert response.status_code == 409
    assert "overlaps 10.60.0.0/22 of school 'gs-a'" in response.json["message"]


def test_a_school_with_devices_or_tokens_is_not_removed(client, admin, make_school, make_device, token_for):
    school = make_school(code="gs-a")
    make_device(school)
    assert client.delete("/api/v1/schools/gs-a", headers=admin).status_code == 409
    make_school(code="gs-b")
    token_for("support", ["gs-b"])
    response = client.delete("/api/v1/schools/gs-b", headers=admin)
    assert response.status_code == 409
    assert "API token" in response.json["message"]


def test_bad_school_fields_are_named(client, admin, db):
    response = client.post("/api/v1/schools", headers=admin,
                           json={"code": "Bad Code", "name": "", "type": "private", "subnets": ["10.0.0.0/33"]})
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"code", "name", "type", "subnets"}
