"""POST/PATCH/DELETE /api/v1/funding/grants: grants over the API, checked as the sync checks schools.yaml."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from inventory.models import AuditEvent, Carrier
from inventory.schoolsync import Changes
from provisioning.grants import sync_grants
from provisioning.models import Grant

BODY = {"ref": "DP-2022-0007", "programme": "dp2019", "schools": ["gs-linden"], "decided": "2022-03-01",
        "amount": "48250.50", "rate": "0.90", "project_end": "2024-12-31"}


@pytest.fixture
def carrier(db, make_school):
    db.session.add(Carrier(name="Stadt Lindenau", state="BB", funding={}, budgets={}))
    db.session.commit()
    return make_school("gs-linden"), make_school("gs-fontane")


def _events(db, ref):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "grant",
                                                       AuditEvent.object_repr == ref).order_by(AuditEvent.id)).all()


def test_an_admin_creates_a_grant_and_reads_it_back_with_money_as_text(client, admin, carrier, db):
    created = client.post("/api/v1/funding/grants", json=BODY, headers=admin)

    assert created.status_code == 201, created.json
    assert (created.json["amount"], created.json["rate"], created.json["earmark_end"]) == (
        "48250.50", "0.90", "2029-12-31")
    read = client.get("/api/v1/funding/grants/DP-2022-0007", headers=admin).json
    assert read == created.json
    assert db.session.scalar(select(Grant.amount).where(Grant.ref == "DP-2022-0007")) == Decimal("48250.50")
    event = _events(db, "DP-2022-0007")[0]
    assert (event.action, event.changes["source"], event.changes["amount"]) == ("create", [None, "api"],
                                                                               [None, "48250.50"])


def test_finance_may_write_grants_and_support_may_not(client, token_for, carrier):
    assert client.post("/api/v1/funding/grants", json=BODY, headers=token_for("support")).status_code == 403
    assert client.post("/api/v1/funding/grants", json=BODY, headers=token_for("finance")).status_code == 201


def test_a_grant_is_checked_as_the_sync_checks_schools_yaml(client, admin, carrier):
    bad = {**BODY, "programme": "dp2091", "rate": "1.5", "schools": []}

    response = client.post("/api/v1/funding/grants", json=bad, headers=admin)

    assert response.status_code == 422
    assert response.json["error"] == "ValidationError"
    assert set(response.json["fields"]) == {"rate", "schools"}
    unknown = client.post("/api/v1/funding/grants", json={**BODY, "programme": "dp2091"}, headers=admin)
    assert (unknown.status_code, list(unknown.json["fields"])) == (422, ["programme"])
    assert "dp2019" in unknown.json["message"]
    too_long = client.post("/api/v1/funding/grants", json={**BODY, "ref": "A" * 61}, headers=admin)
    assert (too_long.status_code, list(too_long.json["fields"])) == (422, ["ref"])


def test_an_unknown_school_or_a_taken_ref_is_refused(client, admin, carrier):
    client.post("/api/v1/funding/grants", json=BODY, headers=admin)

    again = client.post("/api/v1/funding/grants", json=BODY, headers=admin)
    unknown = client.post("/api/v1/funding/grants", json={**BODY, "ref": "X-1", "schools": ["gs-nowhere"]},
                          headers=admin)

    assert (again.status_code, again.json["error"], list(again.json["fields"])) == (409, "DuplicateGrant", ["ref"])
    assert (unknown.status_code, list(unknown.json["fields"])) == (404, ["schools"])


def test_patch_changes_some_fields_and_audits_before_and_after(client, admin, carrier, db):
    client.post("/api/v1/funding/grants", json=BODY, headers=admin)

    response = client.patch("/api/v1/funding/grants/DP-2022-0007",
                            json={"amount": "50000", "schools": ["gs-fontane", "gs-linden"]}, headers=admin)

    assert response.status_code == 200, response.json
    assert (response.json["amount"], response.json["schools"]) == ("50000.00", ["gs-fontane", "gs-linden"])
    changes = [event.changes for event in _events(db, "DP-2022-0007")[1:]]
    assert {"amount": ["48250.50", "50000.00"]} in changes
    assert {"schools": [["gs-linden"], ["gs-fontane", "gs-linden"]]} in changes


def test_the_ref_cannot_be_patched_and_an_unknown_grant_is_404(client, admin, carrier):
    client.post("/api/v1/funding/grants", json=BODY, headers=admin)

    renamed = client.patch("/api/v1/funding/grants/DP-2022-0007", json={"ref": "NEW"}, headers=admin)
    missing = client.patch("/api/v1/funding/grants/NOPE", json={"amount": "1"}, headers=admin)

    assert (renamed.status_code, list(renamed.json["fields"])) == (422, ["ref"])
    assert (missing.status_code, missing.json["error"]) == (404, "GrantNotFound")


def test_delete_is_refused_while_devices_name_the_grant(client, admin, carrier, make_device, db):
    client.post("/api/v1/funding/grants", json=BODY, headers=admin)
    device = make_device(carrier[0], grant="DP-2022-0007")

    refused = client.delete("/api/v1/funding/grants/DP-2022-0007", headers=admin)
    client.patch(f"/api/v1/devices/{device.id}", json={"grant": None}, headers=admin)
    deleted = client.delete("/api/v1/funding/grants/DP-2022-0007", headers=admin)

    assert (refused.status_code, refused.json["error"]) == (409, "GrantInUse")
    assert "1 device" in refused.json["message"]
    assert deleted.status_code == 204
    assert client.get("/api/v1/funding/grants/DP-2022-0007", headers=admin).status_code == 404
    assert _events(db, "DP-2022-0007")[-1].action == "delete"


class _Declaration:
    """The part of a parsed schools.yaml that sync_grants reads."""

    def __init__(self, grants):
        self.carrier = type("C", (), {"state": "BB", "funding": {}, "budgets": {}})()
        self.grants, self.source, self.lines = grants, "schools.yaml", None


def _spec(ref, amount="1000.00"):
    fields = dict(ref=ref, programme="dp2019", schools=["gs-linden"], applied=None, decided=date(2022, 3, 1),
                  amount=Decimal(amount), rate=Decimal("0.90"), project_end=None, proof_due=None,
                  proof_submitted=None)
    return type("Spec", (), fields)()


def _sync(db, specs):
    changes = Changes()
    sync_grants(_Declaration(specs), changes)
    db.session.commit()
    return changes


def test_sync_keeps_a_grant_created_over_the_api_but_overwrites_one_the_file_declares(client, admin, carrier, db):
    client.post("/api/v1/funding/grants", json=BODY, headers=admin)
    client.post("/api/v1/funding/grants", json={**BODY, "ref": "DP-FILE", "amount": "5.00"}, headers=admin)

    _sync(db, [_spec("DP-FILE", "1000.00")])

    refs = dict(db.session.execute(select(Grant.ref, Grant.amount)).all())
    assert refs == {"DP-2022-0007": Decimal("48250.50"), "DP-FILE": Decimal("1000.00")}


def test_sync_removes_a_grant_once_declared_in_the_file_and_then_dropped(client, admin, carrier, db):
    client.post("/api/v1/funding/grants", json=BODY, headers=admin)
    _sync(db, [_spec("DP-2022-0007")])  # declared: the file now owns it

    changes = _sync(db, [])

    assert "- grant DP-2022-0007" in changes.lines
    assert db.session.scalar(select(Grant).where(Grant.ref == "DP-2022-0007")) is None
