"""The funding report: its figures against the database, the XLSX and CSV files, the API and `fleet report funding`."""

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from inventory.models import Carrier, Device
from provisioning.models import Grant

from ..helpers import fleet

EARLY = date(2019, 1, 1)
REF = "DP-2020-0042"


def gross(net: str) -> Decimal:
    return (Decimal(net) * Decimal("1.19")).quantize(Decimal("0.01"))


@pytest.fixture
def funded(db, make_school, make_device):
    """Two schools; grant DP-2020-0042 (linden) with a display and its OPS PC, a laptop on order without an invoice,
    an expensive untagged display; grant DP-2020-0057 (fontane) with one device; one unfunded device."""
    db.session.add(Carrier(name="Stadt Lindenau", state="BB", funding={}, budgets={}))
    linden = make_school("gs-linden", concept_date=EARLY, network_since=EARLY)
    fontane = make_school("gs-fontane", concept_date=EARLY, network_since=EARLY)
    db.session.add_all([
        Grant(ref=REF, programme="dp2019", decided=date(2020, 9, 1), amount=Decimal("10000.00"),
              rate=Decimal("0.90"), project_end=date(2030, 12, 31), schools=[linden]),
        Grant(ref="DP-2020-0057", programme="dp2019", decided=date(2020, 10, 15), amount=Decimal("500.00"),
              rate=Decimal("0.90"), project_end=date(2030, 12, 31), schools=[fontane])])
    db.session.commit()
    invoiced = {"invoice": "NSO-2021/17", "supplier": "Netzwerk GmbH", "purchase_date": date(2021, 3, 1)}
    display = make_device(linden, kind="interactive_display", room="A101", grant=REF, category="display",
                          price_net=Decimal("700.00"), price_gross=gross("700.00"), asset_tag="INV-1",
                          vendor="Promethean", model="ActivPanel 9", serial="S-1", **invoiced)
    make_device(linden, kind="ops_pc", room="A101", grant=REF, category="display", parent_id=display.id,
                price_net=Decimal("400.00"), price_gross=gross("400.00"), **invoiced)
    make_device(linden, kind="laptop", room="A102", grant=REF, category="mobile", status="ordered",
                price_net=Decimal("500.00"), price_gross=gross("500.00"))
    make_device(linden, kind="interactive_display", room="A102", grant=REF, category="display",
                price_net=Decimal("850.00"), price_gross=gross("850.00"), invoice="ZZ-9", supplier="Anders AG",
                purchase_date=date(2021, 5, 3))
    make_device(fontane, kind="laptop", grant="DP-2020-0057", category="display", price_net=Decimal("300.00"),
                price_gross=gross("300.00"), asset_tag="INV-2", **invoiced)
    make_device(linden, kind="printer", price_net=Decimal("99.00"), price_gross=gross("99.00"))
    return linden, fontane


def workbook(data: bytes):
    return load_workbook(io.BytesIO(data))


def table(sheet) -> list[dict]:
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, row)) for row in rows[1:] if any(cell is not None for cell in row)]


def cents(value) -> Decimal:
    """A number cell (openpyxl reads floats) back to the cent."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_the_json_report_gives_each_grants_figures_as_decimal_text(client, token_for, funded):
    response = client.get(f"/api/v1/funding/report?grant={REF}", headers=token_for("finance"))

    assert response.status_code == 200, response.json
    body = response.json
    [grant] = body["grants"]
    # gross is the cost basis of dp2019: invoiced 833 + 476 + 1011.50, committed 595 (the laptop on order);
    # no invoice is recorded with a payment date, so nothing counts as paid yet
    assert grant == {
        "ref": REF, "programme": "dp2019", "decided": "2020-09-01", "schools": ["gs-linden"], "cost_basis": "gross",
        "rate": "0.90", "approved": "10000.00", "committed": "595.00", "invoiced": "2320.50", "paid": "0.00",
        "requested_now": "2088.45", "reimbursed": "0.00", "cut": "0.00", "beyond_approved": "0.00",
        "remaining": "7376.05", "devices": 4, "net": "2450.00", "gross": "2915.50"}
    assert "payment date" in body["paid_basis"]
    assert [(row["school"], row["category"], row["devices"], row["net"]) for row in body["schools"]] == [
        ("gs-linden", "display", 3, "1950.00"), ("gs-linden", "mobile", 1, "500.00")]
    assert [(row["room"], row["devices"]) for row in body["rooms"]] == [("A101", 2), ("A102", 2)]
    assert body["receipts"] == 2
    # eligible cost does not cover the grant yet (R4 warns while the project runs), the laptop on order has no
    # invoice date (R5 warns), the untagged display is over 800 € net (R9)
    assert [(finding["rule"], finding["severity"]) for finding in body["findings"]] == [
        ("R4", "warning"), ("R5", "warning"), ("R9", "error")]


def test_the_workbook_sums_equal_the_database_and_no_device_is_counted_twice(app, db, client, admin, funded):
    response = client.get(f"/api/v1/funding/report?grant={REF}&format=xlsx", headers=admin)

    assert response.status_code == 200
    book = workbook(response.data)
    assert book.sheetnames == ["Übersicht", "Belegliste", "Geräteliste", "Regelprüfung"]
    devices = table(book["Geräteliste"])
    ids = [row["Geräte-ID"] for row in devices]
    assert len(ids) == len(set(ids)) == 4
    net_in_db = db.session.scalar(select(func.sum(Device.price_net)).where(Device.grant_ref == REF))
    assert sum(cents(row["Netto"]) for row in devices) == net_in_db == Decimal("2450.00")
    overview = table(book["Übersicht"])
    total = next(row for row in overview if row["Aktenzeichen"] == "Summe")
    assert cents(total["Netto gesamt"]) == net_in_db
    assert cents(total["Brutto gesamt"]) == sum(cents(row["Brutto"]) for row in devices)
    assert cents(total["Jetzt beantragt"]) == sum(cents(row["Jetzt beantragt"]) for row in devices) == \
        Decimal("2088.45")
    assert total["Bereits erstattet"] == 0 and total["Geräte"] == 4
    categories = [row for row in overview if row["Aktenzeichen"] == REF]
    assert sum(cents(row["Netto gesamt"]) for row in categories) == net_in_db


def test_the_device_list_has_the_columns_of_the_proof_of_use_with_real_numbers_and_dates(client, admin, funded):
    book = workbook(client.get(f"/api/v1/funding/report?grant={REF}&format=xlsx", headers=admin).data)
    sheet = book["Geräteliste"]

    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    assert header[:6] == ["Träger", "Aktenzeichen", "Bewilligt am", "Schulnummer", "Schule", "Schulform"]
    assert {"Zahlungsdatum", "Förderfähiger Anteil", "Bereits erstattet", "Jetzt beantragt", "Inbetriebnahme",
            "Zweckbindung bis", "Inventarnummer", "Hersteller/Modell", "Anzahl"} <= set(header)
    row = dict(zip(header, sheet[2]))
    assert row["Träger"].value == "Stadt Lindenau"
    assert row["Hersteller/Modell"].value == "Promethean ActivPanel 9"
    assert row["Netto"].value == 700 and row["Netto"].number_format == '#,##0.00 "€"'
    assert row["Rechnungsdatum"].value == datetime(2021, 3, 1) and row["Rechnungsdatum"].number_format == "DD.MM.YYYY"
    assert row["Zweckbindung bis"].value == datetime(2035, 12, 31)
    assert row["Zahlungsdatum"].value is None and row["Schulform"].value == "allgemeinbildend"
    assert sheet.column_dimensions["N"].width >= len("Netzwerk GmbH")


def test_receipts_are_one_row_per_invoice_and_findings_carry_the_german_sentence(client, admin, funded):
    book = workbook(client.get(f"/api/v1/funding/report?grant={REF}&format=xlsx", headers=admin).data)

    receipts = table(book["Belegliste"])
    assert [(row["Rechnungsnummer"], row["Zahlungsempfänger"], row["Geräte"], cents(row["Betrag (brutto)"]))
            for row in receipts] == [("NSO-2021/17", "Netzwerk GmbH", 2, Decimal("1309.00")),
                                     ("ZZ-9", "Anders AG", 1, Decimal("1011.50"))]
    assert receipts[0]["Datum"] == datetime(2021, 3, 1)
    findings = table(book["Regelprüfung"])
    assert [(row["Regel"], row["Schwere"], row["Schule"]) for row in findings] == [
        ("R4", "Hinweis", None), ("R5", "Hinweis", "gs-linden"), ("R9", "Fehler", "gs-linden")]
    assert findings[2]["Feststellung"] == ("1 Gerät an gs-linden (100001) aus DP-2020-0042 über 800,00 € netto ohne "
                                           "Inventarnummer.")


def test_the_csv_is_the_device_list_for_german_excel(client, admin, funded):
    response = client.get(f"/api/v1/funding/report?grant={REF}&format=csv", headers=admin)

    assert response.data.startswith(b"\xef\xbb\xbf")
    lines = response.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Träger;Aktenzeichen;Bewilligt am;")
    assert len(lines) == 5
    assert ";01.09.2020;" in lines[1] and ";700,00;833,00;" in lines[1]


def test_every_grant_without_a_reference_and_a_device_belongs_to_its_own_grant_only(client, admin, funded):
    body = client.get("/api/v1/funding/report", headers=admin).json

    assert [grant["ref"] for grant in body["grants"]] == [REF, "DP-2020-0057"]
    assert body["total"]["devices"] == 5 and body["total"]["net"] == "2750.00"  # the unfunded printer is not in it
    assert sum(grant["devices"] for grant in body["grants"]) == 5


def test_finance_may_read_an_agent_may_not_and_a_limited_support_token_sees_its_schools(client, token_for, funded):
    support = token_for("support", ["gs-fontane"])

    assert client.get("/api/v1/funding/report", headers=token_for("finance")).status_code == 200
    assert client.get("/api/v1/funding/report", headers=token_for("agent", ["gs-linden"])).status_code == 403
    own = client.get("/api/v1/funding/report", headers=support)
    other = client.get(f"/api/v1/funding/report?grant={REF}", headers=support)
    assert [grant["ref"] for grant in own.json["grants"]] == ["DP-2020-0057"]
    assert own.json["total"]["devices"] == 1
    assert other.status_code == 403


def test_an_unknown_grant_is_404(client, admin, funded):
    response = client.get("/api/v1/funding/report?grant=DP-1999-0001", headers=admin)

    assert response.status_code == 404 and response.json["error"] == "GrantNotFound"


def test_the_command_writes_the_workbook_and_exits_0(runner, funded, tmp_path):
    path = tmp_path / "bericht.xlsx"

    result = fleet(runner, "report", "funding", "--grant", REF, "-o", path)

    assert result.exit_code == 0, result.output
    assert "4 device(s)" in result.output and "3 rule finding(s)" in result.output
    assert workbook(path.read_bytes()).sheetnames[2] == "Geräteliste"


def test_the_command_takes_the_format_from_the_file_name(runner, funded, tmp_path):
    path = tmp_path / "geraete.csv"

    result = fleet(runner, "report", "funding", "-o", path)

    assert result.exit_code == 0, result.output
    assert path.read_bytes().startswith(b"\xef\xbb\xbfTr\xc3\xa4ger;")


def test_the_command_refuses_an_unknown_grant_with_one_line(runner, funded, tmp_path):
    result = fleet(runner, "report", "funding", "--grant", "DP-1999-0001", "-o", tmp_path / "x.xlsx")

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["error: no grant 'DP-1999-0001'"]
    assert not (tmp_path / "x.xlsx").exists()


def test_device_text_in_the_workbook_stays_text_as_typed(app, db, funded):
    from provisioning import report, report_files

    device = db.session.scalar(select(Device).where(Device.serial == "S-1"))
    device.serial, device.asset_tag, device.model = "=SUM(A1:A9)", " INV-1 ", "Panel <9> & \x07Co"
    db.session.commit()

    built = report.build_report(date.today(), REF)
    sheet = workbook(report_files.write_xlsx(built))["Geräteliste"]
    header = [cell.value for cell in sheet[1]]
    row = next(dict(zip(header, values)) for values in sheet.iter_rows(min_row=2, values_only=True)
               if values[header.index("Geräte-ID")] == device.id)

    assert row["Seriennummer"] == "=SUM(A1:A9)" and row["Inventarnummer"] == " INV-1 "
    assert row["Hersteller/Modell"] == "Promethean Panel <9> & Co"  # a control character cannot be in a sheet
    assert sheet.max_row == len(built.lines) + 1 and sheet.auto_filter.ref == f"A1:Z{len(built.lines) + 1}"
    assert sheet.column_dimensions["L"].width >= len("=SUM(A1:A9)")


def test_the_total_is_the_sum_of_the_device_lines(app, funded):
    from provisioning import report

    built = report.build_report(date.today())
    by_line = report.Sums()
    for line in built.lines:
        by_line.add(line)

    assert built.total() == by_line and built.total().devices == 5


def test_a_grant_pays_out_no_more_than_its_amount_and_the_workbook_shows_the_cut(client, db, admin, funded):
    grant = db.session.scalars(select(Grant).where(Grant.ref == "DP-2020-0057")).one()
    grant.amount = Decimal("200.00")
    db.session.commit()

    body = client.get("/api/v1/funding/report?grant=DP-2020-0057", headers=admin).json
    book = workbook(client.get("/api/v1/funding/report?grant=DP-2020-0057&format=xlsx", headers=admin).data)

    # the laptop's share is 0.9 × 357.00 = 321.30; the notice pays 200.00 of it, the carrier the other 121.30
    [figures] = body["grants"]
    assert (figures["requested_now"], figures["cut"], figures["beyond_approved"], figures["remaining"]) == (
        "200.00", "121.30", "121.30", "0.00")
    assert body["total"]["requested_now"] == "321.30"  # the devices' own share, before the cap
    rows = table(book["Übersicht"])
    cut = [row for row in rows if row["Kategorie"] == "Kürzung auf den bewilligten Betrag"]
    assert [cents(row["Jetzt beantragt"]) for row in cut] == [Decimal("-121.30")]
    [total] = [row for row in rows if row["Aktenzeichen"] == "Summe"]
    assert cents(total["Jetzt beantragt"]) == cents(total["Summe"]) == Decimal("200.00")
