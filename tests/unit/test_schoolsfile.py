"""schools.yaml: a valid declaration becomes dataclasses; every mistake is one line naming file, line and path."""

import dataclasses
from datetime import date
from decimal import Decimal
from textwrap import dedent

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory import yamlmarks
from inventory.errors import FileRejected
from inventory.schoolsfile import (Carrier, DiscoverySettings, Grant, Profile, Room, SchoolsFileError, SnmpCredential,
                                   load_declaration, parse_declaration)

ENV = {"GS_LINDEN_COMMUNITY": "s3cret-community", "GS_LINDEN_V3_AUTH": "auth-passphrase",
       "GS_LINDEN_V3_PRIV": "priv-passphrase"}

# The example from DESIGN.md plus a second school; the line numbers below are asserted exactly.
VALID = dedent("""\
    carrier: {name: Stadt Lindenau, state: BB}
    profiles:
      klassenraum: {label: Klassenraum, items: {interactive_display: 1, document_camera: 1, access_point: 1, laptop: 1}}
    schools:
      - code: gs-linden
        name: Grundschule Am Lindenhof
        number: "112233"
        type: general
        subnets: [10.12.0.0/22]
        discovery:
          schedule: "30 6 * * 1-5"
          timeout: 1.0
          retries: 1
          concurrency: 512
          port: 161
          missing_after: 3
          snmp:
            - {version: 2c, community: "${GS_LINDEN_COMMUNITY}"}
            - {version: 3, user: fleet, auth_protocol: SHA, auth_key: "${GS_LINDEN_V3_AUTH}",
               priv_protocol: AES, priv_key: "${GS_LINDEN_V3_PRIV}"}
          routers: [10.12.0.1]
          switches: [10.12.0.2]
        rooms:
          - {code: A101, name: Klasse 1a, kind: classroom, building: A, floor: 1, profile: klassenraum}
          - {code: A102, name: Klasse 1b, building: A, floor: 1, profile: klassenraum}
        concept_date: 2021-03-15
      - code: bbs-nord
        name: Berufsbildende Schule Nord
        type: vocational
        subnets: [10.40.0.0/16]
    grants:
      - {ref: DP-2020-0042, programme: dp2019, schools: [gs-linden, bbs-nord], decided: 2020-09-01,
         amount: "137000.00", rate: "0.90", project_end: 2024-12-31, proof_due: 2025-03-31}
    """)


def edited(*replacements: tuple[str, str]) -> str:
    """VALID with each (old, new) applied; old must occur exactly once so a test cannot edit the wrong line."""
    text = VALID
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def errors_of(text: str, environ=None) -> list[str]:
    with pytest.raises(SchoolsFileError) as caught:
        parse_declaration(text, environ=ENV if environ is None else environ)
    return caught.value.errors


# A valid declaration

def test_the_design_example_loads_into_frozen_dataclasses():
    declaration = parse_declaration(VALID, environ=ENV)

    assert declaration.carrier == Carrier(name="Stadt Lindenau", state="BB")
    assert declaration.profiles == {"klassenraum": Profile(
        code="klassenraum", label="Klassenraum",
        items={"interactive_display": 1, "document_camera": 1, "access_point": 1, "laptop": 1})}
    linden = declaration.school("gs-linden")
    assert (linden.name, linden.number, linden.type) == ("Grundschule Am Lindenhof", "112233", "general")
    assert linden.subnets == ("10.12.0.0/22",)
    assert linden.concept_date == date(2021, 3, 15)
    assert linden.discovery == DiscoverySettings(
        schedule="30 6 * * 1-5", timeout=1.0, retries=1, concurrency=512, port=161, missing_after=3,
        snmp=(SnmpCredential(version="2c", community="${GS_LINDEN_COMMUNITY}"),
              SnmpCredential(version="3", user="fleet", auth_protocol="SHA", auth_key="${GS_LINDEN_V3_AUTH}",
                             priv_protocol="AES", priv_key="${GS_LINDEN_V3_PRIV}")),
        routers=("10.12.0.1",), switches=("10.12.0.2",))
    assert linden.rooms == (
        Room(code="A101", name="Klasse 1a", kind="classroom", building="A", floor=1, profile="klassenraum"),
        Room(code="A102", name="Klasse 1b", kind="classroom", building="A", floor=1, profile="klassenraum"))
    assert declaration.grants == (Grant(
        ref="DP-2020-0042", programme="dp2019", schools=("gs-linden", "bbs-nord"), decided=date(2020, 9, 1),
        amount=Decimal("137000.00"), rate=Decimal("0.90"), project_end=date(2024, 12, 31),
        proof_due=date(2025, 3, 31)),)


def test_optional_keys_take_their_defaults():
    nord = parse_declaration(VALID, environ=ENV).school("bbs-nord")

    assert nord.number is None
    assert nord.discovery == DiscoverySettings()
    assert (nord.discovery.timeout, nord.discovery.retries, nord.discovery.concurrency) == (1.0, 1, 512)
    assert (nord.discovery.port, nord.discovery.missing_after, nord.discovery.schedule) == (161, 3, None)
    assert nord.rooms == ()
    assert nord.concept_date is None


def test_an_undeclared_school_is_none():
    assert parse_declaration(VALID, environ=ENV).school("gs-nowhere") is None


def test_the_declaration_is_frozen():
    declaration = parse_declaration(VALID, environ=ENV)
    with pytest.raises(dataclasses.FrozenInstanceError):
        declaration.carrier.state = "BY"


def test_only_carrier_and_schools_are_required():
    declaration = parse_declaration("carrier: {name: X, state: by}\nschools: [{code: a, name: A, type: General}]\n",
                                    environ={})

    assert declaration.carrier.state == "BY"
    assert declaration.school("a").type == "general"
    assert (declaration.profiles, declaration.grants) == ({}, ())


@pytest.mark.parametrize(("written", "stored"), [
    ("10.12.0.0/22", "10.12.0.0/22"),
    ("10.12.1.7/22", "10.12.0.0/22"),
    ("2001:DB8:0::/32", "2001:db8::/32"),
])
def test_subnets_are_stored_as_canonical_cidr(written, stored):
    declaration = parse_declaration(edited(("[10.12.0.0/22]", f"[{written}]")), environ=ENV)

    assert declaration.school("gs-linden").subnets == (stored,)


def test_router_addresses_are_stored_in_canonical_form():
    declaration = parse_declaration(edited(("routers: [10.12.0.1]", "routers: [10.12.0.1, '2001:DB8::0:1']")),
                                    environ=ENV)

    assert declaration.school("gs-linden").discovery.routers == ("10.12.0.1", "2001:db8::1")


def test_anchors_and_merge_keys_share_settings_between_schools():
    text = edited(("    discovery:\n      schedule", "    discovery: &standard\n      schedule"),
                  ("    subnets: [10.40.0.0/16]\n", "    subnets: [10.40.0.0/16]\n"
                                                    "    discovery: {<<: *standard, port: 1161}\n"))
    nord = parse_declaration(text, environ=ENV).school("bbs-nord")

    assert nord.discovery.port == 1161
    assert nord.discovery.schedule == "30 6 * * 1-5"
    assert len(nord.discovery.snmp) == 2


# Money

@pytest.mark.parametrize(("written", "amount"), [
    ('"137000.00"', Decimal("137000.00")),
    ("137000", Decimal("137000")),
    ("137000.5", Decimal("137000.5")),
    ("88732.10", Decimal("88732.1")),
])
def test_amounts_become_decimals_from_text_integers_and_floats(written, amount):
    declaration = parse_declaration(edited(('amount: "137000.00"', f"amount: {written}")), environ=ENV)

    assert declaration.grants[0].amount == amount
    assert isinstance(declaration.grants[0].amount, Decimal)


def test_a_rate_written_as_a_float_is_an_exact_decimal():
    declaration = parse_declaration(edited(('rate: "0.90"', "rate: 0.9")), environ=ENV)

    assert declaration.grants[0].rate == Decimal("0.9")


@pytest.mark.parametrize(("written", "message"), [
    ("137000.005", "'137000.005' is not a decimal number with at most 2 decimal places, e.g. \"137000.00\""),
    ('"137.000,00"', "'137.000,00' is not a decimal number with at most 2 decimal places, e.g. \"137000.00\""),
    ("-5", "'-5' is not a decimal number with at most 2 decimal places, e.g. \"137000.00\""),
    ("0", "must be more than 0 and at most 9999999999.99"),
    ('"10000000000.00"', "must be more than 0 and at most 9999999999.99"),
])
def test_bad_amounts_are_rejected(written, message):
    assert errors_of(edited(('amount: "137000.00"', f"amount: {written}"))) == [
        f"schools.yaml:33 grants[0].amount: {message}"]


@pytest.mark.parametrize("written", ['"0"', "90", "1.5"])
def test_a_rate_must_be_more_than_zero_and_at_most_one(written):
    assert errors_of(edited(('rate: "0.90"', f"rate: {written}"))) == [
        "schools.yaml:33 grants[0].rate: must be more than 0 and at most 1"]


# Secrets

def test_secrets_stay_references_and_resolve_substitutes_them():
    v2c, v3 = parse_declaration(VALID, environ=ENV).school("gs-linden").discovery.snmp

    assert v2c.community == "${GS_LINDEN_COMMUNITY}"
    assert v2c.resolve(ENV) == {"version": "2c", "community": "s3cret-community", "user": None,
                                "auth_protocol": None, "auth_key": None, "priv_protocol": None, "priv_key": None}
    assert v3.resolve(ENV)["auth_key"] == "auth-passphrase"
    assert v3.resolve(ENV)["priv_key"] == "priv-passphrase"


def test_no_secret_value_appears_in_the_declaration_repr():
    text = repr(parse_declaration(VALID, environ=ENV))

    assert not any(secret in text for secret in ENV.values())


def test_resolve_names_a_variable_that_is_gone_without_showing_any_secret():
    v3 = parse_declaration(VALID, environ=ENV).school("gs-linden").discovery.snmp[1]

    with pytest.raises(SchoolsFileError) as caught:
        v3.resolve({"GS_LINDEN_V3_AUTH": "auth-passphrase"})

    assert caught.value.errors == ["SNMP priv_key: environment variable GS_LINDEN_V3_PRIV is not set"]


def test_the_environment_defaults_to_the_process_environment(monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)

    v2c = parse_declaration(VALID).school("gs-linden").discovery.snmp[0]

    assert v2c.resolve()["community"] == "s3cret-community"


@pytest.mark.parametrize(("environ", "expected"), [
    ({**ENV, "GS_LINDEN_COMMUNITY": ""},
     ["schools.yaml:18 schools[0].discovery.snmp[0].community: environment variable GS_LINDEN_COMMUNITY is empty"]),
    ({"GS_LINDEN_COMMUNITY": "x"},
     ["schools.yaml:19 schools[0].discovery.snmp[1].auth_key: environment variable GS_LINDEN_V3_AUTH is not set",
      "schools.yaml:20 schools[0].discovery.snmp[1].priv_key: environment variable GS_LINDEN_V3_PRIV is not set"]),
])
def test_a_reference_to_an_unset_variable_names_the_variable(environ, expected):
    assert errors_of(VALID, environ) == expected


@pytest.mark.parametrize(("old", "new", "line", "key"), [
    ('community: "${GS_LINDEN_COMMUNITY}"', "community: public", 18, "snmp[0].community"),
    ('auth_key: "${GS_LINDEN_V3_AUTH}"', "auth_key: hunter2hunter2", 19, "snmp[1].auth_key"),
    ('priv_key: "${GS_LINDEN_V3_PRIV}"', 'priv_key: "x${GS_LINDEN_V3_PRIV}"', 20, "snmp[1].priv_key"),
    ('community: "${GS_LINDEN_COMMUNITY}"', "community: 12345", 18, "snmp[0].community"),
])
def test_a_literal_secret_is_rejected_without_repeating_it(old, new, line, key):
    errors = errors_of(edited((old, new)))

    assert errors == [f"schools.yaml:{line} schools[0].discovery.{key}: "
                      "must be an ${ENV} reference, not a literal secret"]
    assert new.split(": ")[1] not in errors[0]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('{version: 2c, community: "${GS_LINDEN_COMMUNITY}"}', "{version: 2c}",
     "18 schools[0].discovery.snmp[0].community: missing (required for SNMP version 2c)"),
    ('{version: 2c, community: "${GS_LINDEN_COMMUNITY}"}',
     '{version: 2c, community: "${GS_LINDEN_COMMUNITY}", user: fleet}',
     "18 schools[0].discovery.snmp[0].user: only used with SNMP version 3"),
    ("{version: 3, user: fleet,", '{version: 3, community: "${GS_LINDEN_COMMUNITY}", user: fleet,',
     "19 schools[0].discovery.snmp[1].community: only used with SNMP version 2c"),
    ("{version: 3, user: fleet,", "{version: 3,",
     "19 schools[0].discovery.snmp[1].user: missing (required for SNMP version 3)"),
    ('auth_protocol: SHA, auth_key: "${GS_LINDEN_V3_AUTH}",', "",
     "20 schools[0].discovery.snmp[1].priv_protocol: privacy needs authentication: add auth_protocol and auth_key"),
    ('auth_key: "${GS_LINDEN_V3_AUTH}",', "",
     "19 schools[0].discovery.snmp[1].auth_key: missing (required with auth_protocol)"),
    ("priv_protocol: AES, ", "",
     "19 schools[0].discovery.snmp[1].priv_protocol: missing (required with priv_key)"),
    ("{version: 2c,", "{version: 1,",
     "18 schools[0].discovery.snmp[0].version: '1' is not an SNMP version: use 2c or 3"),
    ("auth_protocol: SHA,", "auth_protocol: SHA265,",
     "19 schools[0].discovery.snmp[1].auth_protocol: 'SHA265' is not a authentication protocol "
     "(did you mean 'SHA256'?)"),
    ("priv_protocol: AES,", "priv_protocol: BLOWFISH,",
     "20 schools[0].discovery.snmp[1].priv_protocol: 'BLOWFISH' is not a privacy protocol; "
     "one of: DES, 3DES, AES, AES192, AES256"),
])
def test_snmp_credentials_must_fit_their_version(old, new, expected):
    assert errors_of(edited((old, new))) == [f"schools.yaml:{expected}"]


def test_protocol_names_are_matched_without_regard_to_case():
    v3 = parse_declaration(edited(("auth_protocol: SHA,", "auth_protocol: sha256,")), environ=ENV
                           ).school("gs-linden").discovery.snmp[1]

    assert v3.auth_protocol == "SHA256"


# Cross-checks

def test_duplicate_school_codes_are_rejected_naming_the_first():
    assert errors_of(edited(("code: bbs-nord", "code: gs-linden"), ("[gs-linden, bbs-nord]", "[gs-linden]"))) == [
        "schools.yaml:27 schools[1].code: duplicate school code 'gs-linden' (first at line 5)"]


def test_a_duplicate_room_code_is_reported_at_the_second_naming_the_first():
    assert errors_of(edited(("{code: A102,", "{code: A101,"))) == [
        "schools.yaml:25 schools[0].rooms[1].code: duplicate room code 'A101' (first at line 24)"]


def test_the_same_room_code_in_two_schools_is_fine():
    text = edited(("[10.40.0.0/16]\n", "[10.40.0.0/16]\n    rooms: [{code: A101, name: Werkstatt}]\n"))

    assert parse_declaration(text, environ=ENV).school("bbs-nord").rooms[0].code == "A101"


@pytest.mark.parametrize(("nord", "expected"), [
    ("10.12.2.0/24", "10.12.2.0/24 overlaps 10.12.0.0/22 of school 'gs-linden' (line 9)"),
    ("10.0.0.0/8", "10.0.0.0/8 overlaps 10.12.0.0/22 of school 'gs-linden' (line 9)"),
    ("10.12.0.0/22", "10.12.0.0/22 overlaps 10.12.0.0/22 of school 'gs-linden' (line 9)"),
])
def test_overlapping_subnets_between_schools_are_rejected_naming_both(nord, expected):
    assert errors_of(edited(("[10.40.0.0/16]", f"[{nord}]"))) == [f"schools.yaml:30 schools[1].subnets[0]: {expected}"]


def test_overlapping_subnets_within_one_school_are_rejected():
    assert errors_of(edited(("[10.40.0.0/16]", "[10.40.0.0/16, 10.50.0.0/16, 10.40.7.0/24]"))) == [
        "schools.yaml:30 schools[1].subnets[2]: 10.40.7.0/24 overlaps 10.40.0.0/16 of the same school (line 30)"]


def test_adjacent_subnets_do_not_overlap():
    declaration = parse_declaration(edited(("[10.40.0.0/16]", "[10.13.0.0/16, 10.12.4.0/22]")), environ=ENV)

    assert declaration.school("bbs-nord").subnets == ("10.13.0.0/16", "10.12.4.0/22")


def test_a_room_profile_must_be_declared():
    assert errors_of(edited(("floor: 1, profile: klassenraum}\n      - {code: A102",
                             "floor: 1, profile: klassenzimmer}\n      - {code: A102"))) == [
        "schools.yaml:24 schools[0].rooms[0].profile: unknown profile 'klassenzimmer' (did you mean 'klassenraum'?)"]


def test_a_grant_school_must_be_declared():
    assert errors_of(edited(("schools: [gs-linden, bbs-nord]", "schools: [gs-linden, bbs-sued]"))) == [
        "schools.yaml:32 grants[0].schools[1]: unknown school 'bbs-sued' (did you mean 'bbs-nord'?)"]


def test_an_unknown_grant_school_without_a_close_match_lists_the_schools():
    assert errors_of(edited(("schools: [gs-linden, bbs-nord]", "schools: [gs-linden, realschule]"))) == [
        "schools.yaml:32 grants[0].schools[1]: unknown school 'realschule'; one of: gs-linden, bbs-nord"]


def test_grant_references_are_unique():
    text = VALID + "  - {ref: DP-2020-0042, programme: dp2019, schools: [bbs-nord], decided: 2021-01-01,\n" \
                   "     amount: 1, rate: 1}\n"

    assert errors_of(text) == ["schools.yaml:34 grants[1].ref: duplicate grant 'DP-2020-0042' (first at line 32)"]


def test_a_project_cannot_end_before_its_grant_was_decided():
    assert errors_of(edited(("project_end: 2024-12-31", "project_end: 2019-12-31"))) == [
        "schools.yaml:33 grants[0].project_end: 2019-12-31 is before the grant was decided (2020-09-01)"]


def test_proof_of_use_cannot_be_due_before_the_project_ends():
    assert errors_of(edited(("proof_due: 2025-03-31", "proof_due: 2024-03-31"))) == [
        "schools.yaml:33 grants[0].proof_due: 2024-03-31 is before the project ends (2024-12-31)"]


# Structure

@pytest.mark.parametrize(("old", "new", "expected"), [
    ("interactive_display: 1,", "whiteboard: 1,",
     "3 profiles.klassenraum.items.whiteboard: 'whiteboard' is not a device kind; one of: interactive_display, "
     "projector, document_camera, laptop, tablet, desktop, ops_pc, access_point, switch, router, printer, server, "
     "other"),
    ("laptop: 1}", "laptops: 1}",
     "3 profiles.klassenraum.items.laptops: 'laptops' is not a device kind (did you mean 'laptop'?)"),
    ("laptop: 1}", "laptop: -1}", "3 profiles.klassenraum.items.laptop: must be at least 0"),
    ("laptop: 1}", "laptop: 1.5}", "3 profiles.klassenraum.items.laptop: must be a whole number"),
    ("state: BB", "state: Brandenburg", "1 carrier.state: 'Brandenburg' is not a federal state code; "
     "one of: BW, BY, BE, BB, HB, HH, HE, MV, NI, NW, RP, SL, SN, ST, SH, TH"),
    ("type: general", "type: primary",
     "8 schools[0].type: 'primary' is not a school type; one of: general, vocational"),
    ("kind: classroom", "kind: clasroom", "24 schools[0].rooms[0].kind: 'clasroom' is not a room kind "
     "(did you mean 'classroom'?)"),
    ('number: "112233"', "number: 112233", "7 schools[0].number: must be text; put it in quotes"),
    ("{code: A101,", "{code: A 101,", "24 schools[0].rooms[0].code: 'A 101' is not a code: use letters, digits, "
     "'-', '_' and '.'"),
    ("name: Grundschule Am Lindenhof", "name:", "6 schools[0].name: must not be empty"),
    ("concept_date: 2021-03-15", "concept_date: 2021-02-30", "26 schools[0].concept_date: '2021-02-30' is not a date "
     "(YYYY-MM-DD)"),
    ("decided: 2020-09-01", "decided: 2020-09-01 10:00:00", "32 grants[0].decided: '2020-09-01 10:00:00' is not a date "
     "(YYYY-MM-DD)"),
    ("[gs-linden, bbs-nord]", "[]", "32 grants[0].schools: must name at least one school"),
    ("  - code: bbs-nord", "  - code: bbs-nord\n    floor: 2", "28 schools[1].floor: unknown key 'floor'; one of: "
     "code, name, number, type, subnets, discovery, rooms, concept_date, network_since, target"),
    ("      port: 161", "      prot: 161", "15 schools[0].discovery.prot: unknown key 'prot' (did you mean 'port'?)"),
    ("grants:", "grant:", "31 grant: unknown key 'grant' (did you mean 'grants'?)"),
])
def test_structural_mistakes_name_line_path_and_problem(old, new, expected):
    assert errors_of(edited((old, new))) == [f"schools.yaml:{expected}"]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("[10.12.0.0/22]", "[10.0.0.0/33]", "9 schools[0].subnets[0]: '10.0.0.0/33' is not a network"),
    ("[10.12.0.0/22]", "[10.12.0.300/22]", "9 schools[0].subnets[0]: '10.12.0.300/22' is not a network"),
    ("[10.12.0.0/22]", "[10.12.0.0]", "9 schools[0].subnets[0]: '10.12.0.0' is not a network: write it with its "
     "prefix length, e.g. '10.12.0.0/24'"),
    ("routers: [10.12.0.1]", "routers: [10.12.0.1/22]", "21 schools[0].discovery.routers[0]: '10.12.0.1/22' is not "
     "an IP address"),
    ("switches: [10.12.0.2]", "switches: [10.12.0.2, gateway]", "22 schools[0].discovery.switches[1]: 'gateway' is "
     "not an IP address"),
])
def test_invalid_networks_and_addresses_are_rejected(old, new, expected):
    assert errors_of(edited((old, new))) == [f"schools.yaml:{expected}"]


@pytest.mark.parametrize(("schedule", "problem"), [
    ("61 6 * * 1-5", "Error validating expression '61': the last value (61) is higher than the maximum value (59)"),
    ("30 6 * *", "it has 4 fields, cron needs 5"),
    ("30 6 * * 1-5 2024", "it has 6 fields, cron needs 5"),
    ("30 6 * * 8", "'8' is not a weekday (0-7 or sun-sat)"),
])
def test_a_bad_cron_schedule_is_rejected(schedule, problem):
    assert errors_of(edited(('schedule: "30 6 * * 1-5"', f'schedule: "{schedule}"'))) == [
        f"schools.yaml:11 schools[0].discovery.schedule: '{schedule}' is not a cron schedule "
        f"(minute hour day month weekday): {problem}"]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("timeout: 1.0", "timeout: 0", "12 schools[0].discovery.timeout: must be more than 0 and at most 30"),
    ("timeout: 1.0", "timeout: 30.5", "12 schools[0].discovery.timeout: must be more than 0 and at most 30"),
    ("timeout: 1.0", "timeout: fast", "12 schools[0].discovery.timeout: must be a number"),
    ("retries: 1", "retries: 6", "13 schools[0].discovery.retries: must be at least 0 and at most 5"),
    ("concurrency: 512", "concurrency: 0", "14 schools[0].discovery.concurrency: must be at least 1 and at most 4096"),
    ("port: 161", "port: 70000", "15 schools[0].discovery.port: must be at least 1 and at most 65535"),
    ("port: 161", "port: true", "15 schools[0].discovery.port: must be a whole number"),
    ("missing_after: 3", "missing_after: 0", "16 schools[0].discovery.missing_after: must be at least 1"),
])
def test_discovery_settings_must_be_in_range(old, new, expected):
    assert errors_of(edited((old, new))) == [f"schools.yaml:{expected}"]


def test_a_missing_key_is_reported_at_its_enclosing_mapping():
    assert errors_of(edited(("    name: Berufsbildende Schule Nord\n", ""))) == [
        "schools.yaml:27 schools[1].name: missing (required)"]


def test_a_missing_carrier_and_schools_are_reported_at_the_first_line():
    assert errors_of("# the carrier\nprofiles: {}\n") == [
        "schools.yaml:2 carrier: missing (required)", "schools.yaml:2 schools: missing (required)"]


CARRIER = "carrier: {name: Stadt Lindenau, state: BB}\n"
SCHOOL = "{code: a, name: A, type: general}"


@pytest.mark.parametrize(("text", "expected"), [
    (CARRIER + "schools: gs-linden\n", "2 schools: must be a list"),
    (CARRIER + "schools: [gs-linden]\n", "2 schools[0]: must be a mapping (key: value)"),
    (CARRIER + "schools: [{code: a, name: A, type: general, discovery: [1]}]\n",
     "2 schools[0].discovery: must be a mapping (key: value)"),
    (CARRIER + "profiles: [klassenraum]\nschools: [" + SCHOOL + "]\n", "2 profiles: must be a mapping (key: value)"),
    ("carrier: Stadt Lindenau\nschools: [" + SCHOOL + "]\n", "1 carrier: must be a mapping (key: value)"),
    (CARRIER + "schools: []\n", "2 schools: must declare at least one school"),
    (CARRIER + "schools:\n", "2 schools: must not be empty"),
])
def test_a_value_of_the_wrong_shape_is_named(text, expected):
    assert errors_of(text) == [f"schools.yaml:{expected}"]


def test_empty_optional_collections_mean_none():
    school = parse_declaration(CARRIER + "profiles:\ngrants:\nschools:\n  - code: a\n    name: A\n    type: general\n"
                               "    subnets:\n    rooms:\n    discovery:\n", environ={}).school("a")

    assert (school.subnets, school.rooms, school.discovery) == ((), (), DiscoverySettings())


def test_a_duplicate_key_in_one_mapping_is_rejected():
    assert errors_of(edited(("    type: vocational\n", "    type: vocational\n    type: general\n"))) == [
        "schools.yaml:30 schools[1].type: duplicate key 'type' (first at line 29)"]


def test_a_duplicate_profile_is_rejected():
    text = edited(("schools:\n", "  klassenraum: {label: Zweiter, items: {}}\nschools:\n"))

    assert errors_of(text) == ["schools.yaml:4 profiles.klassenraum: duplicate key 'klassenraum' (first at line 3)"]


def test_several_problems_are_reported_at_once_in_line_order():
    text = edited(("state: BB", "state: XX"),
                  ("[10.12.0.0/22]", "[10.12.0.0/33]"),
                  ("laptop: 1}", "laptp: 1}"),
                  ('community: "${GS_LINDEN_COMMUNITY}"', "community: public"),
                  ("{code: A102,", "{code: A101,"),
                  ("[10.40.0.0/16]", "[10.12.1.0/24]"),
                  ("schools: [gs-linden, bbs-nord]", "schools: [gs-lindn, bbs-nord]"),
                  ('rate: "0.90"', "rate: 90"))

    assert errors_of(text) == [
        "schools.yaml:1 carrier.state: 'XX' is not a federal state code; one of: BW, BY, BE, BB, HB, HH, HE, MV, NI, "
        "NW, RP, SL, SN, ST, SH, TH",
        "schools.yaml:3 profiles.klassenraum.items.laptp: 'laptp' is not a device kind (did you mean 'laptop'?)",
        "schools.yaml:9 schools[0].subnets[0]: '10.12.0.0/33' is not a network",
        "schools.yaml:18 schools[0].discovery.snmp[0].community: must be an ${ENV} reference, not a literal secret",
        "schools.yaml:25 schools[0].rooms[1].code: duplicate room code 'A101' (first at line 24)",
        "schools.yaml:32 grants[0].schools[0]: unknown school 'gs-lindn' (did you mean 'gs-linden'?)",
        "schools.yaml:33 grants[0].rate: must be more than 0 and at most 1",
    ]


def test_problems_in_one_school_do_not_hide_cross_checks_in_it():
    text = edited(("code: bbs-nord", "code: gs-linden"), ("type: vocational", "type: technical"),
                  ("[10.40.0.0/16]", "[10.12.0.0/16]"), ("[gs-linden, bbs-nord]", "[gs-linden]"))

    assert errors_of(text) == [
        "schools.yaml:27 schools[1].code: duplicate school code 'gs-linden' (first at line 5)",
        "schools.yaml:29 schools[1].type: 'technical' is not a school type; one of: general, vocational",
        "schools.yaml:30 schools[1].subnets[0]: 10.12.0.0/16 overlaps 10.12.0.0/22 of school 'gs-linden' (line 9)",
    ]


# Malformed YAML: one line, with the line of the YAML problem

@pytest.mark.parametrize(("text", "expected"), [
    ("", "schools.yaml:1 the file is empty"),
    ("# only a comment\n", "schools.yaml:1 the file is empty"),
    ("- gs-linden\n- bbs-nord\n", "schools.yaml:1 the document must be a mapping with the keys carrier and schools"),
    ("carrier: {name: X, state: BB}\nschools:\n\t- code: a\n",
     "schools.yaml:3 invalid YAML: found character '\\t' that cannot start any token; indent with spaces, "
     "YAML does not allow tabs there"),
    ("carrier: {name: X, state: BB\nschools: []\n",
     "schools.yaml:2 invalid YAML: expected ',' or '}', but got ':' (while parsing a flow mapping at line 1)"),
    ("carrier: x\n  schools: []\n", "schools.yaml:2 invalid YAML: mapping values are not allowed here"),
    ("carrier: x\n---\nschools: []\n",
     "schools.yaml:2 invalid YAML: found another document (expected a single document in the stream at line 1)"),
    ("carrier: {name: X\x07}\n", "schools.yaml:1 invalid YAML: unacceptable character #x0007: special characters "
     "are not allowed"),
    ("carrier: *nowhere\n", "schools.yaml:1 invalid YAML: found undefined alias 'nowhere'"),
])
def test_malformed_yaml_is_one_line_with_its_line_number(text, expected):
    assert errors_of(text) == [expected]


def test_unsupported_tags_are_rejected():
    assert errors_of(edited(('number: "112233"', "number: !vault 112233"))) == [
        "schools.yaml:7 schools[0].number: could not determine a constructor for the tag '!vault'"]


def test_an_alias_that_contains_itself_is_rejected():
    assert "schools.yaml:4 schools[2]: an alias refers to a value that contains it" in errors_of(
        edited(("schools:\n", "schools: &all\n"), ("grants:", "  - *all\ngrants:")))


def test_aliases_that_expand_beyond_reason_are_refused(monkeypatch):
    monkeypatch.setattr(yamlmarks, "MAX_VALUES", 50)
    text = "a: &a [x, x, x, x, x, x, x, x]\nb: [*a, *a, *a, *a, *a, *a, *a, *a]\n"

    # An alias has no line of its own: the values it brings in are marked where the anchor defines them.
    assert errors_of(text) == ["schools.yaml:1 aliases expand the document to more than 50 values"]


def test_a_document_nested_too_deeply_is_refused():
    assert errors_of("a: " + "[" * 3000 + "]" * 3000 + "\n") == [
        "schools.yaml:1 the document is nested too deeply"]


FRAGMENTS = ["", " ", "\t", "\n", ":", "- ", "[", "]", "{", "}", ",", '"', "&a ", "*a", "<<: *a", "!!binary ", "!x ",
             "~", "null", "yes", "2020-02-30", ".nan", "-1", "1e999", "10.0.0.0/8", "${X}", "3", "\x00", "#", "? "]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(VALID)), st.integers(0, 8), st.sampled_from(FRAGMENTS)), max_size=4))
def test_any_damage_to_the_file_gives_a_declaration_or_error_lines_never_a_crash(edits):
    text = VALID
    for start, length, fragment in edits:
        text = text[:start] + fragment + text[start + length:]
    try:
        parse_declaration(text, environ=ENV)
    except SchoolsFileError as error:
        assert error.errors and all(line.startswith("schools.yaml:") for line in error.errors)


# Reading the file

def test_load_declaration_reads_a_file_and_names_it_in_errors(tmp_path):
    path = tmp_path / "schools.yaml"
    path.write_text(VALID, encoding="utf-8")
    assert load_declaration(path, environ=ENV).school("gs-linden").name == "Grundschule Am Lindenhof"

    path.write_text(edited(("state: BB", "state: XX")), encoding="utf-8")
    with pytest.raises(SchoolsFileError) as caught:
        load_declaration(path, environ=ENV)
    assert caught.value.errors[0].startswith(f"{path}:1 carrier.state: 'XX' is not a federal state code")


def test_a_byte_order_mark_is_ignored(tmp_path):
    path = tmp_path / "schools.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.encode())

    assert load_declaration(path, environ=ENV).carrier.name == "Stadt Lindenau"


def test_a_missing_file_is_one_clear_line(tmp_path):
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(SchoolsFileError) as caught:
        load_declaration(path)

    assert caught.value.errors == [f"{path}: cannot be read: No such file or directory"]
    assert caught.value.message == f"1 error(s) in {path}; nothing was loaded"


def test_a_file_that_is_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "schools.yaml"
    path.write_bytes("carrier: {name: Stadt Lindenau, state: BB}\nschools:\n  - name: Schule Am Weißen See\n"
                     .encode("latin-1"))
    with pytest.raises(SchoolsFileError) as caught:
        load_declaration(path)

    assert caught.value.errors == [f"{path}:3 not UTF-8 text (byte 0xdf)"]


def test_the_error_is_a_rejected_file_with_every_line():
    error = pytest.raises(SchoolsFileError, parse_declaration, edited(("state: BB", "state: XX"),
                                                                      ("port: 161", "port: 0")), environ=ENV).value

    assert isinstance(error, FileRejected)
    assert error.status == 422
    assert error.message == "2 error(s) in schools.yaml; nothing was loaded"
    assert error.fields == {"lines": error.errors}
    assert str(error) == "\n".join(error.errors)


# Rollout and funding keys

ROLLOUT = dedent("""\
    carrier:
      name: Stadt Lindenau
      state: BB
      funding:
        dp2019: {own_share: "0.20", window: {start: 2019-05-17, end: 2024-06-30}}
      budgets: {dp2019: "790000.00", dp2019-sofort: 36000}
    profiles:
      klassenraum: {label: Klassenraum, items: {interactive_display: 1, document_camera: 1, access_point: 1}}
    schools:
      - code: gs-linden
        name: Grundschule Am Lindenhof
        type: general
        network_since: 2019-08-01
        target: 2024-12-31
        rooms:
          - {code: A101, name: Klasse 1a, profile: klassenraum, items: {access_point: 2, document_camera: 0},
             target: 2025-03-31}
          - {code: A102, name: Klasse 1b, profile: klassenraum}
    grants:
      - {ref: DP-2020-0042, programme: dp2019, schools: [gs-linden], applied: 2020-06-30, decided: 2020-09-01,
         amount: "137000.00", rate: "0.90", project_end: 2024-12-31, proof_submitted: 2025-03-01}
    """)


def rollout_errors(*replacements: tuple[str, str]) -> list[str]:
    text = ROLLOUT
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return errors_of(text, environ={})


def test_room_overrides_targets_and_funding_keys_load():
    declaration = parse_declaration(ROLLOUT, environ={})

    assert declaration.carrier == Carrier(
        name="Stadt Lindenau", state="BB",
        funding={"dp2019": {"own_share": "0.20", "window": {"start": date(2019, 5, 17), "end": date(2024, 6, 30)}}},
        budgets={"dp2019": Decimal("790000.00"), "dp2019-sofort": Decimal("36000")})
    linden = declaration.school("gs-linden")
    assert (linden.network_since, linden.target) == (date(2019, 8, 1), date(2024, 12, 31))
    a101, a102 = linden.rooms
    assert (a101.items, a101.target) == ({"access_point": 2, "document_camera": 0}, date(2025, 3, 31))
    assert (a102.items, a102.target) == ({}, None)
    assert (declaration.grants[0].applied, declaration.grants[0].proof_submitted) == (date(2020, 6, 30),
                                                                                      date(2025, 3, 1))


def test_the_new_keys_are_optional():
    declaration = parse_declaration(VALID, environ=ENV)

    assert (declaration.carrier.funding, declaration.carrier.budgets) == ({}, {})
    linden = declaration.school("gs-linden")
    assert (linden.network_since, linden.target, linden.rooms[0].items, linden.rooms[0].target) == (None, None, {},
                                                                                                   None)
    assert (declaration.grants[0].applied, declaration.grants[0].proof_submitted) == (None, None)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("items: {access_point: 2,", "items: {acces_point: 2,",
     "16 schools[0].rooms[0].items.acces_point: 'acces_point' is not a device kind (did you mean 'access_point'?)"),
    ("items: {access_point: 2,", "items: {access_point: -1,", "16 schools[0].rooms[0].items.access_point: "
     "must be at least 0"),
    ("items: {access_point: 2,", "items: {access_point: two,", "16 schools[0].rooms[0].items.access_point: "
     "must be a whole number"),
    ("items: {access_point: 2, document_camera: 0}", "items: [access_point]",
     "16 schools[0].rooms[0].items: must be a mapping (key: value)"),
    ("target: 2025-03-31", "target: 2025-02-30", "17 schools[0].rooms[0].target: '2025-02-30' is not a date "
     "(YYYY-MM-DD)"),
    ("{code: A102, name: Klasse 1b,", "{code: A102, name: Klasse 1b, traget: 2025-01-01,",
     "18 schools[0].rooms[1].traget: unknown key 'traget' (did you mean 'target'?)"),
    ("network_since: 2019-08-01", "network_since: seit 2019", "13 schools[0].network_since: 'seit 2019' is not a "
     "date (YYYY-MM-DD)"),
    ("target: 2024-12-31\n", "target: Sommer 2024\n", "14 schools[0].target: 'Sommer 2024' is not a date "
     "(YYYY-MM-DD)"),
    ('dp2019: {own_share: "0.20", window: {start: 2019-05-17, end: 2024-06-30}}', "dp2019: 0.2",
     "5 carrier.funding.dp2019: must be a mapping (key: value)"),
    ('dp2019: {own_share: "0.20", window: {start: 2019-05-17, end: 2024-06-30}}', "dp 2019: {}",
     "5 carrier.funding.dp 2019: 'dp 2019' is not a code: use letters, digits, '-', '_' and '.'"),
    ("dp2019-sofort: 36000", "dp2019-sofort: 36000.001", "6 carrier.budgets.dp2019-sofort: '36000.001' is not a "
     "decimal number with at most 2 decimal places, e.g. \"137000.00\""),
    ("budgets: {", "budget: {", "6 carrier.budget: unknown key 'budget' (did you mean 'budgets'?)"),
    ("applied: 2020-06-30", "applied: 2020-09-02",
     "20 grants[0].applied: 2020-09-02 is after the grant was decided (2020-09-01)"),
    ("proof_submitted: 2025-03-01", "proof_submitted: 2020-08-31",
     "21 grants[0].proof_submitted: 2020-08-31 is before the grant was decided (2020-09-01)"),
], ids=["an unknown kind", "a negative count", "a count in words", "overrides as a list", "an impossible target",
        "a misspelt key", "network_since not a date", "a school target not a date", "funding not a mapping",
        "a programme code with a space", "a budget with fractions of a cent", "budgets misspelt",
        "applied after the decision", "proof submitted before the decision"])
def test_rollout_and_funding_mistakes_name_line_path_and_problem(old, new, expected):
    assert rollout_errors((old, new)) == [f"schools.yaml:{expected}"]


def test_an_override_of_zero_is_kept_so_it_can_drop_the_profiles_kind():
    room = parse_declaration(ROLLOUT, environ={}).school("gs-linden").rooms[0]

    assert room.items["document_camera"] == 0


def test_later_checks_name_file_and_line_through_the_declaration():
    declaration = parse_declaration(ROLLOUT, "lindenau.yaml", environ={})

    assert declaration.line(("carrier", "funding", "dp2019", "own_share")) == 5
    assert declaration.line(("grants", 0, "programme", "not-there")) == 20
    error = declaration.rejected([declaration.describe(("grants", 0, "programme"), "unknown"),
                                  declaration.describe(("carrier", "budgets", "dp2019"), "too much")])
    assert error.errors == ["lindenau.yaml:6 carrier.budgets.dp2019: too much",
                            "lindenau.yaml:20 grants[0].programme: unknown"]
    assert error.message == "2 error(s) in lindenau.yaml; nothing was changed"


def test_a_declaration_built_by_hand_describes_paths_without_lines():
    declaration = dataclasses.replace(parse_declaration(ROLLOUT, environ={}), lines={})

    assert declaration.describe(("carrier", "state"), "wrong") == "schools.yaml carrier.state: wrong"
