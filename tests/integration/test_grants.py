"""GET /api/v1/funding/grants: the grants schools.yaml declares, with their dates by the programme's rules."""

from datetime import date
from decimal import Decimal

import pytest

from inventory.models import Carrier
from provisioning.models import Grant

from ..helpers import fleet


@pytest.fixture
def make_grant(db):
    """Factory: a grant of some schools, as `fleet schools sync` stores it."""
    def make(ref, schools, programme="dp2019", decided=date(2020, 9, 1), amount="137000.00", rate="0.90", **extra):
        grant = Grant(ref=ref, programme=programme, decided=decided, amount=Decimal(amount), rate=Decimal(rate),
                      schools=list(schools), **extra)
        db.session.add(grant)
        db.session.commit()
        return grant
    return make


@pytest.fixture
def grants(db, make_school, make_device, make_grant):
    """A Brandenburg carrier whose notices are due 6 months after the project ends, and three grants."""
    db.session.add(Carrier(name="Stadt Lindenau", state="BB",
                           funding={"dp2019": {"proof_due": {"months_after_end": 6}}}, budgets={}))
    linden, fontane = make_school("gs-linden"), make_school("gs-fontane")
    make_grant("DP-2020-0042", [linden, fontane], project_end=date(2024, 12, 31), applied=date(2020, 6, 30))
    make_grant("DP-2021-0031", [fontane], decided=date(2021, 2, 8), amount="158000.5", rate="0.875",
               project_end=date(2024, 8, 31), proof_due=date(2024, 12, 1), proof_submitted=date(2024, 11, 20))
    make_grant("Az. 31-6625/2020", [linden], programme="dp2019-sofort", decided=date(2020, 8, 14),
               amount="35000.00")
    make_device(linden, kind="laptop", grant="DP-2020-0042")
    make_device(fontane, kind="laptop", grant="DP-2020-0042", status="retired")
    make_device(fontane, kind="desktop", grant="DP-2021-0031")


def test_grants_are_listed_by_decision_date_with_their_figures(client, admin, grants):
    response = client.get("/api/v1/funding/grants", headers=admin)

    assert response.status_code == 200, response.json
    body = response.json
    assert (body["count"], body["page"], body["per_page"]) == (3, 1, 50)
    assert [g["ref"] for g in body["results"]] == ["Az. 31-6625/2020", "DP-2020-0042", "DP-2021-0031"]
    assert body["results"][1] == {
        "ref": "DP-2020-0042", "programme": "dp2019", "schools": ["gs-fontane", "gs-linden"],
        "applied": "2020-06-30", "decided": "2020-09-01", "amount": "137000.00", "rate": "0.90",
        "project_end": "2024-12-31", "proof_due": None, "proof_due_effective": "2025-06-30",
        "proof_submitted": None, "earmark_end": "2029-12-31", "devices": 2}


def test_the_notices_own_due_date_wins_over_the_programmes_rule(client, admin, grants):
    body = client.get("/api/v1/funding/grants/DP-2021-0031", headers=admin).json

    assert (body["proof_due"], body["proof_due_effective"], body["proof_submitted"]) == (
        "2024-12-01", "2024-12-01", "2024-11-20")
    assert (body["amount"], body["rate"], body["devices"]) == ("158000.50", "0.875", 1)


def test_a_reference_with_a_slash_is_found_and_an_unknown_one_is_404(client, admin, grants):
    found = client.get("/api/v1/funding/grants/Az. 31-6625/2020", headers=admin)
    missing = client.get("/api/v1/funding/grants/DP-1999-0001", headers=admin)

    assert found.status_code == 200 and found.json["programme"] == "dp2019-sofort"
    assert found.json["proof_due_effective"] is None  # no project end, and the programme sets no fixed date
    assert missing.status_code == 404
    assert missing.json == {"error": "GrantNotFound", "message": "no grant 'DP-1999-0001'",
                            "fields": {"ref": ["no grant 'DP-1999-0001'"]}}


@pytest.mark.parametrize(("query", "refs"), [
    ({"school": "gs-linden"}, ["Az. 31-6625/2020", "DP-2020-0042"]),
    ({"school": ["gs-linden", "gs-fontane"]}, ["Az. 31-6625/2020", "DP-2020-0042", "DP-2021-0031"]),
    ({"programme": "dp2019"}, ["DP-2020-0042", "DP-2021-0031"]),
    ({"school": "gs-fontane", "programme": "dp2019-sofort"}, []),
    ({"per_page": 2, "page": 2}, ["DP-2021-0031"]),
])
def test_grants_filter_by_school_and_programme_and_are_paged(client, admin, grants, query, refs):
    body = client.get("/api/v1/funding/grants", headers=admin, query_string=query).json

    assert [g["ref"] for g in body["results"]] == refs


def test_an_unknown_school_filter_is_404(client, admin, grants):
    response = client.get("/api/v1/funding/grants", headers=admin, query_string={"school": "gs-z"})

    assert response.status_code == 404 and response.json["fields"] == {"school": ["unknown school 'gs-z'"]}


@pytest.mark.parametrize("role", ["admin", "finance", "support"])
def test_admin_finance_and_support_read_grants(client, token_for, grants, role):
    assert client.get("/api/v1/funding/grants", headers=token_for(role)).json["count"] == 3


def test_an_agent_or_a_stranger_may_not(client, token_for, grants):
    assert client.get("/api/v1/funding/grants", headers=token_for("agent", ["gs-linden"])).status_code == 403
    assert client.get("/api/v1/funding/grants").status_code == 401


def test_support_limited_to_a_school_sees_only_its_schools_grants(client, token_for, grants):
    support = token_for("support", ["gs-fontane"])

    listed = client.get("/api/v1/funding/grants", headers=support).json
    shared = client.get("/api/v1/funding/grants/DP-2020-0042", headers=support)
    other = client.get("/api/v1/funding/grants/Az. 31-6625/2020", headers=support)
    asked = client.get("/api/v1/funding/grants", headers=support, query_string={"school": "gs-linden"})

    assert [g["ref"] for g in listed["results"]] == ["DP-2020-0042", "DP-2021-0031"]
    assert shared.status_code == 200
    assert other.status_code == 403 and "gs-fontane" in other.json["message"]
    assert asked.status_code == 403


def test_support_tokens_may_read_grants_but_not_write_them(client, token_for, grants):
    support = token_for("support")
    assert client.get("/api/v1/funding/grants", headers=support).status_code == 200
    new = {"ref": "DP-2023-0001", "programme": "dp2019", "schools": ["gs-linden"], "decided": "2023-01-10",
           "amount": "1000.00", "rate": "0.90"}
    assert client.post("/api/v1/funding/grants", headers=support, json=new).status_code == 403
    assert client.delete("/api/v1/funding/grants/DP-2020-0042", headers=support).status_code == 403


def test_the_shipped_grants_arrive_through_schools_sync(runner, client, admin, monkeypatch):
    for name in ("FLEET_SNMP_COMMUNITY", "FLEET_SNMP_V3_AUTH", "FLEET_SNMP_V3_PRIV"):
        monkeypatch.setenv(name, "test-only")
    assert fleet(runner, "schools", "sync").exit_code == 0

    body = client.get("/api/v1/funding/grants", headers=admin, query_string={"school": "gym-humboldt"}).json

    assert [g["ref"] for g in body["results"]] == ["DP-2020-0112", "DP-2020-0061", "DP-2021-0204", "DP-2022-0019"]
    humboldt = body["results"][1]
    assert (humboldt["applied"], humboldt["proof_submitted"]) == ("2020-08-17", "2023-05-30")
    assert humboldt["proof_due_effective"] == "2023-06-30"  # the town's override: 6 months after 2022-12-31
