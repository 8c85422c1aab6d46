"""Invoices (purchases): `fleet import purchases`, /api/v1/funding/purchases, and what they change in the funding report
and on the devices."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from inventory.models import AuditEvent, Carrier, Device
from provisioning.models import Grant, Purchase, PurchaseLine

from ..helpers import fleet
from .test_funding_report import cents, table, workbook

EARLY = date(2019, 1, 1)
REF = "DP-2020-0042"
OTHER = "DP-2020-0057"
HEADER = "supplier;invoice;invoice_date;paid_date;grant;serial;category;net;gross\n"
# Invoice R-1 lists the two displays of gs-linden, R-2 the laptop of gs-fontane.
R1 = ("Netzwerk GmbH;R-1;01.03.2021;;DP-2020-0042;S-1;display;1.000,00;1.190,00\n"
      "Netzwerk GmbH;R-1;01.03.2021;;DP-2020-0042;S-2;display;500,00;595,00\n")
R2 = "Anders AG;R-2;03.05.2021;;DP-2020-0057;S-9;mobile;300,00;357,00\n"


@pytest.fixture
def schools(db, make_school, make_device):
    """gs-linden with grant DP-2020-0042: two displays (S-1, S-2) not invoiced yet and a laptop on order (S-3, priced,
    never invoiced); gs-fontane with grant DP-2020-0057 and one laptop (S-9)."""
    db.session.add(Carrier(name="Stadt Lindenau", state="BB", funding={}, budgets={}))
    linden = make_school("gs-linden", concept_date=EARLY, network_since=EARLY)
    fontane = make_school("gs-fontane", concept_date=EARLY, network_since=EARLY)
    db.session.add_all([
        Grant(ref=REF, programme="dp2019", decided=date(2020, 9, 1), amount=Decimal("10000.00"),
              rate=Decimal("0.90"), project_end=date(2030, 12, 31), schools=[linden]),
        Grant(ref=OTHER, programme="dp2019", decided=date(2020, 10, 15), amount=Decimal("500.00"),
              rate=Decimal("0.90"), project_end=date(2030, 12, 31), schools=[fontane])])
    db.session.commit()
    make_device(linden, kind="interactive_display", room="A101", grant=REF, category="display", serial="S-1",
                asset_tag="INV-1", commissioned=date(2021, 3, 20))
    make_device(linden, kind="interactive_display", room="A102", grant=REF, category="display", serial="S-2")
    make_device(linden, kind="laptop", room="A102", grant=REF, category="mobile", status="ordered", serial="S-3",
                price_net=Decimal("500.00"), price_gross=Decimal("595.00"))
    make_device(fontane, kind="laptop", grant=OTHER, category="mobile", serial="S-9")
    return linden, fontane


def write(tmp_path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return str(path)


def device(db, serial: str) -> Device:
    db.session.expire_all()
    return db.session.scalars(select(Device).where(Device.serial == serial)).one()


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def purchase(db, number: str) -> Purchase:
    db.session.expire_all()
    return db.session.scalars(select(Purchase).where(Purchase.invoice_number == number)).one()


def imported(runner, tmp_path, content: str, *options, name: str = "rechnungen.csv"):
    return fleet(runner, "import", "purchases", write(tmp_path, name, content), *options)


def grant_figures(client, headers, ref: str = REF) -> dict:
    response = client.get(f"/api/v1/funding/report?grant={ref}", headers=headers)
    assert response.status_code == 200, response.json
    [grant] = response.json["grants"]
    return grant


def invoice_body(*lines, supplier="Netzwerk GmbH", number="R-7", **extra) -> dict:
    return {"supplier": supplier, "invoice_number": number, "invoice_date": "2021-03-01", "lines": list(lines),
            **extra}


# --- the command line ---------------------------------------------------------------------------------------------


def test_an_import_records_the_invoices_and_writes_each_devices_purchase_fields(runner, db, schools, tmp_path):
    result = imported(runner, tmp_path, HEADER + R1 + R2)

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ("2 invoice(s) were created, 0 replaced, 0 unchanged; 3 line(s), 3 device(s) "
                                     "changed")
    first = purchase(db, "R-1")
    assert (first.supplier, first.invoice_date, first.paid_date, first.grant_ref) == (
        "Netzwerk GmbH", date(2021, 3, 1), None, REF)
    assert [(line.position, line.device.serial, line.category, line.net, line.gross) for line in first.lines] == [
        (1, "S-1", "display", Decimal("1000.00"), Decimal("1190.00")),
        (2, "S-2", "display", Decimal("500.00"), Decimal("595.00"))]
    display = device(db, "S-1")
    assert (display.supplier, display.invoice, display.purchase_date, display.price_net, display.price_gross,
            display.funding_category, display.grant_ref) == (
        "Netzwerk GmbH", "R-1", date(2021, 3, 1), Decimal("1000.00"), Decimal("1190.00"), "display", REF)
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.object_repr) for e in events if e.object_type == "purchase"] == [
        ("create", "Netzwerk GmbH R-1"), ("create", "Anders AG R-2")]
    [event] = [e for e in events if e.object_type == "device" and e.object_id == display.id and e.action == "update"]
    assert event.changes["invoice"] == [None, "R-1"] and event.actor.startswith("cli:")


def test_a_second_import_of_the_same_file_changes_nothing(runner, db, schools, tmp_path):
    imported(runner, tmp_path, HEADER + R1 + R2)
    events = count(db, AuditEvent)

    result = imported(runner, tmp_path, HEADER + R1 + R2)

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ("0 invoice(s) were created, 0 replaced, 2 unchanged; 3 line(s), 0 device(s) "
                                     "changed")
    assert count(db, AuditEvent) == events and count(db, Purchase) == 2 and count(db, PurchaseLine) == 3


def test_a_dry_run_says_what_would_happen_and_writes_nothing(runner, db, schools, tmp_path):
    events = count(db, AuditEvent)

    result = imported(runner, tmp_path, HEADER + R1, "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ("1 invoice(s) would be created, 0 replaced, 0 unchanged; 2 line(s), 2 device(s) "
                                     "changed (dry run: nothing written)")
    assert count(db, Purchase) == count(db, PurchaseLine) == 0 and count(db, AuditEvent) == events
    assert device(db, "S-1").invoice is None and device(db, "S-1").price_net is None


def test_a_file_with_one_bad_row_writes_nothing_and_names_the_line(runner, db, schools, tmp_path):
    result = imported(runner, tmp_path, HEADER + R1 + "Anders AG;R-2;03.05.2021;;;S-9;mobile;300,00;2,00\n")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["rechnungen.csv:4: gross: 2.00 is less than the net amount 300.00",
                                          "error: 1 error(s); nothing was changed"]
    assert "Traceback" not in result.output
    assert count(db, Purchase) == 0 and device(db, "S-1").invoice is None


def test_an_unknown_serial_and_an_unknown_grant_are_refused_together(runner, db, schools, tmp_path):
    result = imported(runner, tmp_path, HEADER + R1 + "Anders AG;R-2;03.05.2021;;DP-1999-0001;S-404;;300;357\n")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[:2] == [
        "rechnungen.csv:4: serial: no device with serial 'S-404': import or register the device first",
        "rechnungen.csv:4: grant: no grant 'DP-1999-0001' (declare it in schools.yaml or POST /api/v1/funding/grants)"]
    assert count(db, Purchase) == 0


def test_a_device_already_on_another_invoice_is_refused(runner, db, schools, tmp_path):
    imported(runner, tmp_path, HEADER + R1)
    first = purchase(db, "R-1")

    result = imported(runner, tmp_path, HEADER + "Anders AG;R-5;03.05.2021;;;S-2;;500;595\n", name="zweite.csv")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (f"zweite.csv:2: serial: device {device(db, 'S-2').id} is already on "
                                             f"invoice 'R-1' of 'Netzwerk GmbH' (id {first.id})")
    assert count(db, Purchase) == 1 and device(db, "S-2").invoice == "R-1"


def test_a_device_moves_from_one_invoice_to_another_inside_one_file(runner, db, schools, tmp_path):
    imported(runner, tmp_path, HEADER + R1 + R2)

    # R-1 no longer lists S-2; R-2 lists it now
    result = imported(runner, tmp_path, HEADER + R1.splitlines(keepends=True)[0] + R2
                      + "Anders AG;R-2;03.05.2021;;;S-2;display;510,00;606,90\n")

    assert result.exit_code == 0, result.output
    assert [line.device.serial for line in purchase(db, "R-1").lines] == ["S-1"]
    assert [line.device.serial for line in purchase(db, "R-2").lines] == ["S-9", "S-2"]
    moved = device(db, "S-2")
    assert (moved.supplier, moved.invoice, moved.purchase_date, moved.price_gross) == (
        "Anders AG", "R-2", date(2021, 5, 3), Decimal("606.90"))


def test_a_line_dropped_from_a_reimported_invoice_releases_its_device(runner, db, client, admin, schools, tmp_path):
    imported(runner, tmp_path, HEADER + R1)
    # invoiced: 1190 + 595; committed: the laptop on order, 595
    before = grant_figures(client, admin)
    assert (before["invoiced"], before["committed"]) == ("1785.00", "595.00")

    result = imported(runner, tmp_path, HEADER + R1.splitlines(keepends=True)[0])

    assert result.exit_code == 0, result.output
    assert "0 invoice(s) were created, 1 replaced" in result.stdout
    released = device(db, "S-2")
    assert (released.invoice, released.purchase_date) == (None, None)
    assert (released.supplier, released.price_net, released.price_gross) == (
        "Netzwerk GmbH", Decimal("500.00"), Decimal("595.00"))
    assert db.session.scalar(select(PurchaseLine).where(PurchaseLine.device_id == released.id)) is None
    # the released display (595) is committed now, next to the laptop (595); only S-1 (1190) is invoiced
    after = grant_figures(client, admin)
    assert (after["invoiced"], after["committed"], after["devices"]) == ("1190.00", "1190.00", 3)


# --- the API ------------------------------------------------------------------------------------------------------


def test_posting_an_invoice_creates_it_and_the_same_number_again_is_a_conflict(client, db, token_for, schools):
    finance = token_for("finance")
    body = invoice_body({"serial": "S-1", "net": "1000.00", "gross": "1190.00", "category": "display"},
                        {"device": device(db, "S-2").id, "net": "500", "gross": "595"},
                        paid_date="2021-03-20")

    created = client.post("/api/v1/funding/purchases", json=body, headers=finance)
    again = client.post("/api/v1/funding/purchases", json=body, headers=finance)

    assert created.status_code == 201, created.json
    assert {key: created.json[key] for key in ("supplier", "invoice_number", "invoice_date", "paid_date", "net",
                                                "gross", "line_count")} == {
        "supplier": "Netzwerk GmbH", "invoice_number": "R-7", "invoice_date": "2021-03-01",
        "paid_date": "2021-03-20", "net": "1500.00", "gross": "1785.00", "line_count": 2}
    assert [(line["serial"], line["school"], line["gross"]) for line in created.json["lines"]] == [
        ("S-1", "gs-linden", "1190.00"), ("S-2", "gs-linden", "595.00")]
    assert again.status_code == 409 and again.json["fields"] == {"invoice_number": ["already recorded"]}
    assert count(db, Purchase) == 1 and device(db, "S-2").invoice == "R-7"


def test_an_unknown_serial_is_a_422_keyed_by_the_line(client, db, admin, schools):
    response = client.post("/api/v1/funding/purchases", headers=admin, json=invoice_body(
        {"serial": "S-1", "net": "1", "gross": "1"}, {"serial": "S-404", "net": "1", "gross": "1"}))

    assert response.status_code == 422
    assert response.json["fields"] == {
        "lines[1].serial": ["no device with serial 'S-404': import or register the device first"]}
    assert count(db, Purchase) == 0


def test_a_gross_amount_below_net_in_the_body_is_a_422_nested_by_line_index(client, db, admin, schools):
    response = client.post("/api/v1/funding/purchases", headers=admin, json=invoice_body(
        {"serial": "S-1", "net": "100", "gross": "90"}))

    assert response.status_code == 422
    assert response.json["fields"] == {"lines": {"0": {"gross": ["90.00 is less than the net amount 100.00"]}}}
    assert count(db, Purchase) == 0


def test_posting_a_device_already_on_another_invoice_is_a_422_keyed_by_the_line(client, db, admin, schools, runner,
                                                                                tmp_path):
    imported(runner, tmp_path, HEADER + R1)

    response = client.post("/api/v1/funding/purchases", headers=admin, json=invoice_body(
        {"serial": "S-3", "net": "1", "gross": "1"}, {"serial": "S-2", "net": "1", "gross": "1"}))

    assert response.status_code == 422
    assert list(response.json["fields"]) == ["lines[1].serial"]
    assert "is already on invoice 'R-1' of 'Netzwerk GmbH'" in response.json["fields"]["lines[1].serial"][0]
    assert count(db, Purchase) == 1 and device(db, "S-3").invoice is None


def test_a_new_invoice_date_goes_to_the_devices_of_the_invoice(client, db, admin, schools, runner, tmp_path):
    imported(runner, tmp_path, HEADER + R1)

    response = client.patch(f"/api/v1/funding/purchases/{purchase(db, 'R-1').id}", headers=admin,
                            json={"invoice_date": "2021-03-02"})

    assert response.status_code == 200, response.json
    assert device(db, "S-1").purchase_date == device(db, "S-2").purchase_date == date(2021, 3, 2)
    assert client.get("/api/v1/funding/purchases/999", headers=admin).status_code == 404


def test_patch_records_payment_and_reimbursement_and_delete_releases_the_devices(client, db, admin, schools,
                                                                                 runner, tmp_path):
    imported(runner, tmp_path, HEADER + R1)
    ident = purchase(db, "R-1").id

    paid = client.patch(f"/api/v1/funding/purchases/{ident}", headers=admin,
                        json={"paid_date": "2021-04-01", "reimbursed_date": "2021-09-01"})
    unpaid = client.patch(f"/api/v1/funding/purchases/{ident}", headers=admin, json={"reimbursed_date": None})

    assert paid.status_code == 200, paid.json
    assert (paid.json["paid_date"], paid.json["reimbursed_date"]) == ("2021-04-01", "2021-09-01")
    assert (unpaid.json["paid_date"], unpaid.json["reimbursed_date"]) == ("2021-04-01", None)
    assert purchase(db, "R-1").paid_date == date(2021, 4, 1)
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "purchase",
                                                          AuditEvent.action == "update")
                                 .order_by(AuditEvent.id).limit(1)).all()
    assert event.changes["paid_date"] == [None, "2021-04-01"]

    deleted = client.delete(f"/api/v1/funding/purchases/{ident}", headers=admin)

    assert deleted.status_code == 204
    assert client.get(f"/api/v1/funding/purchases/{ident}", headers=admin).status_code == 404
    assert count(db, Purchase) == count(db, PurchaseLine) == 0
    display = device(db, "S-1")
    assert (display.invoice, display.purchase_date, display.price_gross) == (None, None, Decimal("1190.00"))


def test_the_list_filters_by_payment_supplier_and_grant_and_pages(client, db, admin, schools, runner, tmp_path):
    imported(runner, tmp_path, HEADER + R1 + R2 + "Anders AG;R-3;04.05.2021;05.06.2021;;S-3;;500;595\n")

    def numbers(query: str) -> list[str]:
        response = client.get(f"/api/v1/funding/purchases?{query}", headers=admin)
        assert response.status_code == 200, response.json
        return [row["invoice_number"] for row in response.json["results"]]

    assert numbers("") == ["R-3", "R-2", "R-1"]  # newest invoice date first
    assert numbers("paid=false") == ["R-2", "R-1"]
    assert numbers("paid=true") == ["R-3"]
    assert numbers("supplier=anders") == ["R-3", "R-2"]
    assert numbers(f"grant={OTHER}") == ["R-2"]
    assert numbers(f"grant={REF}") == ["R-3", "R-1"]
    page = client.get("/api/v1/funding/purchases?per_page=2&page=2", headers=admin).json
    assert (page["count"], page["page"], page["per_page"]) == (3, 2, 2)
    assert [row["invoice_number"] for row in page["results"]] == ["R-1"]


def test_finance_may_write_support_may_not(client, db, token_for, schools, runner, tmp_path):
    imported(runner, tmp_path, HEADER + R1)
    ident = purchase(db, "R-1").id
    support = token_for("support")
    body = invoice_body({"serial": "S-9", "net": "1", "gross": "1"})

    assert client.get("/api/v1/funding/purchases", headers=support).status_code == 200
    assert client.post("/api/v1/funding/purchases", json=body, headers=support).status_code == 403
    assert client.patch(f"/api/v1/funding/purchases/{ident}", json={"paid_date": "2021-04-01"},
                        headers=support).status_code == 403
    assert client.delete(f"/api/v1/funding/purchases/{ident}", headers=support).status_code == 403
    assert purchase(db, "R-1").paid_date is None and count(db, Purchase) == 1
    finance = token_for("finance")
    assert client.patch(f"/api/v1/funding/purchases/{ident}", json={"paid_date": "2021-04-01"},
                        headers=finance).status_code == 200
    assert client.post("/api/v1/funding/purchases", json=body, headers=finance).status_code == 201


def test_a_school_limited_token_sees_only_invoices_and_lines_of_its_schools(client, db, token_for, schools, runner,
                                                                            tmp_path):
    # R-4 lists a device of each school
    imported(runner, tmp_path, HEADER + R1 + "Anders AG;R-4;03.05.2021;;;S-9;;300;357\n"
             + "Anders AG;R-4;03.05.2021;;;S-3;;500;595\n")
    fontane = token_for("support", ["gs-fontane"])

    listed = client.get("/api/v1/funding/purchases", headers=fontane).json
    mixed = client.get(f"/api/v1/funding/purchases/{purchase(db, 'R-4').id}", headers=fontane)
    other = client.get(f"/api/v1/funding/purchases/{purchase(db, 'R-1').id}", headers=fontane)

    assert listed["count"] == 1
    [row] = listed["results"]
    assert row["invoice_number"] == "R-4" and [line["serial"] for line in row["lines"]] == ["S-9"]
    assert mixed.status_code == 200 and [line["school"] for line in mixed.json["lines"]] == ["gs-fontane"]
    assert other.status_code == 403


def test_a_school_limited_finance_token_may_not_invoice_another_schools_device(client, db, token_for, schools):
    response = client.post("/api/v1/funding/purchases", headers=token_for("finance", ["gs-fontane"]),
                           json=invoice_body({"serial": "S-1", "net": "1", "gross": "1"}))

    assert response.status_code == 422
    assert list(response.json["fields"]) == ["lines[0].serial"]
    assert count(db, Purchase) == 0


def test_the_import_endpoint_takes_a_multipart_upload(client, db, admin, schools):
    def upload() -> dict:
        return {"file": (io.BytesIO((HEADER + R1 + R2).encode()), "rechnungen.csv")}

    dry = client.post("/api/v1/funding/purchases/import?dry_run=true", headers=admin, data=upload(),
                      content_type="multipart/form-data")
    assert count(db, Purchase) == 0
    response = client.post("/api/v1/funding/purchases/import", headers=admin, data=upload(),
                           content_type="multipart/form-data")

    assert dry.status_code == 200 and dry.json["dry_run"] is True and dry.json["created"] == 2
    assert response.status_code == 200, response.json
    assert response.json == {"created": 2, "updated": 0, "unchanged": 0, "lines": 3, "devices": 3, "dry_run": False}
    assert count(db, Purchase) == 2


def test_the_import_endpoint_takes_a_raw_body_named_by_the_filename_and_reports_lines(client, db, admin, schools):
    good = client.post("/api/v1/funding/purchases/import?filename=rechnungen.csv", headers=admin,
                       data=(HEADER + R2).encode(), content_type="text/csv")
    bad = client.post("/api/v1/funding/purchases/import?filename=neu.csv", headers=admin,
                      data=(HEADER + "Anders AG;R-5;03.05.2021;;;S-404;;1;1\n").encode(), content_type="text/csv")

    assert good.status_code == 200, good.json
    assert good.json["created"] == 1 and purchase(db, "R-2").lines[0].device.serial == "S-9"
    assert bad.status_code == 422
    assert bad.json["fields"]["lines"] == [
        "neu.csv:2: serial: no device with serial 'S-404': import or register the device first"]


# --- what the report makes of it --------------------------------------------------------------------------------


def test_payment_and_reimbursement_dates_move_the_report_figures(client, db, admin, schools, runner, tmp_path):
    imported(runner, tmp_path, HEADER + R1
             + "Netzwerk GmbH;R-6;10.03.2021;;;S-3;;500,00;595,00\n")
    # Grant DP-2020-0042 pays 90 % of the gross cost. Invoiced: S-1 1190, S-2 595, S-3 595 (R-6) = 2380;
    # nothing committed any more. Before any date: paid 0, reimbursed 0, requested now 0.9 × 2380 = 2142.00,
    # remaining 10000 − 2142.00 = 7858.00.
    before = grant_figures(client, admin)
    assert (before["invoiced"], before["committed"], before["paid"], before["reimbursed"], before["requested_now"],
            before["remaining"]) == ("2380.00", "0.00", "0.00", "0.00", "2142.00", "7858.00")

    client.patch(f"/api/v1/funding/purchases/{purchase(db, 'R-1').id}", headers=admin,
                 json={"paid_date": "2021-04-01", "reimbursed_date": "2021-09-01"})
    client.patch(f"/api/v1/funding/purchases/{purchase(db, 'R-6').id}", headers=admin,
                 json={"paid_date": "2021-04-15"})

    # Paid: both invoices, 1785 + 595 = 2380. Reimbursed: R-1's share, 0.9 × 1785 = 1606.50; requested now: only
    # R-6's share, 0.9 × 595 = 535.50; remaining 10000 − 1606.50 − 535.50 = 7858.00, the same as before.
    after = grant_figures(client, admin)
    assert (after["invoiced"], after["paid"], after["reimbursed"], after["requested_now"], after["remaining"]) == (
        "2380.00", "2380.00", "1606.50", "535.50", "7858.00")


def test_the_workbook_shows_payment_reimbursement_and_commissioning_as_the_database_holds_them(client, db, admin,
                                                                                               schools, runner,
                                                                                               tmp_path):
    imported(runner, tmp_path, HEADER + R1)
    client.patch(f"/api/v1/funding/purchases/{purchase(db, 'R-1').id}", headers=admin,
                 json={"paid_date": "2021-04-01", "reimbursed_date": "2021-09-01"})

    book = workbook(client.get(f"/api/v1/funding/report?grant={REF}&format=xlsx", headers=admin).data)

    rows = table(book["Geräteliste"])
    ids = [row["Geräte-ID"] for row in rows]
    in_db = db.session.scalars(select(Device).where(Device.grant_ref == REF).order_by(Device.id)).all()
    assert sorted(ids) == [d.id for d in in_db] and len(ids) == len(set(ids)) == 3  # no device twice
    invoices = {line.device_id: line.purchase for line in db.session.scalars(select(PurchaseLine))}
    for row in rows:
        item = db.session.get(Device, row["Geräte-ID"])
        invoice = invoices.get(item.id)
        paid = invoice.paid_date if invoice else None
        assert row["Zahlungsdatum"] == (datetime.combine(paid, datetime.min.time()) if paid else None)
        reimbursed = (Decimal("0.90") * item.price_gross).quantize(Decimal("0.01")) \
            if invoice and invoice.reimbursed_date else Decimal("0.00")
        assert cents(row["Bereits erstattet"] or 0) == reimbursed
        commissioned = item.commissioned_on
        assert row["Inbetriebnahme"] == (datetime.combine(commissioned, datetime.min.time()) if commissioned else None)
    by_serial = {db.session.get(Device, row["Geräte-ID"]).serial: row for row in rows}
    assert by_serial["S-1"]["Inbetriebnahme"] == datetime(2021, 3, 20)
    assert cents(by_serial["S-1"]["Bereits erstattet"]) == Decimal("1071.00")  # 0.9 × 1190
    assert cents(by_serial["S-3"]["Bereits erstattet"] or 0) == Decimal("0.00")  # on order, no invoice
    total = next(row for row in table(book["Übersicht"]) if row["Aktenzeichen"] == "Summe")
    assert cents(total["Bereits erstattet"]) == sum(cents(row["Bereits erstattet"] or 0) for row in rows) == \
        Decimal("1606.50")  # 0.9 × (1190 + 595)
    [receipt] = table(book["Belegliste"])
    assert (receipt["Rechnungsnummer"], receipt["Geräte"], receipt["Bezahlt am"]) == ("R-1", 2, datetime(2021, 4, 1))


# --- the commissioning date ---------------------------------------------------------------------------------------


def test_a_device_going_from_ordered_to_active_is_commissioned_today(client, db, admin, schools):
    laptop = device(db, "S-3")

    response = client.patch(f"/api/v1/devices/{laptop.id}", headers=admin, json={"status": "active"})

    assert response.status_code == 200, response.json
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()
    assert response.json["commissioned"] == today.isoformat()
    assert device(db, "S-3").commissioned_on == today


def test_an_explicit_commissioning_date_is_kept(client, db, admin, schools):
    laptop = device(db, "S-3")

    response = client.patch(f"/api/v1/devices/{laptop.id}", headers=admin,
                            json={"status": "active", "commissioned": "2021-08-30"})

    assert response.status_code == 200, response.json
    assert response.json["commissioned"] == "2021-08-30"
    assert device(db, "S-3").commissioned_on == date(2021, 8, 30)


def test_an_active_device_keeps_its_commissioning_date_when_it_is_changed_again(client, db, admin, schools):
    display = device(db, "S-1")

    response = client.patch(f"/api/v1/devices/{display.id}", headers=admin, json={"status": "active",
                                                                                  "notes": "Raum getauscht"})

    assert response.status_code == 200, response.json
    assert response.json["commissioned"] == "2021-03-20"


def test_the_commissioned_column_round_trips_through_import_and_export(runner, db, schools, tmp_path):
    path = write(tmp_path, "geraete.csv", "school,room,kind,serial,status,commissioned\n"
                 "gs-linden,A101,document_camera,DC-1,active,01.09.2024\n")

    result = fleet(runner, "import", "devices", path)
    assert result.exit_code == 0, result.output
    assert device(db, "DC-1").commissioned_on == date(2024, 9, 1)

    out = tmp_path / "export.csv"
    assert fleet(runner, "export", "devices", "-o", out).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert {row["serial"]: row["commissioned"] for row in rows}["DC-1"] == "2024-09-01"
    again = fleet(runner, "import", "devices", out)
    assert again.exit_code == 0, again.output
    assert again.stdout.strip().splitlines()[-1].endswith("0 updated, 5 unchanged")
    assert device(db, "DC-1").commissioned_on == date(2024, 9, 1)


# --- one device twice, and the limits of a school-limited token -----------------------------------------------------


def test_one_device_named_by_serial_on_one_row_and_by_asset_tag_on_another_is_refused(runner, db, schools,
                                                                                        tmp_path):
    content = ("supplier;invoice;invoice_date;serial;asset_tag;net;gross\n"
               "Netzwerk GmbH;R-1;01.03.2021;S-1;;1000;1190\n"
               "Netzwerk GmbH;R-8;02.03.2021;;INV-1;1000;1190\n")

    result = imported(runner, tmp_path, content)

    assert result.exit_code == 1
    assert result.stderr.startswith("rechnungen.csv:3: asset_tag: ")
    assert count(db, Purchase) == 0


def test_posting_one_device_on_two_lines_is_a_422_keyed_by_the_second_line(client, db, admin, schools):
    response = client.post("/api/v1/funding/purchases", headers=admin, json=invoice_body(
        {"serial": "S-1", "net": "1", "gross": "1"}, {"device": device(db, "S-1").id, "net": "1", "gross": "1"}))

    assert response.status_code == 422, response.json
    assert list(response.json["fields"]) == ["lines[1].device"]
    assert count(db, Purchase) == 0


def test_a_school_limited_token_may_not_patch_an_invoice_that_lists_another_schools_device(client, db, token_for,
                                                                                          schools, runner, tmp_path,
                                                                                          make_device):
    make_device(schools[1], kind="laptop", grant=OTHER, category="mobile", serial="S-10")
    imported(runner, tmp_path, HEADER + "Anders AG;R-4;03.05.2021;;;S-9;;300;357\n"
             + "Anders AG;R-4;03.05.2021;;;S-3;;500;595\n" + "Anders AG;R-5;04.05.2021;;;S-10;;300;357\n")
    limited = token_for("finance", ["gs-fontane"])

    refused = client.patch(f"/api/v1/funding/purchases/{purchase(db, 'R-4').id}", headers=limited,
                           json={"invoice_date": "2021-05-04"})
    own = client.patch(f"/api/v1/funding/purchases/{purchase(db, 'R-5').id}", headers=limited,
                       json={"paid_date": "2021-06-01"})

    assert refused.status_code == 403 and "gs-linden" in refused.json["message"]
    assert device(db, "S-3").purchase_date == date(2021, 5, 3)
    assert own.status_code == 200, own.json
    assert [line["school"] for line in own.json["lines"]] == ["gs-fontane"]
    assert own.json["paid_date"] == "2021-06-01"


def test_a_school_limited_token_may_not_delete_an_invoice_that_lists_another_schools_device(client, db, token_for,
                                                                                           schools, runner,
                                                                                           tmp_path):
    imported(runner, tmp_path, HEADER + "Anders AG;R-4;03.05.2021;;;S-9;;300;357\n"
             + "Anders AG;R-4;03.05.2021;;;S-3;;500;595\n")

    response = client.delete(f"/api/v1/funding/purchases/{purchase(db, 'R-4').id}",
                             headers=token_for("finance", ["gs-fontane"]))

    assert response.status_code == 403
    assert device(db, "S-3").invoice == "R-4" and count(db, Purchase) == 1


def test_an_ordered_device_on_an_invoice_is_not_deleted_away_from_under_the_invoice(client, db, admin, schools,
                                                                                     runner, tmp_path):
    imported(runner, tmp_path, HEADER + "Netzwerk GmbH;R-6;10.03.2021;;;S-3;;500,00;595,00\n")
    laptop = device(db, "S-3")

    response = client.delete(f"/api/v1/devices/{laptop.id}?reason=Fehllieferung", headers=admin)

    # the invoice was paid for this device: it is retired rather than deleted, and the line keeps it
    assert response.status_code == 200, response.json
    assert count(db, PurchaseLine) == 1 and db.session.get(Device, laptop.id).status == "retired"
