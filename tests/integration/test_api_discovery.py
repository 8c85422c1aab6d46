"""/api/v1/discovery: runs and the review queue as scripts and the web UI use them."""

import pytest
from sqlalchemy import func, select

from discovery.models import Finding, Observation
from inventory.models import AuditEvent, Device

from .test_findings import MAC_NEW, MAC_WLAN, RANDOM, add_finding, add_run

API = "/api/v1/discovery"


@pytest.fixture
def school(make_school):
    return make_school("gs-a", rooms=("A101",))


@pytest.fixture
def other(make_school):
    return make_school("gs-b", rooms=("B201",))


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


# --- who may do what --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/runs", "/findings", "/findings/1", "/runs/1/observations"])
def test_reading_needs_a_token(client, path):
    response = client.get(API + path)
    assert response.status_code == 401 and response.json["error"] == "Unauthorized"


def test_an_agent_token_may_neither_read_nor_act(client, db, school, token_for):
    finding = add_finding(db, school)
    agent = token_for("agent", ["gs-a"])
    assert client.get(f"{API}/findings", headers=agent).status_code == 403
    assert client.post(f"{API}/findings/{finding.id}/accept", headers=agent, json={}).status_code == 403


def test_finance_may_read_the_queue_but_not_act_on_it(client, db, school, token_for):
    finding = add_finding(db, school)
    finance = token_for("finance")
    assert client.get(f"{API}/findings", headers=finance).json["count"] == 1
    response = client.post(f"{API}/findings/{finding.id}/ignore", headers=finance, json={})
    assert response.status_code == 403 and "may not change the inventory" in response.json["message"]
    assert db.session.get(Finding, finding.id).status == "open"


def test_a_support_token_limited_to_a_school_acts_only_on_that_schools_findings(client, db, school, other,
                                                                                token_for):
    mine, theirs = add_finding(db, school), add_finding(db, other, seen={"mac": MAC_WLAN})
    support = token_for("support", ["gs-a"])
    assert client.post(f"{API}/findings/{mine.id}/ignore", headers=support, json={}).status_code == 200
    response = client.post(f"{API}/findings/{theirs.id}/ignore", headers=support, json={})
    assert response.status_code == 403 and "limited to gs-a; not 'gs-b'" in response.json["message"]
    assert client.get(f"{API}/findings?school=gs-b", headers=support).json["count"] == 1  # reading is not limited


def test_a_limited_token_cannot_take_a_device_away_from_another_school(client, db, school, other, make_device,
                                                                       token_for):
    laptop = make_device(other)
    finding = add_finding(db, school, kind="moved", device=laptop, seen={})
    response = client.post(f"{API}/findings/{finding.id}/accept", headers=token_for("support", ["gs-a"]), json={})
    assert response.status_code == 403
    assert db.session.get(Device, laptop.id).school.code == "gs-b"


def test_a_limited_bulk_with_another_schools_finding_changes_nothing(client, db, school, other, token_for):
    mine, theirs = add_finding(db, school), add_finding(db, other, seen={"mac": MAC_WLAN})
    response = client.post(f"{API}/findings/bulk", headers=token_for("support", ["gs-a"]),
                           json={"action": "ignore", "ids": [mine.id, theirs.id]})
    assert response.status_code == 403
    assert response.json["fields"]["ids"] == [{"id": theirs.id, "error": "Forbidden", "message":
                                               f"finding {theirs.id}: this token is limited to gs-a; not 'gs-b'"}]
    assert db.session.get(Finding, mine.id).status == "open"


# --- runs -------------------------------------------------------------------------------------------------------

def test_runs_are_paged_newest_first_and_filtered(client, db, admin, school, other):
    old = add_run(db, school, minutes_ago=120)
    new = add_run(db, school, minutes_ago=10)
    failed = add_run(db, other, status="failed", trigger="agent", minutes_ago=60)
    body = client.get(f"{API}/runs?per_page=2", headers=admin).json
    assert (body["count"], body["page"], body["per_page"]) == (3, 1, 2)
    assert [r["id"] for r in body["results"]] == [failed.id, new.id]  # ids: newest first
    assert [r["id"] for r in client.get(f"{API}/runs?sort=started_at", headers=admin).json["results"]] == [
        old.id, failed.id, new.id]
    assert [r["id"] for r in client.get(f"{API}/runs?status=failed&trigger=agent", headers=admin).json[
        "results"]] == [failed.id]
    assert [r["id"] for r in client.get(f"{API}/runs?school=gs-a&school=gs-b&trigger=manual", headers=admin)
            .json["results"]] == [new.id, old.id]


def test_a_bad_run_filter_is_a_422_naming_the_field(client, admin):
    response = client.get(f"{API}/runs?status=exploded", headers=admin)
    assert response.status_code == 422 and "status" in response.json["fields"]
    assert client.get(f"{API}/runs?sort=colour", headers=admin).json["fields"] == {
        "sort": ["choose from id, started_at, finished_at, status, trigger, school"]}
    assert client.get(f"{API}/runs?school=nope", headers=admin).status_code == 404


def test_a_run_shows_its_counts_errors_duration_and_findings(client, db, admin, school):
    run = add_run(db, school, counts={"alive": 12, "new": 2}, seconds=42.25,
                  errors=[{"ip": "10.1.0.7", "message": "SNMP timeout"}])
    add_finding(db, school, run=run)
    add_finding(db, school, run=run, seen={"mac": MAC_WLAN}, status="ignored")
    body = client.get(f"{API}/runs/{run.id}", headers=admin).json
    assert body["school"] == "gs-a" and body["counts"] == {"alive": 12, "new": 2}
    assert body["duration_s"] == 42.25 and body["error_count"] == 1
    assert body["errors"] == [{"ip": "10.1.0.7", "message": "SNMP timeout"}]
    assert body["findings"] == {"open": 1, "ignored": 1}
    assert client.get(f"{API}/runs", headers=admin).json["results"][0].get("errors") is None


def test_an_unknown_run_is_a_404_in_the_one_error_shape(client, admin):
    response = client.get(f"{API}/runs/99", headers=admin)
    assert response.status_code == 404
    assert response.json == {"error": "NotFound", "message": "no discovery run with id 99", "fields": {}}


def test_a_runs_observations_are_paged(client, db, admin, school):
    run = add_run(db, school)
    db.session.add_all([Observation(run_id=run.id, source="arp", ip=f"10.1.0.{n}", mac=f"00:02:75:00:00:{n:02x}")
                        for n in range(1, 4)] + [Observation(run_id=run.id, source="snmp", ip="10.1.0.1",
                                                             open_ports="22 161")])
    db.session.commit()
    body = client.get(f"{API}/runs/{run.id}/observations?per_page=2&page=2", headers=admin).json
    assert body["count"] == 4 and [o["ip"] for o in body["results"]] == ["10.1.0.3", "10.1.0.1"]
    assert body["results"][1]["open_ports"] == [22, 161]
    snmp = client.get(f"{API}/runs/{run.id}/observations?source=snmp", headers=admin).json
    assert snmp["count"] == 1


# --- findings ---------------------------------------------------------------------------------------------------

def test_the_queue_shows_open_findings_unless_a_status_is_asked_for(client, db, admin, school, other):
    open_a = add_finding(db, school)
    ignored = add_finding(db, school, seen={"mac": MAC_WLAN}, status="ignored")
    open_b = add_finding(db, other, seen={"mac": "00:02:75:00:00:0c"})

    def ids(query):
        return [f["id"] for f in client.get(f"{API}/findings{query}", headers=admin).json["results"]]

    assert ids("") == [open_b.id, open_a.id]
    assert ids("?status=open&status=ignored&school=gs-a") == [ignored.id, open_a.id]
    assert ids("?status=all&sort=id") == [open_a.id, ignored.id, open_b.id]
    assert ids(f"?run={open_b.first_run_id}") == [open_b.id]
    body = client.get(f"{API}/findings?status=all&per_page=1&page=3", headers=admin).json
    assert (body["count"], [f["id"] for f in body["results"]]) == (3, [open_a.id])
    assert client.get(f"{API}/findings?kind=lost", headers=admin).status_code == 422


def test_one_finding_shows_what_was_seen(client, db, admin, school):
    finding = add_finding(db, school, seen={"ip": "10.1.0.30", "mac": MAC_NEW, "where": "switch s port 1"})
    body = client.get(f"{API}/findings/{finding.id}", headers=admin).json
    assert (body["school"], body["kind"], body["key"], body["status"]) == ("gs-a", "new", f"mac:{MAC_NEW}", "open")
    assert body["seen"] == {"ip": "10.1.0.30", "mac": MAC_NEW, "where": "switch s port 1"}
    assert client.get(f"{API}/findings/999", headers=admin).json["message"] == "finding 999 does not exist"


def test_accepting_without_a_body_creates_the_device_and_with_a_room_places_it(client, db, admin, school):
    plain, placed = add_finding(db, school), add_finding(db, school, seen={"mac": MAC_WLAN})
    response = client.post(f"{API}/findings/{plain.id}/accept", headers=admin)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "accepted" and response.json["resolved_by"].startswith("token:")
    device = db.session.get(Device, response.json["device"])
    assert [i.mac for i in device.interfaces] == [MAC_NEW]
    body = client.post(f"{API}/findings/{placed.id}/accept", headers=admin, json={"room": "A101"}).json
    assert db.session.get(Device, body["device"]).room.code == "A101"


def test_ignore_link_and_reopen_answer_with_the_finding(client, db, admin, school, make_device):
    laptop = make_device(school)
    seen_once, seen_twice = add_finding(db, school), add_finding(db, school, seen={"mac": MAC_WLAN})
    ignored = client.post(f"{API}/findings/{seen_once.id}/ignore", headers=admin, json={"note": "Gastgerät"}).json
    assert (ignored["status"], ignored["note"]) == ("ignored", "Gastgerät")
    assert client.post(f"{API}/findings/{seen_once.id}/reopen", headers=admin).json["status"] == "open"
    linked = client.post(f"{API}/findings/{seen_twice.id}/link", headers=admin, json={"device": laptop.id}).json
    assert (linked["status"], linked["device"]) == ("linked", laptop.id)
    assert [i.mac for i in db.session.get(Device, laptop.id).interfaces] == [MAC_WLAN]
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "finding")
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["ignore", "reopen", "link"]


@pytest.mark.parametrize("kind, status, seen, code, error", [
    ("new", "accepted", None, 409, "Conflict"),
    ("conflict", "open", {"serial": "S-2"}, 422, "InvalidInput"),
    ("new", "open", {"mac": RANDOM}, 422, "InvalidInput"),
])
def test_refused_accepts_say_why(client, db, admin, school, make_device, kind, status, seen, code, error):
    device = make_device(school, serial="S-1") if kind == "conflict" else None
    finding = add_finding(db, school, kind=kind, status=status, seen=seen, device=device)
    response = client.post(f"{API}/findings/{finding.id}/accept", headers=admin, json={})
    assert (response.status_code, response.json["error"]) == (code, error)
    assert count(db, Device) == (1 if device else 0)


def test_linking_a_mac_another_device_holds_is_a_409_naming_it(client, db, admin, school, make_device):
    holder = make_device(school, hostname="nb-holder", interfaces=[{"mac": MAC_NEW}])
    laptop = make_device(school)
    finding = add_finding(db, school)
    response = client.post(f"{API}/findings/{finding.id}/link", headers=admin, json={"device": laptop.id})
    assert (response.status_code, response.json["error"]) == (409, "DuplicateMac")
    assert f"device {holder.id} (nb-holder)" in response.json["message"]


def test_link_needs_a_device(client, db, admin, school):
    finding = add_finding(db, school)
    response = client.post(f"{API}/findings/{finding.id}/link", headers=admin, json={})
    assert response.status_code == 422 and response.json["fields"] == {"device": ["Missing data for required field."]}


def test_bulk_acts_on_every_finding_or_on_none(client, db, admin, school):
    first, second = add_finding(db, school), add_finding(db, school, seen={"mac": MAC_WLAN})
    closed = add_finding(db, school, seen={"mac": "00:02:75:00:00:0c"}, status="ignored")
    refused = client.post(f"{API}/findings/bulk", headers=admin,
                          json={"action": "accept", "ids": [first.id, closed.id, second.id, 999]})
    assert refused.status_code == 422 and refused.json["error"] == "BulkRejected"
    assert refused.json["message"] == "2 of 4 finding(s) could not be accepted; nothing was changed"
    assert [(e["id"], e["error"]) for e in refused.json["fields"]["ids"]] == [(closed.id, "Conflict"),
                                                                            (999, "NotFound")]
    assert count(db, Device) == 0
    done = client.post(f"{API}/findings/bulk", headers=admin,
                       json={"action": "accept", "ids": [first.id, second.id]}).json
    assert (done["action"], done["count"]) == ("accept", 2) and count(db, Device) == 2
    assert {f["status"] for f in done["results"]} == {"accepted"}


@pytest.mark.parametrize("body, field", [
    ({"action": "link", "ids": [1]}, "device"),
    ({"action": "ignore", "ids": [1], "room": "A101"}, "room"),
    ({"action": "accept", "ids": []}, "ids"),
    ({"action": "explode", "ids": [1]}, "action"),
])
def test_a_bulk_body_that_does_not_fit_its_action_is_a_422(client, admin, body, field):
    response = client.post(f"{API}/findings/bulk", headers=admin, json=body)
    assert response.status_code == 422 and field in response.json["fields"]


def test_the_openapi_document_describes_the_review_queue(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"/api/v1/discovery/findings/{finding_id}/accept", "/api/v1/discovery/findings/bulk",
            "/api/v1/discovery/runs/{run_id}/observations"} <= set(paths)
