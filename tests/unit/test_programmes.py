"""Funding programmes: the shipped data, Land and carrier overrides, and every loader error at its file and line."""

import dataclasses
from datetime import date
from decimal import Decimal
from textwrap import dedent

import pytest

from provisioning.programmes import (Earmark, MobileCap, ProgrammesError, ProofDue, Window, add_months, for_carrier,
                                     for_state, load_catalogue, parse_catalogue)

CATALOGUE = load_catalogue()
SHIPPED = ("dp2", "dp2019", "dp2019-admin", "dp2019-lehrkraefte", "dp2019-sofort")

# A programme with one Land override; the line numbers below are asserted exactly.
VALID = dedent("""\
    programmes:
      demo:
        title: Demo
        period: {start: 2019-05-17, end: 2024-05-16}
        window: {start: 2019-05-17, end: 2025-12-31}
        own_share: "0.10"
        cost_basis: gross
        categories: [network, wlan, mobile]
        costs: [investment]
        excluded: {kinds: [smartphone], uses: [administration]}
        mobile_cap: {share: "0.20", per_school: "25000.00", school_types: [general]}
        infrastructure_first: true
        concept_required: true
        device_gross_cap: null
        inventory_threshold: "800.00"
        earmark: {years: 5, after: project_end}
        proof_due: null
        states:
          BW:
            window: {start: 2019-05-17, end: 2024-12-31}
            proof_due: {months_after_end: 3}
    """)


def edited(old: str, new: str) -> str:
    """VALID with old (which must occur exactly once) replaced by new."""
    assert VALID.count(old) == 1, old
    return VALID.replace(old, new)


def errors_of(text: str) -> list[str]:
    with pytest.raises(ProgrammesError) as caught:
        parse_catalogue(text)
    return caught.value.errors


def floats_in(value) -> list:
    """Every float anywhere inside a dataclass tree."""
    if isinstance(value, float):
        return [value]
    if dataclasses.is_dataclass(value):
        return [f for field in dataclasses.fields(value) for f in floats_in(getattr(value, field.name))]
    if isinstance(value, (tuple, list)):
        return [f for inner in value for f in floats_in(inner)]
    return []


# The shipped programmes

def test_the_shipped_file_holds_the_five_programmes():
    assert sorted(CATALOGUE.programmes) == list(SHIPPED)


def test_the_base_programme_carries_the_federal_figures():
    dp2019 = CATALOGUE.programmes["dp2019"]

    assert dp2019.period == Window(date(2019, 5, 17), date(2024, 5, 16))
    assert dp2019.window == Window(date(2019, 5, 17), date(2025, 12, 31))
    assert dp2019.own_share == Decimal("0.10")
    assert dp2019.mobile_cap == MobileCap(Decimal("0.20"), Decimal("25000.00"), ("general",))
    assert dp2019.inventory_threshold == Decimal("800.00")
    assert dp2019.earmark == Earmark(5, "project_end")
    assert dp2019.excluded.kinds == ("smartphone",)
    assert dp2019.excluded.uses == ("administration",)
    assert dp2019.costs == ("investment",)
    assert (dp2019.infrastructure_first, dp2019.concept_required, dp2019.state) == (True, True, None)


def test_money_and_shares_are_decimals_and_nothing_is_a_float():
    for programme in for_state(CATALOGUE, "NW").values():
        assert floats_in(programme) == [], programme.code
        assert isinstance(programme.own_share, Decimal)


@pytest.mark.parametrize("case", [
    dict(name="Baden-Württemberg's invoices must fall between 17.05.2019 and 31.12.2024",
         state="BW", programme="dp2019", attribute="window", value=Window(date(2019, 5, 17), date(2024, 12, 31))),
    dict(name="Brandenburg keeps the federal window to the end of 2025",
         state="BB", programme="dp2019", attribute="window", value=Window(date(2019, 5, 17), date(2025, 12, 31))),
    dict(name="Baden-Württemberg wants the proof of use three months after the project ends",
         state="BW", programme="dp2019", attribute="proof_due", value=ProofDue(months_after_end=3)),
    dict(name="NRW wants the proof of use for loan devices by 30.09.2021",
         state="NW", programme="dp2019-sofort", attribute="proof_due", value=ProofDue(fixed=date(2021, 9, 30))),
    dict(name="NRW caps a teacher device at 500 euros gross",
         state="NW", programme="dp2019-lehrkraefte", attribute="device_gross_cap", value=Decimal("500.00")),
    dict(name="the teacher device cap of R10 holds in every Land",
         state="BB", programme="dp2019-lehrkraefte", attribute="device_gross_cap", value=Decimal("500.00")),
    dict(name="teacher devices bought back to 03.06.2020 count",
         state="BB", programme="dp2019-lehrkraefte", attribute="window",
         value=Window(date(2020, 6, 3), date(2025, 12, 31))),
    dict(name="NRW keeps funded devices in use five years after the project ends",
         state="NW", programme="dp2019", attribute="earmark", value=Earmark(5, "project_end")),
    dict(name="the administration programme funds staff and support, not devices",
         state="BB", programme="dp2019-admin", attribute="costs", value=("staff", "support")),
    dict(name="DigitalPakt 2.0 also funds maintenance and support",
         state="BB", programme="dp2", attribute="costs", value=("investment", "maintenance", "support")),
    dict(name="a Land without a proof-of-use rule leaves the due date to the grant",
         state="BB", programme="dp2019", attribute="proof_due", value=None),
], ids=lambda case: case["name"])
def test_land_figures(case):
    programme = for_state(CATALOGUE, case["state"])[case["programme"]]

    assert getattr(programme, case["attribute"]) == case["value"]
    assert programme.state == case["state"]


@pytest.mark.parametrize(("state", "programme", "project_end", "due"), [
    ("BW", "dp2019", date(2024, 12, 31), date(2025, 3, 31)),
    ("BW", "dp2019", date(2024, 11, 30), date(2025, 2, 28)),
    ("NW", "dp2019-sofort", date(2021, 12, 31), date(2021, 9, 30)),
    ("NW", "dp2019-sofort", None, date(2021, 9, 30)),
    ("BW", "dp2019", None, None),
    ("BB", "dp2019", date(2024, 12, 31), None),
])
def test_the_proof_of_use_falls_due_by_the_programme_rule(state, programme, project_end, due):
    assert for_state(CATALOGUE, state)[programme].proof_due_on(project_end) == due


def test_the_earmark_ends_five_calendar_years_after_the_project():
    dp2019 = for_state(CATALOGUE, "NW")["dp2019"]

    assert dp2019.earmark_end(date(2024, 12, 31), commissioned=date(2021, 3, 1)) == date(2029, 12, 31)
    assert dp2019.earmark_end(None, commissioned=date(2021, 3, 1)) is None
    assert for_state(CATALOGUE, "NW")["dp2019-admin"].earmark_end(date(2024, 12, 31), None) is None


@pytest.mark.parametrize(("day", "months", "result"), [
    (date(2024, 12, 31), 3, date(2025, 3, 31)),
    (date(2024, 9, 30), 3, date(2024, 12, 30)),
    (date(2024, 11, 30), 3, date(2025, 2, 28)),
    (date(2023, 11, 30), 3, date(2024, 2, 29)),
    (date(2024, 2, 29), 60, date(2029, 2, 28)),
    (date(2024, 1, 15), 0, date(2024, 1, 15)),
])
def test_months_are_added_as_the_civil_code_counts_them(day, months, result):
    assert add_months(day, months) == result


def test_an_unknown_land_is_refused():
    with pytest.raises(ValueError, match="'XX' is not a federal state code"):
        for_state(CATALOGUE, "XX")


# Carrier overrides (carrier.funding in schools.yaml)

def test_a_carrier_without_overrides_gets_its_lands_figures():
    assert for_carrier(CATALOGUE, {"name": "Stadt Lindenau", "state": "BW"}) == for_state(CATALOGUE, "BW")


def test_a_carrier_overrides_own_share_window_and_earmark_of_one_programme():
    programmes = for_carrier(CATALOGUE, {"state": "BB", "funding": {"dp2019": {
        "own_share": "0.25", "window": {"start": date(2019, 5, 17), "end": "2024-06-30"}, "earmark": {"years": 7}}}})

    dp2019 = programmes["dp2019"]
    assert dp2019.own_share == Decimal("0.25")
    assert dp2019.window == Window(date(2019, 5, 17), date(2024, 6, 30))
    assert dp2019.earmark == Earmark(7, "project_end")
    assert programmes["dp2"] == for_state(CATALOGUE, "BB")["dp2"]


def test_a_carrier_override_replaces_a_lands_block_as_a_whole():
    programmes = for_carrier(CATALOGUE, {"state": "BW", "funding": {"dp2019": {"proof_due": {"fixed": "2025-06-30"}}}})

    assert programmes["dp2019"].proof_due == ProofDue(fixed=date(2025, 6, 30))
    assert programmes["dp2019"].window == Window(date(2019, 5, 17), date(2024, 12, 31))  # the Land's, untouched


def test_a_carrier_can_remove_a_cap():
    programmes = for_carrier(CATALOGUE, {"state": "NW", "funding": {"dp2019-lehrkraefte": {"device_gross_cap": None}}})

    assert programmes["dp2019-lehrkraefte"].device_gross_cap is None


@pytest.mark.parametrize(("carrier", "errors"), [
    ({"name": "X"}, ["schools.yaml carrier.state: missing (required)"]),
    ({"state": "BX"}, ["schools.yaml carrier.state: 'BX' is not a federal state code; one of: BW, BY, BE, BB, HB, "
                       "HH, HE, MV, NI, NW, RP, SL, SN, ST, SH, TH"]),
    ({"state": "BB", "funding": {"dp2O19": {}}},
     ["schools.yaml carrier.funding.dp2O19: 'dp2O19' is not a programme (did you mean 'dp2019'?)"]),
    ({"state": "BB", "funding": {"dp2019": {"own_share": 0.2}}},
     ['schools.yaml carrier.funding.dp2019.own_share: write the share in quotes, e.g. "0.2"']),
    ({"state": "BB", "funding": {"dp2019": {"earmark": {"jahre": 5}}}},
     ["schools.yaml carrier.funding.dp2019.earmark.jahre: unknown key 'jahre'; one of: years, after",
      "schools.yaml carrier.funding.dp2019.earmark.years: missing (required)"]),
    ({"state": "BB", "funding": {"dp2019": {"title": "Mine"}}},
     ["schools.yaml carrier.funding.dp2019.title: unknown key 'title'; one of: window, own_share, cost_basis, "
      "categories, costs, excluded, mobile_cap, infrastructure_first, concept_required, device_gross_cap, "
      "inventory_threshold, earmark, proof_due"]),
], ids=["the Land is required", "the Land must be a federal state code", "the programme must exist",
        "a share must be quoted", "an earmark needs its years", "a carrier cannot rename a programme"])
def test_a_wrong_carrier_override_names_its_path(carrier, errors):
    with pytest.raises(ProgrammesError) as caught:
        for_carrier(CATALOGUE, carrier)

    assert sorted(caught.value.errors) == sorted(errors)


def test_a_carrier_that_is_not_a_mapping_is_one_clear_error():
    with pytest.raises(ProgrammesError) as caught:
        for_carrier(CATALOGUE, "BB")

    assert caught.value.errors == ["schools.yaml carrier: must be a mapping (key: value)"]


def test_a_wrong_carrier_override_names_its_line_when_the_lines_are_known():
    lines = {("carrier",): 1, ("carrier", "funding", "dp2019", "own_share"): 7}

    with pytest.raises(ProgrammesError) as caught:
        for_carrier(CATALOGUE, {"state": "BB", "funding": {"dp2019": {"own_share": "2"}}},
                    line_of=lambda path: lines.get(path, 1))

    assert caught.value.errors == ["schools.yaml:7 carrier.funding.dp2019.own_share: must be at least 0 and at most 1"]


# The loader's errors, each at its file and line

def test_the_example_file_loads_with_its_land_override():
    catalogue = parse_catalogue(VALID)

    assert catalogue.programmes["demo"].window == Window(date(2019, 5, 17), date(2025, 12, 31))
    assert for_state(catalogue, "BW")["demo"].proof_due == ProofDue(months_after_end=3)
    assert for_state(catalogue, "BB")["demo"].proof_due is None


@pytest.mark.parametrize("case", [
    dict(name="a share written as a number must be quoted",
         old='own_share: "0.10"', new="own_share: 0.10",
         errors=['programmes.yaml:6 programmes.demo.own_share: write the share in quotes, e.g. "0.1"']),
    dict(name="an amount written as a number must be quoted",
         old='inventory_threshold: "800.00"', new="inventory_threshold: 800",
         errors=['programmes.yaml:15 programmes.demo.inventory_threshold: write the amount in quotes, e.g. "800"']),
    dict(name="a share lies between 0 and 1",
         old='own_share: "0.10"', new='own_share: "1.5"',
         errors=["programmes.yaml:6 programmes.demo.own_share: must be at least 0 and at most 1"]),
    dict(name="a device cap is more than zero",
         old="device_gross_cap: null", new='device_gross_cap: "0"',
         errors=["programmes.yaml:14 programmes.demo.device_gross_cap: must be more than 0"]),
    dict(name="a misspelt category is named with a suggestion",
         old="[network, wlan, mobile]", new="[network, wlan, mobil]",
         errors=["programmes.yaml:8 programmes.demo.categories[2]: 'mobil' is not a funding category "
                 "(did you mean 'mobile'?)"]),
    dict(name="an unknown cost type lists the known ones",
         old="costs: [investment]", new="costs: [investment, rent]",
         errors=["programmes.yaml:9 programmes.demo.costs[1]: 'rent' is not a cost type; one of: investment, "
                 "recurring, maintenance, support, staff"]),
    dict(name="a window cannot end before it starts",
         old="end: 2025-12-31", new="end: 2018-12-31",
         errors=["programmes.yaml:5 programmes.demo.window.end: 2018-12-31 is before the start (2019-05-17)"]),
    dict(name="an impossible date is not a date",
         old="start: 2019-05-17, end: 2024-05-16", new="start: 2019-02-30, end: 2024-05-16",
         errors=["programmes.yaml:4 programmes.demo.period.start: '2019-02-30' is not a date (YYYY-MM-DD)"]),
    dict(name="a proof-of-use rule has months or a fixed date, not both",
         old="{months_after_end: 3}", new="{months_after_end: 3, fixed: 2025-03-31}",
         errors=["programmes.yaml:21 programmes.demo.states.BW.proof_due: give either months_after_end or fixed, "
                 "not both"]),
    dict(name="an empty proof-of-use rule asks for one of them",
         old="{months_after_end: 3}", new="{}",
         errors=["programmes.yaml:21 programmes.demo.states.BW.proof_due: give months_after_end or fixed "
                 "(or write proof_due: null)"]),
    dict(name="a Land override must name a federal state",
         old="BW:", new="BX:",
         errors=["programmes.yaml:19 programmes.demo.states.BX: 'BX' is not a federal state code; one of: BW, BY, "
                 "BE, BB, HB, HH, HE, MV, NI, NW, RP, SL, SN, ST, SH, TH"]),
    dict(name="a misspelt key is unknown and the real one missing",
         old="title: Demo", new="titel: Demo",
         errors=["programmes.yaml:2 programmes.demo.title: missing (required)",
                 "programmes.yaml:3 programmes.demo.titel: unknown key 'titel' (did you mean 'title'?)"]),
    dict(name="every parameter must be written out, so none is silently defaulted",
         old="    cost_basis: gross\n", new="",
         errors=["programmes.yaml:2 programmes.demo.cost_basis: missing (required)"]),
    dict(name="an earmark counts from the project end or the commissioning",
         old="after: project_end", new="after: project_ende",
         errors=["programmes.yaml:16 programmes.demo.earmark.after: 'project_ende' is not a starting point for the "
                 "earmark (did you mean 'project_end'?)"]),
    dict(name="a flag is true or false, not a number",
         old="infrastructure_first: true", new="infrastructure_first: 1",
         errors=["programmes.yaml:12 programmes.demo.infrastructure_first: '1' is not true or false"]),
    dict(name="a block written as a number is not a mapping",
         old="earmark: {years: 5, after: project_end}", new="earmark: 5",
         errors=["programmes.yaml:16 programmes.demo.earmark: must be a mapping (key: value)"]),
    dict(name="a duplicate key names the line of the first",
         old="concept_required: true", new='concept_required: true\n    own_share: "0.20"',
         errors=["programmes.yaml:14 programmes.demo.own_share: duplicate key 'own_share' (first at line 6)"]),
    dict(name="a broken flow list is a YAML error at its line",
         old="categories: [network, wlan, mobile]", new="categories: [network, wlan, mobile",
         errors=["programmes.yaml:9 invalid YAML: expected ',' or ']', but got ':' "
                 "(while parsing a flow sequence at line 8)"]),
], ids=lambda case: case["name"])
def test_loader_errors_name_file_line_and_path(case):
    assert errors_of(edited(case["old"], case["new"])) == case["errors"]


def test_every_problem_is_reported_at_once_in_line_order():
    text = edited("own_share: \"0.10\"", "own_share: 0.10").replace("cost_basis: gross", "cost_basis: brutto")

    assert errors_of(text) == [
        'programmes.yaml:6 programmes.demo.own_share: write the share in quotes, e.g. "0.1"',
        "programmes.yaml:7 programmes.demo.cost_basis: 'brutto' is not a cost basis; one of: gross, net"]


@pytest.mark.parametrize(("text", "error"), [
    ("", "programmes.yaml:1 the file is empty"),
    ("- a\n- b\n", "programmes.yaml:1 the document must be a mapping with the key programmes"),
    ("programmes:\n  demo: 3\n", "programmes.yaml:2 programmes.demo: must be a mapping (key: value)"),
])
def test_a_file_of_the_wrong_shape_is_one_clear_error(text, error):
    assert errors_of(text) == [error]


def test_a_file_on_disk_is_named_by_its_own_name(tmp_path):
    path = tmp_path / "laender.yaml"
    path.write_text(edited("cost_basis: gross", "cost_basis: brutto"), encoding="utf-8")

    with pytest.raises(ProgrammesError) as caught:
        load_catalogue(path)

    assert caught.value.errors == [
        "laender.yaml:7 programmes.demo.cost_basis: 'brutto' is not a cost basis; one of: gross, net"]
    assert str(caught.value) == caught.value.errors[0]


def test_a_missing_file_is_one_clear_error(tmp_path):
    with pytest.raises(ProgrammesError, match="^nowhere.yaml: cannot be read"):
        load_catalogue(tmp_path / "nowhere.yaml")
