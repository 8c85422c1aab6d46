"""Retiring a funded device before its earmark ends needs a reason, and the reason lands in the audit trail (R8)."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from inventory.models import AuditEvent, Carrier
from provisioning.models import Grant


@pytest.fixture
def funded(db, make_school, make_device):
    """A carrier with a running grant (earmark until 2029-12-31) and an ended one (until 2024-06-30)."""
    db.session.add(Carrier(name="Stadt Lindenau", state="BB", funding={}, budgets={}))
    school = make_school("gs-linden")
    for ref, end in (("DP-RUNNING", date(2024, 12, 31)), ("DP-ENDED", date(2019, 6, 30))):
        db.session.add(Grant(ref=ref, programme="dp2019", decided=date(2019, 9, 1), amount=Decimal("1000.00"),
                             rate=Decimal("0.90"), project_end=end, schools=[school]))
    db.session.commit()
    return {"running": make_device(school, grant="DP-RUNNING", purchase_date=date(2021, 3, 1)),
            "ended": make_device(school, grant="DP-ENDED"),
            "unfunded": make_device(school)}


def _retire_event(db, device_id):
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "device",
                                                         AuditEvent.object_id == device_id)
                                .order_by(AuditEvent.id)).all()
    return events[-1].changes


def test_deleting_a_device_in_its_earmark_without_a_reason_is_refused_naming_the_end(client, admin, funded):
    device_id = funded["running"].id

    response = client.delete(f"/api/v1/devices/{device_id}", headers=admin)

    assert response.status_code == 422, response.json
    assert response.json["error"] == "RetireReasonRequired"
    assert "2029-12-31" in response.json["message"]
    assert response.json["fields"] == {"reason": ["required: the earmark of DP-RUNNING runs until 2029-12-31"]}
    assert client.get(f"/api/v1/devices/{device_id}", headers=admin).json["status"] == "active"


def test_a_reason_in_the_query_retires_the_device_and_is_audited_with_the_status(client, admin, funded, db):
    device_id = funded["running"].id

    response = client.delete(f"/api/v1/devices/{device_id}?reason=Wasserschaden", headers=admin)

    assert response.status_code == 200, response.json
    assert response.json["outcome"] == "retired"
    changes = _retire_event(db, device_id)
    assert changes["status"] == ["active", "retired"]
    assert changes["retire_reason"] == [None, "Wasserschaden"]


def test_a_reason_in_a_json_body_of_the_delete_counts_too(client, admin, funded, db):
    device_id = funded["running"].id

    response = client.delete(f"/api/v1/devices/{device_id}", json={"reason": "gestohlen"}, headers=admin)

    assert response.status_code == 200, response.json
    assert _retire_event(db, device_id)["retire_reason"] == [None, "gestohlen"]


@pytest.mark.parametrize("which", ["ended", "unfunded"])
def test_devices_past_their_earmark_or_unfunded_retire_without_a_reason(client, admin, funded, db, which):
    device_id = funded[which].id

    response = client.delete(f"/api/v1/devices/{device_id}", headers=admin)

    assert response.status_code == 200, response.json
    changes = _retire_event(db, device_id)
    assert changes["status"] == ["active", "retired"]
    assert "retire_reason" not in changes


def test_patching_status_retired_needs_a_retire_reason_while_the_earmark_runs(client, admin, funded, db):
    url = f"/api/v1/devices/{funded['running'].id}"

    refused = client.patch(url, json={"status": "retired"}, headers=admin)
    accepted = client.patch(url, json={"status": "retired", "retire_reason": "defekt, Reparatur unwirtschaftlich"},
                            headers=admin)

    assert refused.status_code == 422, refused.json
    assert list(refused.json["fields"]) == ["retire_reason"]
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["status"] == "retired"
    assert "retire_reason" not in accepted.json
    assert _retire_event(db, funded["running"].id)["retire_reason"] == [None, "defekt, Reparatur unwirtschaftlich"]


def test_putting_status_retired_needs_a_retire_reason_while_the_earmark_runs(client, admin, funded):
    url = f"/api/v1/devices/{funded['running'].id}"
    body = {"school": "gs-linden", "kind": "laptop", "grant": "DP-RUNNING", "status": "retired"}

    refused = client.put(url, json=body, headers=admin)
    accepted = client.put(url, json={**body, "retire_reason": "verloren"}, headers=admin)

    assert refused.status_code == 422, refused.json
    assert "2029-12-31" in refused.json["message"]
    assert accepted.status_code == 200, accepted.json


def test_a_retire_reason_without_status_retired_is_refused(client, admin, funded):
    response = client.patch(f"/api/v1/devices/{funded['unfunded'].id}", json={"retire_reason": "x"}, headers=admin)

    assert response.status_code == 422
    assert list(response.json["fields"]) == ["retire_reason"]


def test_retiring_on_the_last_day_of_the_earmark_needs_no_reason(funded):
    from provisioning.grants import check_retirement

    device = funded["running"]
    check_retirement(device, None, "reason", today=date(2029, 12, 31))
    with pytest.raises(Exception, match="2029-12-31"):
        check_retirement(device, None, "reason", today=date(2029, 12, 30))


def test_the_funding_checks_show_r8_for_the_early_retirement(client, admin, funded):
    client.delete(f"/api/v1/devices/{funded['running'].id}?reason=Wasserschaden", headers=admin)

    body = client.get("/api/v1/funding/checks?rule=R8", headers=admin).json

    retired = [f for f in body["results"] if f["reason"] == "retired"]
    assert [f["items"] for f in retired] == [[funded["running"].id]]


def test_the_r8_finding_names_the_reason_from_the_audit_trail(client, admin, funded):
    client.delete(f"/api/v1/devices/{funded['running'].id}?reason=Wasserschaden", headers=admin)

    body = client.get("/api/v1/funding/checks?rule=R8", headers=admin).json

    retired = [f for f in body["results"] if f["reason"] == "retired"]
    assert "(reason: Wasserschaden)" in retired[0]["en"]
