"""The demo carrier: the shipped schools.yaml is a sound declaration, and its generated fleet is realistic."""

import re
import time
from collections import Counter
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import yaml
from netaddr import EUI, IPAddress, IPNetwork, IPSet

from inventory.demo import generate_fleet
from inventory.formats.records import COLUMNS, mac_tokens
from inventory.enums import FEDERAL_STATES, DeviceKind, DeviceStatus, FundingCategory, RoomKind, SchoolType

ROOT = Path(__file__).resolve().parents[2]
PRIVATE = IPSet(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"])
SECRET_KEYS = {"community", "auth_key", "priv_key"}
REFERENCE = re.compile(r"\$\{[A-Z][A-Z0-9_]*\}")
MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")
HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
PROGRAMMES = {"dp2019", "dp2019-sofort", "dp2019-admin", "dp2019-lehrkraefte", "dp2"}


@pytest.fixture(scope="module")
def text():
    return (ROOT / "schools.yaml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def declaration(text):
    return yaml.safe_load(text)


@pytest.fixture(scope="module")
def schools(declaration):
    return {school["code"]: school for school in declaration["schools"]}


@pytest.fixture(scope="module")
def grants(declaration):
    return {grant["ref"]: grant for grant in declaration["grants"]}


@pytest.fixture(scope="module")
def fleet(declaration):
    return generate_fleet(declaration)


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# --- schools.yaml ---------------------------------------------------------------------------------------------

def test_the_declaration_has_the_designed_keys(declaration):
    assert set(declaration) == {"carrier", "profiles", "schools", "grants"}
    assert declaration["carrier"]["state"] in FEDERAL_STATES


def test_six_schools_of_the_expected_types(declaration):
    names = [school["name"] for school in declaration["schools"]]
    assert len(names) == 6
    assert sum("Grundschule" in name for name in names) == 3
    assert sum("Oberschule" in name for name in names) == 1
    assert sum("Gymnasium" in name for name in names) == 1
    vocational = [s for s in declaration["schools"] if s["type"] == SchoolType.VOCATIONAL]
    assert [s["name"] for s in vocational] == ["Oberstufenzentrum Lindenau"]
    assert all(s["type"] in set(SchoolType) for s in declaration["schools"])


def test_school_codes_and_numbers(declaration):
    codes = [school["code"] for school in declaration["schools"]]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)+", code) for code in codes)
    numbers = [school["number"] for school in declaration["schools"]]
    assert all(isinstance(n, str) and re.fullmatch(r"\d{6}", n) for n in numbers)
    assert len(set(numbers)) == len(numbers)


def test_rooms_are_complete_and_unique_per_school(declaration):
    profiles = declaration["profiles"]
    for school in declaration["schools"]:
        rooms = school["rooms"]
        assert 20 <= len(rooms) <= 60, school["code"]
        codes = [room["code"] for room in rooms]
        assert len(set(codes)) == len(codes), school["code"]
        for room in rooms:
            assert {"code", "name", "kind", "building", "floor", "profile"} <= set(room), room
            assert set(room) <= {"code", "name", "kind", "building", "floor", "profile", "items", "target"}, room
            assert room["kind"] in set(RoomKind)
            assert isinstance(room["floor"], int)
            assert room["profile"] in profiles


def test_profiles_name_device_kinds(declaration):
    profiles = declaration["profiles"]
    assert profiles["klassenraum"]["items"] == {
        "interactive_display": 1, "document_camera": 1, "access_point": 1, "laptop": 1}
    assert profiles["fachraum_informatik"]["items"]["desktop"] == 30
    for name, profile in profiles.items():
        assert profile["label"], name
        for kind, count in profile["items"].items():
            assert kind in set(DeviceKind), (name, kind)
            assert isinstance(count, int) and count > 0


def test_subnets_are_private_and_never_overlap(declaration):
    networks = [IPNetwork(net) for school in declaration["schools"] for net in school["subnets"]]
    assert all(1 <= len(school["subnets"]) <= 3 for school in declaration["schools"])
    assert all(IPSet([net]).issubset(PRIVATE) for net in networks)
    assert IPSet(networks).size == sum(net.size for net in networks)


def test_discovery_settings(declaration):
    schedules = set()
    for school in declaration["schools"]:
        discovery = school["discovery"]
        nets = [IPNetwork(net) for net in school["subnets"]]
        minute, hour, day, month, weekdays = discovery["schedule"].split()
        assert int(hour) < 7 and weekdays == "1-5"
        schedules.add(discovery["schedule"])
        assert (discovery["timeout"], discovery["retries"], discovery["concurrency"], discovery["port"],
                discovery["missing_after"]) == (1.0, 1, 512, 161, 3)
        for address in discovery["routers"] + discovery["switches"]:
            assert any(IPAddress(address) in net for net in nets), (school["code"], address)
        assert [entry["version"] for entry in discovery["snmp"]] == ["2c", 3]
    assert len(schedules) == 6


def test_secrets_are_only_environment_references(declaration, text):
    names = set()
    for school in declaration["schools"]:
        for entry in school["discovery"]["snmp"]:
            for key in SECRET_KEYS & set(entry):
                assert REFERENCE.fullmatch(entry[key]), (school["code"], key)
                names.add(entry[key])
    assert names == {"${FLEET_SNMP_COMMUNITY}", "${FLEET_SNMP_V3_AUTH}", "${FLEET_SNMP_V3_PRIV}"}
    found = re.findall(r"(community|auth_key|priv_key):\s*(?:\"([^\"]*)\"|([^,}\s]+))", text)
    assert len(found) == 18
    for key, quoted, bare in found:
        assert REFERENCE.fullmatch(quoted or bare), (key, quoted or bare)


def test_grants_are_well_formed(declaration, schools):
    refs = [grant["ref"] for grant in declaration["grants"]]
    assert len(set(refs)) == len(refs)
    for grant in declaration["grants"]:
        assert re.fullmatch(r"DP-20\d\d-\d{4}", grant["ref"])
        assert grant["programme"] in PROGRAMMES
        assert set(grant["schools"]) <= set(schools)
        assert isinstance(grant["amount"], str) and Decimal(grant["amount"]) > 0
        assert Decimal(grant["rate"]) == Decimal("0.90")
        assert date(2020, 1, 1) <= _day(grant["decided"]) < _day(grant["project_end"])
    assert {grant["programme"] for grant in declaration["grants"]} >= {"dp2019", "dp2019-sofort", "dp2019-lehrkraefte"}


# --- the generated fleet --------------------------------------------------------------------------------------

def test_the_same_seed_gives_the_same_fleet(declaration, fleet):
    assert generate_fleet(declaration) == fleet
    assert generate_fleet(declaration, seed=7) == generate_fleet(declaration, seed=7)
    assert generate_fleet(declaration, seed=7) != fleet


@pytest.mark.parametrize("seed", [2020, 1, 99])
def test_about_nine_hundred_devices(declaration, seed):
    assert 800 <= len(generate_fleet(declaration, seed)) <= 1000


def test_generation_is_fast(declaration):
    started = time.perf_counter()
    generate_fleet(declaration)
    assert time.perf_counter() - started < 0.5


def test_rows_use_the_import_columns_as_text(fleet):
    for row in fleet:
        assert tuple(row) == COLUMNS
        assert all(isinstance(value, str) for value in row.values())


def test_values_come_from_the_vocabularies(fleet, schools):
    for row in fleet:
        assert row["kind"] in set(DeviceKind)
        assert row["status"] in set(DeviceStatus)
        assert row["category"] in set(FundingCategory) | {""}
        assert row["room"] in {room["code"] for room in schools[row["school"]]["rooms"]}
        assert row["vendor"] and row["model"]


def test_statuses_vary_but_most_devices_are_in_use(fleet):
    statuses = Counter(row["status"] for row in fleet)
    assert {"active", "repair", "loaned", "in_stock", "retired", "ordered"} <= set(statuses)
    assert statuses["active"] > 0.8 * len(fleet)


def test_kinds_cover_a_school_network(fleet):
    kinds = Counter(row["kind"] for row in fleet)
    for kind in ("interactive_display", "ops_pc", "document_camera", "access_point", "laptop", "tablet",
                 "desktop", "switch", "router", "printer", "server"):
        assert kinds[kind] > 0, kind
    assert kinds["server"] == 6
    assert kinds["ops_pc"] > kinds["interactive_display"] / 2


def test_serials_asset_tags_and_macs_are_unique(fleet):
    serials = [row["serial"] for row in fleet if row["serial"]]
    tags = [row["asset_tag"] for row in fleet]
    macs = [mac for row in fleet for mac, _kind in mac_tokens(row["macs"])]
    assert len(set(serials)) == len(serials)
    assert all(re.fullmatch(r"INV-20\d\d-\d{5}", tag) for tag in tags)
    assert len(set(tags)) == len(tags)
    assert len(set(macs)) == len(macs) > 700


def test_macs_are_canonical_universal_and_registered(fleet):
    for row in fleet:
        for mac, _kind in mac_tokens(row["macs"]):
            assert MAC.fullmatch(mac), mac
            eui = EUI(mac)
            assert not eui.words[0] & 2, mac  # never locally administered
            assert not eui.words[0] & 1, mac  # never multicast
            assert eui.oui.registration().org


def test_display_macs_come_from_their_makers(fleet):
    makers = {"SMART Technologies": "SMART", "Promethean": "Promethean", "ViewSonic": "ViewSonic",
              "Clevertouch": "Guangzhou Shiyuan", "BenQ": "BenQ", "Samsung": "Samsung"}
    for row in fleet:
        if row["kind"] == "interactive_display" and row["macs"]:
            org = " ".join(EUI(mac_tokens(row["macs"])[0][0]).oui.registration().org.split())  # the registry uses no-break spaces
            assert makers[row["vendor"]] in org


def test_only_networked_devices_have_macs(fleet):
    for row in fleet:
        if row["kind"] == "document_camera" or row["status"] == "ordered":
            assert row["macs"] == row["ip"] == row["hostname"] == ""
        elif row["kind"] in ("laptop", "tablet", "desktop", "access_point", "interactive_display", "ops_pc"):
            assert row["macs"], row
    assert any(len(mac_tokens(row["macs"])) == 2 for row in fleet if row["kind"] == "laptop")


def test_addresses_lie_in_the_school_and_never_repeat_there(fleet, schools):
    seen: dict[str, set] = {}
    for row in fleet:
        if not row["ip"]:
            continue
        assert row["status"] == "active" and row["macs"], row
        address = IPAddress(row["ip"])
        nets = [IPNetwork(net) for net in schools[row["school"]]["subnets"]]
        assert any(address in net and address not in (net.network, net.broadcast) for net in nets), row
        assert row["ip"] not in seen.setdefault(row["school"], set()), row
        seen[row["school"]].add(row["ip"])


def test_routers_and_switches_sit_where_discovery_looks(fleet, schools):
    for code, school in schools.items():
        discovery = school["discovery"]
        assert {r["ip"] for r in fleet if r["school"] == code and r["kind"] == "router"} == set(discovery["routers"])
        assert {r["ip"] for r in fleet if r["school"] == code and r["kind"] == "switch"} == set(discovery["switches"])


def test_hostnames_fit_linuxmuster(fleet):
    names = [row["hostname"] for row in fleet if row["hostname"] and row["status"] != "retired"]
    assert all(len(name) <= 15 and HOSTNAME.fullmatch(name) for name in names)
    assert len(set(names)) == len(names)


def test_every_ops_pc_sits_in_its_display(fleet):
    displays = {row["serial"]: row for row in fleet if row["kind"] == "interactive_display" and row["serial"]}
    for row in fleet:
        if row["kind"] == "ops_pc":
            display = displays[row["parent_serial"]]
            assert (display["school"], display["room"]) == (row["school"], row["room"])
        else:
            assert row["parent_serial"] == ""


def test_gross_is_net_plus_vat(fleet):
    for row in fleet:
        net, gross = Decimal(row["price_net"]), Decimal(row["price_gross"])
        assert net.as_tuple().exponent == gross.as_tuple().exponent == -2
        assert gross == (net * Decimal("1.19")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.mark.parametrize("kind, low, high", [
    ("interactive_display", 2900, 5500), ("ops_pc", 700, 900), ("document_camera", 300, 600),
    ("access_point", 140, 400), ("laptop", 349, 1100), ("tablet", 350, 450), ("switch", 800, 3000),
    ("printer", 300, 1500), ("desktop", 550, 850),
])
def test_prices_are_realistic(fleet, kind, low, high):
    prices = [Decimal(row["price_net"]) for row in fleet if row["kind"] == kind]
    assert prices and low <= min(prices) and max(prices) <= high


def test_dates_lie_in_the_rollout(fleet):
    for row in fleet:
        if row["status"] == "ordered":
            assert row["serial"] == row["purchase_date"] == row["invoice"] == row["warranty_end"] == ""
            assert row["asset_tag"] and row["supplier"]
            continue
        bought, warranty = date.fromisoformat(row["purchase_date"]), date.fromisoformat(row["warranty_end"])
        assert date(2020, 9, 1) <= bought <= date(2024, 6, 30)
        assert bought.weekday() < 5
        assert (warranty.year - bought.year, warranty.month) in ((3, bought.month), (5, bought.month))
        assert row["asset_tag"].startswith(f"INV-{bought.year}-")
        assert row["supplier"] and row["invoice"]


def test_one_invoice_has_one_date_and_supplier(fleet):
    invoices: dict[str, tuple] = {}
    for row in fleet:
        if row["invoice"]:
            key = (row["purchase_date"], row["supplier"], row["school"])
            assert invoices.setdefault(row["invoice"], key) == key


def test_devices_are_funded_by_a_fitting_grant(fleet, schools, grants):
    for row in fleet:
        room_kind = {room["code"]: room["kind"] for room in schools[row["school"]]["rooms"]}[row["room"]]
        if not row["grant"]:
            assert row["category"] == ""
            continue
        grant = grants[row["grant"]]
        assert row["school"] in grant["schools"]
        assert row["kind"] != "printer" and room_kind != "admin"
        if row["purchase_date"]:
            assert _day(grant["decided"]) <= date.fromisoformat(row["purchase_date"]) <= _day(grant["project_end"])
        if row["kind"] == "tablet":
            assert (grant["programme"], row["category"]) == ("dp2019-sofort", "mobile")
        elif row["kind"] == "laptop" and room_kind == "storage":
            assert (grant["programme"], row["category"]) == ("dp2019-lehrkraefte", "mobile")
            assert Decimal(row["price_gross"]) <= 500  # the teacher-device programme's cap
        else:
            assert grant["programme"] == "dp2019"
            expected = {"interactive_display": "display", "ops_pc": "display", "document_camera": "display",
                        "projector": "display", "access_point": "wlan", "switch": "network", "router": "network",
                        "laptop": "mobile", "desktop": "work_equipment", "server": "server"}
            assert row["category"] == expected[row["kind"]], row


def test_grant_amounts_stay_within_the_funding_rate(fleet, grants):
    spent: Counter = Counter()
    for row in fleet:
        if row["grant"] and row["status"] != "ordered":
            spent[row["grant"]] += Decimal(row["price_gross"])
    for ref, grant in grants.items():
        assert Decimal(grant["amount"]) <= Decimal(grant["rate"]) * spent[ref], ref


def test_loans_name_a_contract_never_a_person(fleet):
    loans = [row for row in fleet if row["status"] == "loaned"]
    assert loans and all(re.fullmatch(r"Leihvertrag (SL|LK)-20\d\d-\d{4}", row["notes"]) for row in loans)


def test_retired_devices_have_a_successor(fleet):
    tags = {row["asset_tag"]: row for row in fleet}
    for row in fleet:
        if row["status"] == "retired":
            successor = tags[row["notes"].rsplit(" ", 1)[-1]]
            assert (successor["status"], successor["room"], successor["grant"]) == ("active", row["room"], "")
            assert successor["purchase_date"] > row["purchase_date"]


def test_a_bare_declaration_gives_an_unfunded_fleet():
    declaration = {
        "profiles": {"klassenraum": {"label": "Klassenraum", "items": {"interactive_display": 1, "laptop": 2}}},
        "schools": [{"code": "gs-test", "subnets": ["192.168.7.0/24"],
                     "rooms": [{"code": "R1", "kind": "classroom", "profile": "klassenraum"},
                               {"code": "R2", "kind": "classroom", "profile": "unknown"}]}],
    }
    rows = generate_fleet(declaration, seed=1)
    assert {row["room"] for row in rows} == {"R1"}
    assert all(row["grant"] == row["category"] == "" for row in rows)
    assert all(IPAddress(row["ip"]) in IPNetwork("192.168.7.0/24") for row in rows if row["ip"])
    assert generate_fleet({}) == []


def test_wifi_clients_carry_their_mac_as_a_wlan_interface(fleet):
    kinds = {row["kind"]: mac_tokens(row["macs"]) for row in fleet if row["macs"]}
    assert {kind for _mac, kind in kinds["tablet"]} == {"wlan"}
    assert kinds["laptop"][-1][1] == "wlan"
    assert {kind for _mac, kind in kinds["access_point"]} == {"lan"}
