"""An agent's push over the API: gzip or plain JSON, applied once per batch key, checked before anything is stored."""

import gzip
import json

import pytest
from sqlalchemy import func, select

from discovery.lease import acquire
from discovery.models import DiscoveryRun, Finding, Observation
from fleet.api import observations

URL = "/api/v1/schools/gs-test/observations"
NEW_MAC = "6c:dc:6a:00:00:99"


@pytest.fixture
def school(make_school):
    return make_school("gs-test", subnets=["10.1.0.0/24"], discovery={
        "timeout": 0.5, "retries": 0, "port": 1161, "routers": ["10.1.0.1"],
        "snmp": [{"version": "2c", "community": "${GS_TEST_COMMUNITY}"},
                 {"version": "3", "user": "fleet", "auth_protocol": "SHA", "auth_key": "${GS_TEST_AUTH}",
                  "priv_protocol": "AES", "priv_key": "${GS_TEST_PRIV}"}]})


@pytest.fixture
def agent(token_for, school):
    return token_for("agent", ["gs-test"])


def batch(key="batch-1", records=None, **extra):
    records = records if records is not None else [
        {"source": "tcp", "ip": "10.1.0.30", "mac": "6C-DC-6A-00-00-99", "open_ports": [80, 443]},
        {"source": "fdb", "mac": NEW_MAC, "switch": "10.1.0.2", "port": "Gi1/0/7"},
    ]
    return {"batch": key, "collected_at": "2025-03-03T06:30:00+01:00", "probed": 254, "alive": 1, "snmp": 0,
            "records": records, "errors": [{"ip": "10.1.0.2", "message": "no SNMP answer"}], **extra}


def push(client, headers, document, gzipped=True, url=URL, **more_headers):
    body = json.dumps(document).encode()
    if gzipped:
        body, more_headers = gzip.compress(body), {"Content-Encoding": "gzip", **more_headers}
    return client.post(url, data=body, headers={**headers, "Content-Type": "application/json", **more_headers})


def count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_gzipped_batch_becomes_an_agent_run_with_its_observations_and_findings(client, db, agent):
    response = push(client, agent, batch())
    assert response.status_code == 201, response.json
    summary = response.json
    assert summary["school"] == "gs-test" and summary["trigger"] == "agent" and summary["status"] == "succeeded"
    assert summary["counts"]["probed"] == 254 and summary["counts"]["new"] == 1
    assert summary["errors"] == [{"ip": "10.1.0.2", "message": "no SNMP answer"}]
    run = db.session.get(DiscoveryRun, summary["run_id"])
    assert run.batch_key == "batch-1"
    macs = db.session.scalars(select(Observation.mac).where(Observation.run_id == run.id)).all()
    assert macs == [NEW_MAC, NEW_MAC]  # canonical, whatever notation the agent used
    assert db.session.scalars(select(Finding.key)).all() == [f"mac:{NEW_MAC}"]


def test_a_plain_json_batch_is_accepted_too(client, db, agent):
    response = push(client, agent, batch(), gzipped=False)
    assert response.status_code == 201, response.json
    assert count(db, DiscoveryRun) == 1


def test_the_same_batch_sent_again_answers_200_with_the_earlier_run_and_applies_nothing(client, db, agent):
    first = push(client, agent, batch())
    observations_after_first = count(db, Observation)
    again = push(client, agent, batch())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["run_id"] == first.json["run_id"]
    assert count(db, DiscoveryRun) == 1
    assert count(db, Observation) == observations_after_first


def test_a_different_batch_key_is_a_new_run(client, db, agent):
    push(client, agent, batch("batch-1"))
    assert push(client, agent, batch("batch-2")).status_code == 201
    assert count(db, DiscoveryRun) == 2


def test_an_agent_token_of_another_school_is_forbidden(client, db, school, make_school, token_for):
    make_school("gs-other")
    response = push(client, token_for("agent", ["gs-other"]), batch())
    assert response.status_code == 403
    assert "gs-other" in response.json["message"]
    assert count(db, DiscoveryRun) == 0


@pytest.mark.parametrize("role", ["support", "finance"])
def test_people_roles_other_than_admin_may_not_push(client, school, token_for, role):
    response = push(client, token_for(role), batch())
    assert response.status_code == 403 and response.json["error"] == "Forbidden"


def test_an_admin_may_push_for_any_school(client, school, admin):
    assert push(client, admin, batch()).status_code == 201


def test_no_token_is_401(client, school):
    response = push(client, {}, batch())
    assert response.status_code == 401 and response.json["error"] == "Unauthorized"


def test_an_unknown_school_is_404(client, school, admin):
    response = push(client, admin, batch(), url="/api/v1/schools/gs-nowhere/observations")
    assert response.status_code == 404 and response.json["error"] == "UnknownSchool"


def test_a_bad_record_is_refused_naming_its_index_and_field_and_nothing_is_stored(client, db, agent):
    records = batch()["records"] + [{"source": "tcp", "ip": "10.1.0.31", "mac": "not-a-mac"}]
    response = push(client, agent, batch(records=records))
    assert response.status_code == 422
    assert response.json["fields"] == {"records[2].mac": ["'not-a-mac' is not a MAC address"]}
    assert "records[2].mac" in response.json["message"]
    assert count(db, DiscoveryRun) == 0 and count(db, Observation) == 0


@pytest.mark.parametrize("record, field", [
    ({"source": "tcp", "ip": "10.1.0.31", "colour": "blue"}, "records[0].colour"),
    ({"source": "telepathy", "ip": "10.1.0.31"}, "records[0].source"),
    ({"source": "tcp", "ip": "10.1.0.300"}, "records[0].ip"),
    ({"source": "tcp", "ip": "10.1.0.31", "open_ports": [80, 70000]}, "records[0].open_ports[1]"),
    ({"source": "snmp", "hostname": "printer"}, "records[0].ip"),
])
def test_each_kind_of_wrong_record_names_the_field(client, agent, record, field):
    response = push(client, agent, batch(records=[record]))
    assert response.status_code == 422
    assert field in response.json["fields"], response.json


def test_an_unknown_top_level_key_and_a_time_without_zone_are_refused(client, agent):
    document = {**batch(), "collected_at": "2025-03-03T06:30:00", "comment": "hello"}
    response = push(client, agent, document)
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"comment", "collected_at"}


def test_over_long_text_is_clipped_to_its_column_instead_of_costing_the_batch(client, db, agent):
    record = {"source": "snmp", "ip": "10.1.0.40", "vendor": "V" * 500, "sys_descr": "D" * 5000}
    assert push(client, agent, batch(records=[record])).status_code == 201
    vendor, descr = db.session.execute(select(Observation.vendor, Observation.sys_descr)).one()
    assert (len(vendor), len(descr)) == (120, 2000)


def test_a_gzip_bomb_is_refused_with_413_before_it_is_inflated_in_full(client, db, agent, app, monkeypatch):
    monkeypatch.setitem(app.config, "OBSERVATIONS_MAX_BYTES", 1_000_000)
    padded = json.dumps(batch()).replace("{", "{" + " " * 2_000_000, 1).encode()
    response = client.post(URL, data=gzip.compress(padded), headers={
        **agent, "Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert "1,000,000 bytes" in response.json["message"]
    assert count(db, DiscoveryRun) == 0


def test_too_many_records_in_one_batch_is_413(client, agent, monkeypatch):
    monkeypatch.setattr(observations, "MAX_RECORDS", 1)
    response = push(client, agent, batch())
    assert response.status_code == 413 and "2 records in one batch; at most 1" in response.json["message"]


@pytest.mark.parametrize("body, headers, status", [
    (b"\x1f\x8b\x08broken", {"Content-Encoding": "gzip"}, 400),
    (gzip.compress(b'{"batch": "x"}')[:-12], {"Content-Encoding": "gzip"}, 400),
    (b"{not json", {}, 400),
    (b"[]", {}, 422),
    (b"{}", {"Content-Encoding": "br"}, 415),
])
def test_a_body_that_cannot_be_read_is_refused_clearly(client, agent, body, headers, status):
    response = client.post(URL, data=body, headers={**agent, "Content-Type": "application/json", **headers})
    assert response.status_code == status
    assert set(response.json) == {"error", "message", "fields"}


def test_a_body_not_declared_json_is_400(client, agent):
    response = client.post(URL, data=b"{}", headers={**agent, "Content-Type": "text/plain"})
    assert response.status_code == 400 and "application/json" in response.json["message"]


def test_a_school_held_by_another_run_is_409_with_retry_after_and_nothing_applied(client, db, school, agent):
    acquire(school, "other:1")
    response = push(client, agent, batch())
    assert response.status_code == 409
    assert response.json["error"] == "Busy" and "other:1" in response.json["message"]
    assert int(response.headers["Retry-After"]) > 0
    assert count(db, DiscoveryRun) == 0


def test_the_agent_gets_the_schools_settings_with_secret_names_but_never_their_values(client, agent,
                                                                                    monkeypatch):
    monkeypatch.setenv("GS_TEST_COMMUNITY", "s3cret-community")
    response = client.get("/api/v1/schools/gs-test/discovery-settings", headers=agent)
    assert response.status_code == 200
    assert response.json == {
        "school": "gs-test", "subnets": ["10.1.0.0/24"], "timeout": 0.5, "retries": 0, "concurrency": 512,
        "port": 1161, "routers": ["10.1.0.1"], "switches": [],
        "snmp": [{"version": "2c", "community": "${GS_TEST_COMMUNITY}"},
                 {"version": "3", "user": "fleet", "auth_protocol": "SHA", "auth_key": "${GS_TEST_AUTH}",
                  "priv_protocol": "AES", "priv_key": "${GS_TEST_PRIV}"}]}
    assert b"s3cret" not in response.data


def test_settings_of_another_school_are_forbidden(client, school, make_school, token_for):
    make_school("gs-other")
    response = client.get("/api/v1/schools/gs-test/discovery-settings", headers=token_for("agent", ["gs-other"]))
    assert response.status_code == 403


def test_a_school_without_subnets_has_no_settings_to_give(client, db, make_school, admin):
    school = make_school("gs-empty")
    school.subnets = []
    db.session.commit()
    response = client.get("/api/v1/schools/gs-empty/discovery-settings", headers=admin)
    assert response.status_code == 422 and "no subnets" in response.json["message"]


def test_both_endpoints_are_in_the_openapi_document(client, db):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    push_doc = paths["/api/v1/schools/{code}/observations"]["post"]
    assert {"200", "201", "409", "413", "422"} <= set(push_doc["responses"])
    assert "application/json" in push_doc["requestBody"]["content"]
    assert "get" in paths["/api/v1/schools/{code}/discovery-settings"]
