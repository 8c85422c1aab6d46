"""GET /api/v1/funding/checks: the funding rules R1–R10 on the database, narrowed by school, grant and rule."""

from datetime import date
from decimal import Decimal

import pytest

from inventory.devices import update_device
from inventory.models import Carrier
from provisioning import checks
from provisioning.models import Grant

EARLY = date(2019, 1, 1)


@pytest.fixture
def carrier(db, make_school):
    """A Brandenburg carrier with two general schools (media concepts and networks in place) and one grant each."""
    db.session.add(Carrier(name="Stadt Lindenau", state="BB", funding={}, budgets={}))
    linden = make_school("gs-linden", concept_date=EARLY, network_since=EARLY, rooms=("A101", "V01"))
    fontane = make_school("gs-fontane", concept_date=EARLY, network_since=EARLY)
    linden.rooms[1].kind = "admin"
    for ref, school in (("DP-2020-0042", linden), ("DP-2020-0057", fontane)):
        db.session.add(Grant(ref=ref, programme="dp2019", decided=date(2020, 9, 1), amount=Decimal("0.00"),
                             rate=Decimal("0.90"), project_end=date(2030, 12, 31), schools=[school]))
    db.session.commit()
    return linden, fontane


def bought(make_device, school, net, grant, **fields):
    """A funded device with an invoice, priced net + 19 % VAT."""
    net = Decimal(net)
    return make_device(school, **{"kind": "laptop", "category": "display", "grant": grant, "invoice": "R-1",
                                  "supplier": "Lieferant GmbH", "purchase_date": date(2021, 3, 1),
                                  "price_net": net, "price_gross": (net * Decimal("1.19")).quantize(Decimal("0.01")),
                                  **fields})


def rules_of(body):
    return [(finding["rule"], finding["reason"], finding["school"], finding["grant"]) for finding in body["results"]]


def test_an_expensive_device_without_inventory_number_is_reported_under_r9(client, token_for, carrier,
                                                                            make_device):
    linden, _ = carrier
    device = bought(make_device, linden, "850.00", "DP-2020-0042", kind="interactive_display")
    bought(make_device, linden, "800.00", "DP-2020-0042", kind="interactive_display")  # at the threshold: fine
    bought(make_device, linden, "900.00", "DP-2020-0042", kind="interactive_display", asset_tag="INV-7")

    response = client.get("/api/v1/funding/checks", headers=token_for("finance"))

    assert response.status_code == 200, response.json
    assert rules_of(response.json) == [("R9", "no_asset_tag", "gs-linden", "DP-2020-0042")]
    finding = response.json["results"][0]
    assert finding["items"] == [device.id] and finding["severity"] == "error"
    assert finding["figures"] == {"count": 1, "threshold": "800.00", "highest_net": "850.00"}
    assert finding["de"] == "1 Gerät an gs-linden (100001) aus DP-2020-0042 über 800,00 € netto ohne Inventarnummer."


def test_a_funded_device_retired_before_its_earmark_ends_is_a_repayment_risk(client, admin, carrier, make_device):
    _, fontane = carrier
    device = bought(make_device, fontane, "300.00", "DP-2020-0057", asset_tag="INV-1")
    update_device(device.id, {"status": "retired"})

    body = client.get("/api/v1/funding/checks?rule=R8", headers=admin).json

    assert rules_of(body) == [("R8", "retired", "gs-fontane", "DP-2020-0057")]
    assert body["results"][0]["severity"] == "risk"
    assert body["results"][0]["figures"]["retired_at"] == date.today().isoformat()  # from the audit trail


def test_a_device_in_the_school_office_is_administrative_use_under_r3(client, admin, carrier, make_device):
    linden, _ = carrier
    bought(make_device, linden, "300.00", "DP-2020-0042", room="V01")

    body = client.get("/api/v1/funding/checks?rule=R3", headers=admin).json

    assert rules_of(body) == [("R3", "use", "gs-linden", "DP-2020-0042")]


def test_filters_narrow_the_findings_and_a_limited_support_token_sees_only_its_schools(client, token_for, carrier,
                                                                                        make_device):
    linden, fontane = carrier
    bought(make_device, linden, "850.00", "DP-2020-0042")
    bought(make_device, fontane, "850.00", "DP-2020-0057")
    support = token_for("support", ["gs-fontane"])

    everything = client.get("/api/v1/funding/checks", headers=token_for("admin")).json
    by_grant = client.get("/api/v1/funding/checks?grant=DP-2020-0042", headers=token_for("admin")).json
    limited = client.get("/api/v1/funding/checks", headers=support)
    refused = client.get("/api/v1/funding/checks?school=gs-linden", headers=support)

    assert [f[2] for f in rules_of(everything)] == ["gs-fontane", "gs-linden"]
    assert rules_of(by_grant) == [("R9", "no_asset_tag", "gs-linden", "DP-2020-0042")]
    assert limited.status_code == 200 and rules_of(limited.json) == [
        ("R9", "no_asset_tag", "gs-fontane", "DP-2020-0057")]
    assert refused.status_code == 403


def test_an_agent_may_not_read_the_checks(client, token_for, carrier):
    response = client.get("/api/v1/funding/checks", headers=token_for("agent", ["gs-linden"]))

    assert response.status_code == 403 and response.json["error"] == "Forbidden"


@pytest.mark.parametrize(("query", "status", "error"), [
    ("rule=R11", 422, "FleetError"),
    ("school=gs-nowhere", 404, "UnknownSchool"),
    ("grant=DP-1999-0001", 404, "GrantNotFound"),
])
def test_unknown_filters_are_refused_with_the_error_shape(client, admin, carrier, query, status, error):
    response = client.get(f"/api/v1/funding/checks?{query}", headers=admin)

    assert response.status_code == status and response.json["error"] == error


def test_without_a_carrier_the_checks_say_to_sync_first(client, admin, db):
    response = client.get("/api/v1/funding/checks", headers=admin)

    assert response.status_code == 409 and "fleet schools sync" in response.json["message"]


def test_a_device_naming_an_unknown_grant_is_listed_not_checked(app, carrier, make_device):
    linden, _ = carrier
    bought(make_device, linden, "850.00", "DP-TYPO")

    devices = checks.funded_devices()

    assert checks.unknown_grants(devices) == {"DP-TYPO": 1}
    assert checks.findings(date.today()) == []
