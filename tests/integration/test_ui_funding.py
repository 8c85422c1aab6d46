"""The funding pages: each grant's figures and burn chart as the report has them, the rule findings in the reader's
language, the proof-of-use files, one grant's page, and what a user limited to some schools sees."""

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from markupsafe import escape
from openpyxl import load_workbook

from inventory.models import Carrier
from inventory.users import create_user
from fleet.ui.svg import Segment, burn_chart
from provisioning.checks import findings
from provisioning.models import Grant, Purchase, PurchaseLine
from provisioning.report import build_report

from .test_ui_auth import PASSWORD, BrowserClient, post_form, sign_in, text

REF, OTHER = "DP-2020-0042", "DP-2020-0057"
LONG_AGO = date(2019, 1, 1)
FIGURES = ("approved", "committed", "invoiced", "paid", "reimbursed", "requested_now", "cut", "beyond_approved",
           "remaining")


@pytest.fixture
def client(app, db):
    return BrowserClient(app, app.response_class, use_cookies=True)


def priced(net: str) -> dict:
    amount = Decimal(net)
    return {"price_net": amount, "price_gross": (amount * Decimal("1.19")).quantize(Decimal("0.01"))}


@pytest.fixture
def grants(db, make_school, make_device):
    """REF for gs-linden: a display invoiced and paid, a laptop on order, an untagged display over 800 € net (R9);
    OTHER for gs-fontane: one invoiced laptop."""
    db.session.add(Carrier(name="Stadt Lindenau", state="BB", funding={}, budgets={}))
    linden = make_school("gs-linden", concept_date=LONG_AGO, network_since=LONG_AGO)
    fontane = make_school("gs-fontane", concept_date=LONG_AGO, network_since=LONG_AGO)
    db.session.add_all([
        Grant(ref=REF, programme="dp2019", decided=date(2020, 9, 1), amount=Decimal("3000.00"),
              rate=Decimal("0.90"), project_end=date(2030, 12, 31), schools=[linden]),
        Grant(ref=OTHER, programme="dp2019", decided=date(2020, 10, 15), amount=Decimal("500.00"),
              rate=Decimal("0.90"), project_end=date(2030, 12, 31), schools=[fontane])])
    db.session.commit()
    bought = {"invoice": "NSO-2021/17", "supplier": "Netzwerk GmbH", "purchase_date": date(2021, 3, 1)}
    display = make_device(linden, kind="interactive_display", room="A101", grant=REF, category="display",
                          asset_tag="INV-1", serial="S-1", **priced("700.00"), **bought)
    make_device(linden, kind="laptop", room="A102", grant=REF, category="mobile", status="ordered",
                **priced("500.00"))
    make_device(linden, kind="interactive_display", room="A102", grant=REF, category="display", invoice="ZZ-9",
                supplier="Anders AG", purchase_date=date(2021, 5, 3), **priced("850.00"))
    make_device(fontane, kind="laptop", grant=OTHER, category="display", asset_tag="INV-2", **priced("300.00"),
                **bought)
    invoice = Purchase(supplier="Netzwerk GmbH", invoice_number="NSO-2021/17", invoice_date=date(2021, 3, 1),
                       paid_date=date(2021, 3, 20), grant_ref=REF)
    invoice.lines = [PurchaseLine(position=1, device_id=display.id, category="display", net=display.price_net,
                                  gross=display.price_gross)]
    db.session.add(invoice)
    db.session.commit()
    create_user("anna", PASSWORD, "finance")


def euros(shown: str) -> Decimal:
    """German euro text back to a Decimal: '2.088,45 €' → 2088.45."""
    digits = re.sub(r"[^\d,.-]", "", shown).replace(".", "").replace(",", ".")
    return Decimal(digits)


def grant_card(page: str, ref: str) -> str:
    start = page.index(f'data-grant="{ref}"')
    end = page.find('<li class="grant-card', start)
    return page[start:end if end >= 0 else len(page)]


def shown_figures(html: str) -> dict[str, Decimal]:
    return {name: euros(value) for name, value in re.findall(r'data-figure="(\w+)">([^<]*)<', html)}


def expected_figures(figures) -> dict[str, Decimal]:
    sums = figures.sums
    return {"approved": figures.grant.amount, "committed": sums.committed, "invoiced": sums.invoiced,
            "paid": sums.paid, "reimbursed": sums.reimbursed, "requested_now": figures.requested_now,
            "cut": figures.cut, "beyond_approved": figures.beyond_approved, "remaining": figures.remaining}


def test_each_grant_shows_the_reports_figures(client, grants, db):
    sign_in(client)
    page = text(client.get("/funding"))

    report = build_report(date.today())
    assert [figures.grant.ref for figures in report.grants] == [REF, OTHER]
    for figures in report.grants:
        shown = shown_figures(grant_card(page, figures.grant.ref))
        assert set(shown) == set(FIGURES)
        assert shown == expected_figures(figures)
    linden = shown_figures(grant_card(page, REF))
    # gross is dp2019's basis: 833 + 1011.50 invoiced, 595 on order; the recorded invoice of the first is paid
    assert (linden["invoiced"], linden["committed"], linden["paid"]) == (
        Decimal("1844.50"), Decimal("595.00"), Decimal("833.00"))


def test_each_grant_has_a_burn_chart_with_its_segments_in_words(client, grants):
    sign_in(client)
    card = grant_card(text(client.get("/funding")), REF)

    svg = re.search(r'<svg class="chart chart-burn" role="img".*?</svg>', card, re.S).group(0)
    assert "Mittelabfluss DP-2020-0042</title>" in svg and "<desc" in svg
    figures = build_report(date.today(), REF).grants[0]
    requested = escape(f"jetzt beantragt: {format_de(figures.requested_now)}")
    assert f"<title>{requested}</title>" in svg.replace("\xa0", " ")
    assert 'class="burn-requested"' in svg and 'class="burn-committed"' in svg and 'class="burn-approved"' in svg
    assert "bewilligt 3.000,00 €" in svg.replace("\xa0", " ")


def format_de(amount: Decimal) -> str:
    whole, cents = f"{amount:.2f}".split(".")
    return f"{int(whole):,}".replace(",", ".") + f",{cents} €"


def test_the_findings_are_shown_in_german_and_in_english_after_switching(client, grants):
    sign_in(client)
    (r9,) = [finding for finding in findings(date.today()) if finding.rule == "R9"]
    german = text(client.get("/funding"))
    assert str(escape(r9.de)) in german and str(escape(r9.en)) not in german

    post_form(client, "/funding", "/language", {"language-locale": "en"}, "language-csrf_token")
    english = text(client.get("/funding"))
    assert str(escape(r9.en)) in english and str(escape(r9.de)) not in english
    assert "Rule findings" in english and "Requested now" in english


def test_the_findings_can_be_narrowed_by_rule(client, grants):
    sign_in(client)
    every = set(re.findall(r'<tr class="severity-\w+" data-rule="(R\d+)">', text(client.get("/funding"))))
    assert {"R9", "R5"} <= every
    only = set(re.findall(r'<tr class="severity-\w+" data-rule="(R\d+)">', text(client.get("/funding?rule=R9"))))
    assert only == {"R9"}


def test_the_workbook_opens_and_has_the_four_sheets(client, grants):
    sign_in(client)
    response = client.get(f"/funding/report.xlsx?grant={REF}")

    assert response.status_code == 200
    assert "foerderbericht-DP-2020-0042.xlsx" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Übersicht", "Belegliste", "Geräteliste", "Regelprüfung"]
    devices = list(book["Geräteliste"].iter_rows(values_only=True))
    assert len(devices) == 1 + 3 and {row[1] for row in devices[1:]} == {REF}
    every = client.get("/funding/report.xlsx")
    assert "foerderbericht-alle.xlsx" in every.headers["Content-Disposition"]
    assert len(list(load_workbook(io.BytesIO(every.data))["Geräteliste"].iter_rows())) == 1 + 4


def test_the_device_list_downloads_as_csv_for_german_excel(client, grants):
    sign_in(client)
    response = client.get(f"/funding/report.csv?grant={OTHER}")

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "foerderbericht-DP-2020-0057.csv" in response.headers["Content-Disposition"]
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:2] == ["Träger", "Aktenzeichen"] and [row[1] for row in rows[1:]] == [OTHER]
    assert client.get("/funding/report.pdf").status_code == 404


def test_the_grant_page_shows_its_schools_rooms_findings_and_invoices(client, grants):
    sign_in(client)
    page = text(client.get(f"/funding/grants/{REF}"))

    report = build_report(date.today(), REF)
    assert shown_figures(page) == expected_figures(report.grants[0])
    categories = re.findall(r'<tr data-school="gs-linden" data-category="(\w+)">', page)
    assert categories == [category for (_school, category) in report.by_school_category] == ["display", "mobile"]
    assert re.findall(r'<tr data-school="gs-linden" data-room="(\w+)">', page) == ["A101", "A102"]
    assert '<tr data-invoice="NSO-2021/17">' in page and "20.03.2021" in page
    assert str(escape(next(f for f in report.findings if f.rule == "R9").de)) in page
    assert client.get("/funding/grants/DP-1999-0001").status_code == 404


def test_a_school_limited_user_sees_only_the_grants_of_its_schools(client, grants):
    create_user("fritz", PASSWORD, "viewer", ["gs-fontane"])
    sign_in(client, "fritz")
    page = text(client.get("/funding"))

    assert f'data-grant="{OTHER}"' in page and f'data-grant="{REF}"' not in page and "gs-linden" not in page
    assert client.get(f"/funding/grants/{REF}").status_code == 403
    assert client.get(f"/funding/report.xlsx?grant={REF}").status_code == 403
    assert client.get(f"/funding/grants/{OTHER}").status_code == 200
    every = list(csv.reader(io.StringIO(text(client.get("/funding/report.csv")).lstrip("\ufeff")), delimiter=";"))
    assert {row[1] for row in every[1:]} == {OTHER}


def test_without_a_carrier_the_funding_page_says_there_is_nothing_yet(client, db):
    create_user("anna", PASSWORD, "admin")
    sign_in(client)
    assert "Solange die Schulen nicht eingerichtet sind" in text(client.get("/funding"))
    assert client.get("/funding/report.xlsx").status_code == 404


def test_the_funding_pages_are_read_only(client, grants):
    sign_in(client)
    assert client.post("/funding").status_code == 405
    assert client.post("/language", data={"language-locale": "en"}).status_code == 400
    assert "Förderung" in text(client.get("/funding"))


def test_a_burn_bar_longer_than_the_notice_marks_where_the_approved_amount_ends():
    parts = [Segment("requested", Decimal("600"), "r"), Segment("committed", Decimal("600"), "c"),
             Segment("remaining", Decimal("0"), "left")]
    svg = str(burn_chart("DP/1", Decimal("1000"), parts, "T", "D", "approved"))
    assert re.findall(r'class="burn-(\w+)" x="([\d.]+)" y="0" width="([\d.]+)"', svg) == [
        ("requested", "0.0", "360.0"), ("committed", "360.0", "360.0")]  # nothing left: no segment for it
    assert '<line class="burn-approved" x1="600.0"' in svg and 'id="burn-DP-1-desc"' in svg
