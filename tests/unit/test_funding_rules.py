"""Funding rules R1–R10: tables of cases at every boundary, the wording of findings, and properties."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provisioning.facts import Carrier, Facts, Grant, Item, School
from provisioning.ledger import Ledger
from provisioning.programmes import for_carrier, load_catalogue
from provisioning.rules import check

CATALOGUE = load_catalogue()
TODAY = date(2023, 6, 1)
EARLY = date(2019, 1, 1)


def school(code, type="general", concept=EARLY, network=EARLY, number=None):
    return School(code=code, type=type, number=number, concept_date=concept, network_since=network)


SCHOOLS = (school("gs-a"), school("gs-b"), school("osz", type="vocational"))
ALL = tuple(s.code for s in SCHOOLS)


def grant(ref="G1", programme="dp2019", schools=ALL, amount="0.00", rate="0.90", decided=date(2020, 1, 1),
          project_end=date(2024, 12, 31), **more):
    return Grant(ref=ref, programme=programme, schools=tuple(schools), decided=decided, amount=Decimal(amount),
                 rate=None if rate is None else Decimal(rate), project_end=project_end, **more)


# One grant per programme; amounts of zero, so R4 stays quiet unless a case sets one.
GRANTS = (grant("G1"), grant("S1", "dp2019-sofort"), grant("L1", "dp2019-lehrkraefte"), grant("A1", "dp2019-admin"),
          grant("D2", "dp2", decided=date(2025, 2, 1), project_end=date(2028, 12, 31)))


def item(id, gross="100.00", *, net=None, school="gs-a", kind="laptop", category="mobile", grant="G1",
         invoice=date(2021, 3, 1), tag="INV-1", **more):
    return Item(id=id, school=school, kind=kind, category=category, grant=grant, net=Decimal(net or gross),
                gross=Decimal(gross), invoice_date=invoice, asset_tag=tag, **more)


def run(*items, schools=SCHOOLS, grants=GRANTS, state="BB", today=TODAY, funding=None, budgets=None):
    programmes = for_carrier(CATALOGUE, {"state": state, "funding": funding or {}})
    return check(Facts(carrier=Carrier(state, budgets or {}), programmes=programmes, today=today,
                       schools=schools, grants=grants, items=items))


def outcome(findings, rule):
    """(severity, reason, school, grant, item ids) of one rule's findings."""
    return [(f.severity, f.reason, f.school, f.grant, f.items) for f in findings if f.rule == rule]


def test_the_background_of_these_tables_raises_nothing():
    assert run(item(1), item(2, category="wlan", kind="access_point")) == ()


# R1 mobile cap: a school breaks it only when it is over 25,000 € AND the carrier is over 20 %.

@pytest.mark.parametrize("case", [
    dict(name="exactly 25,000 euros of mobile devices at a school is allowed even at 100 % carrier-wide",
         items=[item(1, "25000.00")], found=[]),
    dict(name="one cent over 25,000 euros while the carrier is over 20 % breaks the cap",
         items=[item(1, "25000.01")], found=[("error", "mobile_cap", "gs-a", None, (1,))]),
    dict(name="one cent over 25,000 euros is allowed while the carrier is at exactly 20 %",
         items=[item(1, "25000.01"), item(2, "100000.04", category="display")], found=[]),
    dict(name="one more cent tips the carrier over 20 %",
         items=[item(1, "25000.02"), item(2, "100000.04", category="display")],
         found=[("error", "mobile_cap", "gs-a", None, (1,))]),
    dict(name="a carrier over 20 % breaks nothing where each school stays within 25,000 euros",
         items=[item(1, "20000.00"), item(2, "20000.00", school="gs-b")], found=[]),
    dict(name="only the school over 25,000 euros is reported, with all its mobile items",
         items=[item(1, "20000.00"), item(2, "10000.00"), item(3, "20000.00", school="gs-b")],
         found=[("error", "mobile_cap", "gs-a", None, (1, 2))]),
    dict(name="a vocational school is exempt",
         items=[item(1, "100000.00", school="osz")], found=[]),
    dict(name="a vocational school's investment makes no room for mobile devices at general schools",
         items=[item(1, "30000.00"), item(2, "1000000.00", school="osz", category="display")],
         found=[("error", "mobile_cap", "gs-a", None, (1,))]),
    dict(name="pupils' loan devices are not under the cap",
         items=[item(1, "100000.00", grant="S1")], found=[]),
    dict(name="items that are not eligible do not count towards the cap",
         items=[item(1, "30000.00", kind="smartphone")], found=[]),
], ids=lambda case: case["name"])
def test_r1_mobile_cap(case):
    assert outcome(run(*case["items"]), "R1") == case["found"]


def test_r1_reports_the_figures_of_both_limits():
    (finding,) = [f for f in run(item(1, "30000.00"), item(2, "70000.00", category="display")) if f.rule == "R1"]

    assert finding.programme == "dp2019"
    assert finding.figures == dict(school_mobile=Decimal("30000.00"), school_cap=Decimal("25000.00"),
                                   carrier_mobile=Decimal("30000.00"), carrier_investment=Decimal("100000.00"),
                                   carrier_share=Decimal("0.3000"), share_cap=Decimal("0.20"))
    assert "30.000,00 €" in finding.de and "25.000,00 €" in finding.de and "30 %" in finding.de
    assert "€30,000.00" in finding.en and "20 %" in finding.en


# R2 infrastructure first

NO_NETWORK = (school("gs-a", network=None), school("gs-b"), school("osz", type="vocational"))


@pytest.mark.parametrize("case", [
    dict(name="a mobile device where the network was in place before passes",
         schools=SCHOOLS, items=[item(1)], found=[]),
    dict(name="a mobile device bought the day the school's network was ready passes",
         schools=(school("gs-a", network=date(2021, 3, 1)), *SCHOOLS[1:]), items=[item(1)], found=[]),
    dict(name="a mobile device bought the day before the network was ready breaks R2",
         schools=(school("gs-a", network=date(2021, 3, 2)), *SCHOOLS[1:]), items=[item(1)],
         found=[("error", "no_infrastructure", "gs-a", "G1", (1,))]),
    dict(name="a mobile device at a school without LAN or WLAN breaks R2",
         schools=NO_NETWORK, items=[item(1), item(2)], found=[("error", "no_infrastructure", "gs-a", "G1", (1, 2))]),
    dict(name="WLAN bought later in the same grant counts",
         schools=NO_NETWORK, items=[item(1), item(2, category="wlan", invoice=date(2022, 1, 1))], found=[]),
    dict(name="WLAN commissioned later under another grant does not count",
         schools=NO_NETWORK,
         items=[item(1), item(2, category="wlan", grant=None, commissioned=date(2022, 1, 1))],
         found=[("error", "no_infrastructure", "gs-a", "G1", (1,))]),
    dict(name="an unfunded LAN already commissioned counts",
         schools=NO_NETWORK, items=[item(1), item(2, category="network", grant=None, commissioned=date(2020, 1, 1))],
         found=[]),
    dict(name="a LAN retired before the purchase no longer counts",
         schools=NO_NETWORK,
         items=[item(1), item(2, category="network", grant=None, commissioned=date(2020, 1, 1),
                             status="retired", retired_at=date(2021, 1, 1))],
         found=[("error", "no_infrastructure", "gs-a", "G1", (1,))]),
    dict(name="a LAN at another school does not count",
         schools=NO_NETWORK, items=[item(1), item(2, school="gs-b", category="network")],
         found=[("error", "no_infrastructure", "gs-a", "G1", (1,))]),
    dict(name="pupils' loan devices need no infrastructure at school",
         schools=NO_NETWORK, items=[item(1, grant="S1")], found=[]),
], ids=lambda case: case["name"])
def test_r2_infrastructure_first(case):
    assert outcome(run(*case["items"], schools=case["schools"]), "R2") == case["found"]


# R3 excluded items

@pytest.mark.parametrize("case", [
    dict(name="a smartphone is never fundable",
         items=[item(1, kind="smartphone")], found=[("error", "kind", "gs-a", "G1", (1,))]),
    dict(name="recurring costs are not funded by the base programme",
         items=[item(1, kind="other", category=None, cost="recurring")], found=[("error", "cost", "gs-a", "G1", (1,))]),
    dict(name="maintenance is funded by DigitalPakt 2.0",
         items=[item(1, kind="other", category=None, cost="maintenance", grant="D2", invoice=date(2025, 6, 1))],
         found=[]),
    dict(name="a device for the school office is not funded by the base programme",
         items=[item(1, kind="desktop", category="work_equipment", use="administration")],
         found=[("error", "use", "gs-a", "G1", (1,))]),
    dict(name="a display is not fundable as a pupils' loan device",
         items=[item(1, kind="interactive_display", category="display", grant="S1")],
         found=[("error", "category", "gs-a", "S1", (1,))]),
    dict(name="a laptop is neither a cost type nor a category of the administration programme",
         items=[item(1, grant="A1")],
         found=[("error", "category", "gs-a", "A1", (1,)), ("error", "cost", "gs-a", "A1", (1,))]),
    dict(name="staff costs are funded by the administration programme",
         items=[item(1, kind="other", category=None, cost="staff", grant="A1")], found=[]),
    dict(name="an investment without a category is a gap in the records, not a breach",
         items=[item(1, category=None)], found=[("warning", "no_category", "gs-a", "G1", (1,))]),
    dict(name="items of one reason, school and grant are one finding",
         items=[item(2, kind="smartphone"), item(1, kind="smartphone"), item(3, kind="smartphone", school="gs-b")],
         found=[("error", "kind", "gs-a", "G1", (1, 2)), ("error", "kind", "gs-b", "G1", (3,))]),
], ids=lambda case: case["name"])
def test_r3_excluded_items(case):
    assert outcome(run(*case["items"]), "R3") == case["found"]


# R4 own share and budget

@pytest.mark.parametrize("case", [
    dict(name="a grant of exactly 90 % of the eligible cost is covered",
         grants=[grant(amount="900.00")], items=[item(1, "1000.00")], found=[]),
    dict(name="one cent more is not covered once the project has ended",
         grants=[grant(amount="900.01")], items=[item(1, "1000.00")], today=date(2025, 1, 1),
         found=[("error", "not_covered", None, "G1", (1,))]),
    dict(name="while the project runs, including its last day, an uncovered grant is a warning",
         grants=[grant(amount="900.01")], items=[item(1, "1000.00")], today=date(2024, 12, 31),
         found=[("warning", "not_yet_covered", None, "G1", (1,))]),
    dict(name="a grant notice with a lower rate allows only that rate",
         grants=[grant(amount="900.00", rate="0.80")], items=[item(1, "1000.00")], today=date(2025, 1, 1),
         found=[("error", "not_covered", None, "G1", (1,))]),
    dict(name="a carrier's higher own share lowers what the grant may be",
         grants=[grant(amount="800.01", rate=None)], items=[item(1, "1000.00")], today=date(2025, 1, 1),
         funding={"dp2019": {"own_share": "0.20"}}, found=[("error", "not_covered", None, "G1", (1,))]),
    dict(name="without a rate on the notice, the programme's own share decides",
         grants=[grant(amount="900.00", rate=None)], items=[item(1, "1000.00")], found=[]),
    dict(name="smartphones do not count as eligible cost",
         grants=[grant(amount="900.00")], items=[item(1, "1000.00", kind="smartphone")], today=date(2025, 1, 1),
         found=[("error", "not_covered", None, "G1", (1,))]),
    dict(name="an invoice outside the window does not count as eligible cost",
         grants=[grant(amount="900.00")], items=[item(1, "1000.00", invoice=date(2026, 1, 1))],
         today=date(2026, 2, 1), found=[("error", "not_covered", None, "G1", (1,))]),
    dict(name="a teacher device over the cap counts only up to 500 euros",
         grants=[grant("L1", "dp2019-lehrkraefte", amount="450.00")], items=[item(1, "600.00", grant="L1")],
         found=[]),
    dict(name="a cent more than 90 % of the capped cost is not covered",
         grants=[grant("L1", "dp2019-lehrkraefte", amount="450.01")], items=[item(1, "600.00", grant="L1")],
         today=date(2025, 1, 1), found=[("error", "not_covered", None, "L1", (1,))]),
    dict(name="grants adding up to exactly the carrier's budget are fine",
         grants=[grant("G1", amount="600.00"), grant("G2", amount="300.00")],
         items=[item(1, "1000.00"), item(2, "1000.00", grant="G2")], budgets={"dp2019": Decimal("900.00")},
         found=[]),
    dict(name="grants adding up to a cent over the carrier's budget break R4",
         grants=[grant("G1", amount="600.00"), grant("G2", amount="300.01")],
         items=[item(1, "1000.00"), item(2, "1000.00", grant="G2")], budgets={"dp2019": Decimal("900.00")},
         found=[("error", "budget", None, None, ())]),
], ids=lambda case: case["name"])
def test_r4_own_share_and_budget(case):
    findings = run(*case["items"], grants=case["grants"], today=case.get("today", TODAY),
                   funding=case.get("funding"), budgets=case.get("budgets"))
    assert outcome(findings, "R4") == case["found"]


def test_r4_says_how_much_eligible_cost_is_still_needed():
    (finding,) = run(item(1, "500.00"), grants=[grant(amount="900.00")])

    assert finding.figures["cost_still_needed"] == Decimal("500.00")
    assert finding.figures["allowed"] == Decimal("450.00")
    assert "500,00 €" in finding.de and "31.12.2024" in finding.de
    assert "€500.00 of eligible cost is still needed before the project ends on 2024-12-31" in finding.en


# R5 invoice dates inside the window

@pytest.mark.parametrize("case", [
    dict(name="an invoice on the first day of the base programme counts", invoice=date(2019, 5, 17), found=[]),
    dict(name="an invoice the day before the base programme does not",
         invoice=date(2019, 5, 16), found=[("error", "outside_window", "gs-a", "G1", (1,))]),
    dict(name="an invoice on 31.12.2025 counts in Brandenburg", invoice=date(2025, 12, 31), found=[]),
    dict(name="an invoice on 01.01.2026 does not", invoice=date(2026, 1, 1),
         found=[("error", "outside_window", "gs-a", "G1", (1,))]),
    dict(name="Baden-Württemberg's window ends on 31.12.2024", state="BW", invoice=date(2024, 12, 31), found=[]),
    dict(name="Baden-Württemberg's window is closed on 01.01.2025", state="BW", invoice=date(2025, 1, 1),
         found=[("error", "outside_window", "gs-a", "G1", (1,))]),
    dict(name="teacher devices count from 03.06.2020", grant="L1", invoice=date(2020, 6, 3), found=[]),
    dict(name="teacher devices bought on 02.06.2020 do not", grant="L1", invoice=date(2020, 6, 2),
         found=[("error", "outside_window", "gs-a", "L1", (1,))]),
    dict(name="pupils' loan devices count from 03.07.2020", grant="S1", invoice=date(2020, 7, 3), found=[]),
    dict(name="an item without an invoice date cannot be checked", invoice=None,
         found=[("warning", "no_invoice_date", "gs-a", "G1", (1,))]),
], ids=lambda case: case["name"])
def test_r5_invoice_window(case):
    findings = run(item(1, invoice=case["invoice"], grant=case.get("grant", "G1")), state=case.get("state", "BB"))
    assert outcome(findings, "R5") == case["found"]


def test_r5_names_the_window_and_the_dates_in_both_languages():
    (finding,) = [f for f in run(item(1, invoice=date(2025, 2, 1)), item(2, invoice=date(2025, 1, 1)), state="BW")
                  if f.rule == "R5"]

    assert finding.figures["earliest"] == date(2025, 1, 1) and finding.figures["latest"] == date(2025, 2, 1)
    assert finding.de.endswith("vom 01.01.2025 bis 01.02.2025 liegen außerhalb des Förderzeitraums "
                               "17.05.2019 – 31.12.2024.")
    assert finding.en.endswith("dated 2025-01-01 to 2025-02-01, fall outside the funding window "
                               "2019-05-17 – 2024-12-31.")


# R6 the media concept before the application

@pytest.mark.parametrize("case", [
    dict(name="a concept dated on the decision day is in time", concept=date(2020, 1, 1), found=[]),
    dict(name="a concept dated the day after the decision is too late", concept=date(2020, 1, 2),
         found=[("error", "concept_too_late", "gs-a", "G1", ())]),
    dict(name="with an application date, the concept must precede the application",
         concept=date(2019, 12, 1), applied=date(2019, 11, 30),
         found=[("error", "concept_too_late", "gs-a", "G1", ())]),
    dict(name="a concept on the application day is in time", concept=date(2019, 11, 30), applied=date(2019, 11, 30),
         found=[]),
    dict(name="a school without a recorded concept is a gap", concept=None,
         found=[("warning", "no_concept_date", "gs-a", "G1", ())]),
    dict(name="pupils' loan devices need no concept", concept=None, programme="dp2019-sofort", found=[]),
], ids=lambda case: case["name"])
def test_r6_concept(case):
    grants = [grant("G1", case.get("programme", "dp2019"), schools=["gs-a"], applied=case.get("applied"))]
    findings = run(schools=(school("gs-a", concept=case["concept"]),), grants=grants)
    assert outcome(findings, "R6") == case["found"]


# R7 proof of use due

@pytest.mark.parametrize("case", [
    dict(name="on its due day the proof of use is due today, not late", today=date(2025, 3, 31),
         found=[("warning", "due_soon", None, "G1", ())]),
    dict(name="the day after its due day it is overdue", today=date(2025, 4, 1),
         found=[("error", "overdue", None, "G1", ())]),
    dict(name="sixty days before it is coming", today=date(2025, 1, 30),
         found=[("warning", "due_soon", None, "G1", ())]),
    dict(name="sixty-one days before it is not mentioned yet", today=date(2025, 1, 29), found=[]),
    dict(name="a submitted proof of use is never overdue", today=date(2026, 1, 1), submitted=date(2025, 3, 1),
         found=[]),
    dict(name="the due date on the grant notice wins over the Land's rule", today=date(2025, 4, 1),
         proof_due=date(2025, 6, 30), found=[]),
    dict(name="without a rule or a date on the notice nothing is due", state="BB", today=date(2030, 1, 1), found=[]),
    dict(name="a due date on the notice applies in any Land", state="BB", today=date(2025, 7, 1),
         proof_due=date(2025, 6, 30), found=[("error", "overdue", None, "G1", ())]),
    dict(name="NRW's loan devices were due on 30.09.2021", state="NW", programme="dp2019-sofort",
         today=date(2021, 10, 1), found=[("error", "overdue", None, "G1", ())]),
], ids=lambda case: case["name"])
def test_r7_proof_of_use(case):
    grants = [grant("G1", case.get("programme", "dp2019"), proof_due=case.get("proof_due"),
                    proof_submitted=case.get("submitted"))]
    findings = run(grants=grants, state=case.get("state", "BW"), today=case["today"])
    assert outcome(findings, "R7") == case["found"]


def test_r7_counts_the_days():
    (finding,) = run(grants=[grant()], state="BW", today=date(2025, 4, 3))

    assert finding.figures["days_overdue"] == 3 and finding.figures["due"] == date(2025, 3, 31)
    assert finding.de == "Der Verwendungsnachweis zu G1 war am 31.03.2025 fällig und ist seit 3 Tagen überfällig."
    assert finding.en == "The proof of use for G1 was due on 2025-03-31 and is 3 days overdue."


# R8 earmark: 5 years after the project end (31.12.2024 → 31.12.2029)

RETIRED = dict(status="retired")


@pytest.mark.parametrize("case", [
    dict(name="a device retired on the last day of the earmark is fine",
         items=[item(1, **RETIRED, retired_at=date(2029, 12, 31))], found=[]),
    dict(name="a device retired the day before the earmark ends is a repayment risk",
         items=[item(1, **RETIRED, retired_at=date(2029, 12, 30))], found=[("risk", "retired", "gs-a", "G1", (1,))]),
    dict(name="a retired device without a date counts as retired today",
         items=[item(1, **RETIRED)], found=[("risk", "retired", "gs-a", "G1", (1,))]),
    dict(name="a device missing while the earmark runs is a risk",
         items=[item(1, status="missing")], found=[("risk", "missing", "gs-a", "G1", (1,))]),
    dict(name="a device missing after the earmark has ended is not", today=date(2029, 12, 31),
         items=[item(1, status="missing")], found=[]),
    dict(name="a device moved to a school the grant does not cover is a risk",
         grants=[grant(schools=["gs-a"])], items=[item(1, school="gs-b")],
         found=[("risk", "moved", "gs-b", "G1", (1,))]),
    dict(name="a carrier counting from commissioning: retired on the last day is fine",
         funding={"dp2019": {"earmark": {"years": 5, "after": "commissioned"}}},
         items=[item(1, **RETIRED, commissioned=date(2021, 3, 1), retired_at=date(2026, 3, 1))], found=[]),
    dict(name="a carrier counting from commissioning: the day before is a risk",
         funding={"dp2019": {"earmark": {"years": 5, "after": "commissioned"}}},
         items=[item(1, **RETIRED, commissioned=date(2021, 3, 1), retired_at=date(2026, 2, 28))],
         found=[("risk", "retired", "gs-a", "G1", (1,))]),
    dict(name="without a project end the programme window's end stands in",
         grants=[grant(project_end=None)], items=[item(1, **RETIRED, retired_at=date(2030, 12, 30))],
         found=[("risk", "retired", "gs-a", "G1", (1,))]),
    dict(name="a device that was never eligible cannot be reclaimed",
         items=[item(1, kind="smartphone", **RETIRED, retired_at=date(2022, 1, 1))], found=[]),
    dict(name="an unfunded device carries no earmark",
         items=[item(1, grant=None, **RETIRED, retired_at=date(2022, 1, 1))], found=[]),
], ids=lambda case: case["name"])
def test_r8_earmark(case):
    findings = run(*case["items"], grants=case.get("grants", GRANTS), today=case.get("today", TODAY),
                   funding=case.get("funding"))
    assert outcome(findings, "R8") == case["found"]


def test_r8_gives_the_reason_and_the_earmark_end():
    (finding,) = [f for f in run(item(7, **RETIRED, retired_at=date(2023, 2, 1), retire_reason="Displaybruch"))
                  if f.rule == "R8"]

    assert finding.figures["earmark_end"] == date(2029, 12, 31)
    assert "am 01.02.2023 ausgesondert (Grund: Displaybruch), vor Ende der Zweckbindung am 31.12.2029" in finding.de
    assert "retired on 2023-02-01 (reason: Displaybruch), before its earmark ends on 2029-12-31" in finding.en


# R9 inventory number above 800 € net; R10 teacher devices at most 500 € gross

@pytest.mark.parametrize("case", [
    dict(name="exactly 800 euros net needs no inventory number", items=[item(1, "952.00", net="800.00", tag=None)],
         found=[]),
    dict(name="a cent over 800 euros net needs one", items=[item(1, "952.01", net="800.01", tag=None)],
         found=[("error", "no_asset_tag", "gs-a", "G1", (1,))]),
    dict(name="a blank inventory number is none", items=[item(1, net="900.00", tag="  ")],
         found=[("error", "no_asset_tag", "gs-a", "G1", (1,))]),
    dict(name="an item with its inventory number passes", items=[item(1, net="900.00", tag="INV-0042")], found=[]),
    dict(name="the threshold is net: 900 euros gross at 756 euros net needs none",
         items=[item(1, "900.00", net="756.30", tag=None)], found=[]),
    dict(name="an unfunded item is not the programme's business", items=[item(1, net="5000.00", grant=None, tag=None)],
         found=[]),
    dict(name="staff costs carry no inventory number",
         items=[item(1, net="5000.00", tag=None, kind="other", category=None, cost="staff", grant="A1")], found=[]),
], ids=lambda case: case["name"])
def test_r9_inventory_number(case):
    assert outcome(run(*case["items"]), "R9") == case["found"]


@pytest.mark.parametrize("case", [
    dict(name="a teacher device at exactly 500 euros gross is allowed", gross="500.00", found=[]),
    dict(name="a teacher device at 500.01 euros gross is not", gross="500.01",
         found=[("error", "over_device_cap", "gs-a", "L1", (1,))]),
    dict(name="NRW's cap is the same 500 euros", state="NW", gross="500.01",
         found=[("error", "over_device_cap", "gs-a", "L1", (1,))]),
    dict(name="a base programme laptop has no such cap", grant="G1", gross="900.00", found=[]),
], ids=lambda case: case["name"])
def test_r10_teacher_devices(case):
    findings = run(item(1, case["gross"], grant=case.get("grant", "L1")), state=case.get("state", "BB"))
    assert outcome(findings, "R10") == case["found"]


def test_r10_states_the_cap_and_the_dearest_device():
    (finding,) = [f for f in run(item(1, "549.00", grant="L1"), item(2, "612.50", grant="L1")) if f.rule == "R10"]

    assert finding.figures == dict(count=2, cap=Decimal("500.00"), highest_gross=Decimal("612.50"),
                                   excess=Decimal("161.50"))
    assert finding.de == "2 Geräte an gs-a aus L1 kosten mehr als 500,00 € brutto je Gerät (bis 612,50 €)."
    assert finding.en == "2 devices at gs-a from L1 cost more than €500.00 gross each (up to €612.50)."


# Findings as data

def test_a_school_is_named_with_its_schulnummer():
    schools = (school("gs-a", number="112233"), *SCHOOLS[1:])
    (finding,) = run(item(1, kind="smartphone"), schools=schools)

    assert finding.de.startswith("1 Posten der Art smartphone an gs-a (112233) aus G1")


def test_findings_come_sorted_by_rule_then_school():
    findings = run(item(1, "30000.00", school="gs-b", tag=None, net="900.00"), item(2, kind="smartphone"),
                   schools=(school("gs-a"), school("gs-b", network=None), school("osz", type="vocational")))

    assert [(f.rule, f.school) for f in findings] == [("R1", "gs-b"), ("R2", "gs-b"), ("R3", "gs-a"),
                                                      ("R9", "gs-b")]


def test_text_ids_of_cost_lines_sort_after_device_ids():
    (finding,) = run(item("purchase:2", kind="smartphone"), item(10, kind="smartphone"), item(9, kind="smartphone"))

    assert finding.items == (9, 10, "purchase:2")


@pytest.mark.parametrize(("change", "message"), [
    (dict(items=[item(1, grant="G9")]), "item 1 names grant 'G9', which is not among the facts"),
    (dict(items=[item(1, school="gs-z")]), "item 1 names school 'gs-z', which is not among the facts"),
    (dict(items=[item(1), item(1)]), "duplicate item '1'"),
    (dict(grants=[grant(programme="dp3")]), "grant G1 names programme 'dp3', which is not among the facts"),
    (dict(grants=[grant(schools=["gs-z"])]), "grant G1 names school 'gs-z', which is not among the facts"),
])
def test_facts_that_do_not_fit_together_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        run(*change.get("items", ()), grants=change.get("grants", GRANTS))


def test_programmes_resolved_for_another_land_are_refused():
    facts = Facts(carrier=Carrier("BB"), programmes=for_carrier(CATALOGUE, {"state": "BW"}), today=TODAY)

    with pytest.raises(ValueError, match="programme dp2 is resolved for BW, the carrier is in BB"):
        check(facts)


# Properties

MIXED = (
    item(1, "30000.00", school="gs-b", tag=None, net="900.00"), item(2, kind="smartphone"),
    item(3, "612.50", grant="L1"), item(4, **RETIRED, retired_at=date(2022, 5, 1)), item(5, invoice=None),
    item(6, category=None), item(7, "2000.00", school="gs-b", kind="interactive_display", category="display"),
    item("purchase:1", kind="other", category=None, cost="recurring"), item(8, status="missing", school="osz"),
)
MIXED_GRANTS = (grant(amount="50000.00"), *GRANTS[1:], grant("G2", schools=["gs-b"], applied=date(2018, 1, 1)))
MIXED_SCHOOLS = (school("gs-a", concept=None), school("gs-b", network=None), school("osz", type="vocational"))


def test_the_mixed_example_raises_a_finding_under_most_rules():
    findings = run(*MIXED, schools=MIXED_SCHOOLS, grants=MIXED_GRANTS)

    assert {f.rule for f in findings} == {"R1", "R2", "R3", "R4", "R5", "R6", "R8", "R9", "R10"}


@settings(max_examples=40, deadline=None)
@given(items=st.permutations(MIXED), schools=st.permutations(MIXED_SCHOOLS), grants=st.permutations(MIXED_GRANTS))
def test_findings_do_not_depend_on_the_order_of_the_facts(items, schools, grants):
    expected = run(*MIXED, schools=MIXED_SCHOOLS, grants=MIXED_GRANTS)

    assert run(*items, schools=tuple(schools), grants=tuple(grants)) == expected


@settings(max_examples=60, deadline=None)
@given(mobile=st.integers(0, 60_000_00), other=st.integers(0, 300_000_00))
def test_r1_fires_exactly_when_both_limits_fail(mobile, other):
    cents = Decimal("0.01")
    items = [item(1, str(mobile * cents))]
    if other:
        items.append(item(2, str(other * cents), category="display"))

    fired = bool(outcome(run(*items), "R1"))

    assert fired == (mobile > 25_000_00 and mobile * 5 > mobile + other)


def test_checking_leaves_the_facts_untouched():
    facts = Facts(carrier=Carrier("BB"), programmes=for_carrier(CATALOGUE, {"state": "BB"}), today=TODAY,
                  schools=MIXED_SCHOOLS, grants=MIXED_GRANTS, items=MIXED)
    before = replace(facts)

    assert check(facts) == check(facts)
    assert facts == before


def test_a_ledger_built_once_gives_the_same_findings_and_one_of_other_facts_is_refused():
    facts = Facts(carrier=Carrier("BB"), programmes=for_carrier(CATALOGUE, {"state": "BB"}), today=TODAY,
                  schools=MIXED_SCHOOLS, grants=MIXED_GRANTS, items=MIXED)
    ledger = Ledger(facts)

    assert check(facts, ledger) == check(facts, ledger) == check(facts)
    with pytest.raises(ValueError, match="other facts"):
        check(replace(facts), ledger)
