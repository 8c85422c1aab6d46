"""Classification: evidence of one host → kind, vendor and confidence, decided by the first rule of a data file."""

import dataclasses

import pytest

from discovery.classify import RULES_FILE, Classification, Evidence, classify, load_rules, vendor_of

RULES = load_rules()
WINDOWS = "Hardware: Intel64 Family 6 Model 142 Stepping 10 AT/AT COMPATIBLE - Software: Windows Version 6.3 " \
          "(Build 19045 Multiprocessor Free)"
ENT = "1.3.6.1.4.1."


def ev(mac=None, ports=(), **parts) -> Evidence:
    return Evidence(mac=mac, open_ports=frozenset(ports), **parts)


def snmp(oid, descr="", **parts) -> Evidence:
    return Evidence(sys_object_id=ENT + oid if oid else None, sys_descr=descr or None, **parts)


def described(value) -> str | None:
    """A readable test id for an Evidence: what it shows."""
    if not isinstance(value, Evidence):
        return None
    parts = (value.sys_object_id, value.sys_descr and value.sys_descr[:40], value.mac, value.hostname, value.sys_name,
             value.open_ports and "+".join(map(str, sorted(value.open_ports))), value.ip)
    return " ".join(str(part) for part in parts if part)


def verdict(evidence: Evidence, rules=RULES) -> tuple:
    result = classify(evidence, rules)
    return result.kind, result.vendor, result.confidence


SNMP = [  # what a host says over SNMP: confidence high
    (snmp("11.2.3.9.1"), "printer", "HP"),
    (snmp("", "HP ETHERNET MULTI-ENVIRONMENT,ROM none,JETDIRECT,JD153"), "printer", "HP"),
    (snmp("11.2.3.9.1", "RICOH NETWORK PRINTER C model"), "printer", "Ricoh"),  # a borrowed JetDirect number
    (snmp("1347.41", "KYOCERA Document Solutions Printing System"), "printer", "Kyocera"),
    (snmp("1347.43"), "printer", "Kyocera"),
    (snmp("2435.2.3.9.1", "Brother NC-8300h, Firmware Ver.1.03"), "printer", "Brother"),
    (snmp("1602.4.7"), "printer", "Canon"),
    (snmp("1248.1.2.1.1"), "printer", "Epson"),
    (snmp("641.1.1"), "printer", "Lexmark"),
    (snmp("253.8.62.1.31.5.1"), "printer", "Xerox"),
    (snmp("367.1.1"), "printer", "Ricoh"),
    (snmp("18334.1.1.1.2.1.217"), "printer", "Konica Minolta"),
    (snmp("236.11.5.1", "Samsung ML-2950 Series; V2.00.01.17"), "printer", "Samsung"),
    (snmp("1248.4.1.1"), "projector", "Epson"),
    (snmp("", "EPSON Projector EB-L630U"), "projector", "Epson"),
    (snmp("9.1.1208", "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E3"), "switch",
     "Cisco"),
    (snmp("9.1.2068", "Cisco IOS Software [Amsterdam], ISR Software (X86_64_LINUX_IOSD-UNIVERSALK9-M)"), "router",
     "Cisco"),
    (snmp("9.1.2240", "Cisco AP Software, ap1g5-k9w8 Version: 8.10.151.0"), "access_point", "Cisco"),
    (snmp("11.2.3.7.11.86", "ProCurve J9280A Switch 2510G-48, revision Y.11.16"), "switch", "HPE Aruba"),
    (snmp("47196.4.1.1.1.309", "Aruba JL728B 6200F 24G Class4 PoE 4SFP+ 370W Swch"), "switch", "HPE Aruba"),
    (snmp("14823.1.2.66", "ArubaOS (MODEL: 515), Version 8.10.0.6"), "access_point", "HPE Aruba"),
    (snmp("4526.100.4.67", "M4250-26G4F-PoE+ 26-Port Gigabit Ethernet AV Line Managed Switch"), "switch", "Netgear"),
    (snmp("2356.11.1.47", "LANCOM 1926VAG"), "router", "LANCOM"),
    (snmp("2356.11.1.3", "LANCOM LX-6400 12.00.0070"), "access_point", "LANCOM"),
    (snmp("", "LANCOM GS-3652XP 5.00"), "switch", "LANCOM"),
    (snmp("8072.3.2.10", "UAP-AC-Pro 6.5.55.14677"), "access_point", "Ubiquiti"),
    (snmp("41112", "U6-Pro 6.5.62.14788"), "access_point", "Ubiquiti"),
    (snmp("4413", "USW-24-PoE, 6.6.61.15220, Linux 3.6.5"), "switch", "Ubiquiti"),
    (snmp("14988.1", "RouterOS RB5009UG+S+"), "router", "MikroTik"),
    (snmp("14988.1", "RouterOS CRS326-24G-2S+"), "switch", "MikroTik"),
    (snmp("14988.1", "RouterOS RBcAPGi-5acD2nD"), "access_point", "MikroTik"),
    (snmp("2636.1.1.1.2.132", "Juniper Networks, Inc. ex2300-24p Ethernet Switch, kernel JUNOS 20.4R3"), "switch",
     "Juniper"),
    (snmp("2636.1.1.1.2.133", "Juniper Networks, Inc. srx300 internet router, kernel JUNOS 21.2R3"), "router",
     "Juniper"),
    (snmp("890.1.15", "GS1920-24HPv2"), "switch", "Zyxel"),
    (snmp("890.1.6.22", "USG FLEX 100"), "router", "Zyxel"),
    (snmp("890.1.15.99", "NWA110AX"), "access_point", "Zyxel"),
    (snmp("25053.3.1.4.107", "Ruckus Wireless R510"), "access_point", "Ruckus"),
    (snmp("1991.1.3.48.5.1", "Ruckus Wireless, Inc. ICX7150-48P-POE"), "switch", "Ruckus"),
    (snmp("311.1.1.3.1.1", WINDOWS), "desktop", None),
    (snmp("311.1.1.3.1.2", WINDOWS), "server", None),
    (snmp("311.1.1.3.1.1", WINDOWS, hostname="gsl-a101-ops"), "ops_pc", None),
    (snmp("8072.3.2.10", "Linux srv01 5.10.0-21-amd64 #1 SMP Debian 5.10.162-1 x86_64"), "server", None),
    (snmp("", "Sophos Firewall"), "router", None),
]


@pytest.mark.parametrize("evidence, kind, vendor", SNMP, ids=described)
def test_what_a_host_says_over_snmp_decides_with_high_confidence(evidence, kind, vendor):
    assert verdict(evidence) == (kind, vendor, "high")


NETWORK = [  # what the network shows without SNMP: a MAC, open ports, a name
    (ev("00:02:75:12:34:56"), "interactive_display", "SMART Technologies", "medium"),
    (ev("6c:dc:6a:12:34:56"), "interactive_display", "Promethean", "medium"),
    (ev("00:0b:14:12:34:56", ports=[5000]), "interactive_display", "ViewSonic", "medium"),
    (ev("00:0b:14:12:34:56", ports=[4352]), "projector", "ViewSonic", "medium"),
    (ev("00:0b:14:12:34:56"), "interactive_display", "ViewSonic", "medium"),
    (ev("b4:ad:a3:12:34:56", ports=[6061, 80]), "interactive_display", "Clevertouch", "medium"),
    (ev("18:84:c1:12:34:56", ports=[6060]), "interactive_display", "Clevertouch", "medium"),
    (ev("70:2e:d9:12:34:56"), "interactive_display", "CVTE", "medium"),
    (ev("e0:27:6c:12:34:56"), "interactive_display", "CVTE", "low"),  # another CVTE block, named by the registry only
    (ev("64:1b:2f:12:34:56", ports=[1515]), "interactive_display", "Samsung", "medium"),
    (ev("80:65:e9:12:34:56"), "interactive_display", "BenQ", "low"),
    (ev("80:65:e9:12:34:56", ports=[4352]), "projector", "BenQ", "medium"),
    (ev("a0:36:9f:12:34:56", hostname="newline-a101"), "interactive_display", "Newline", "medium"),
    (ev("a0:36:9f:12:34:56", hostname="gsl-a101-tafel"), "interactive_display", "Intel Corporate", "medium"),
    (ev("a0:36:9f:12:34:56", hostname="gsl-a101-ops"), "ops_pc", "Intel Corporate", "medium"),
    (ev(sys_name="A204-OPS.schule.local"), "ops_pc", None, "medium"),
    (ev("a4:d7:3c:12:34:56", ports=[3629]), "projector", "Epson", "medium"),
    (ev(ports=[4352, 80]), "projector", None, "medium"),
    (ev(hostname="gs-a101-beamer"), "projector", None, "medium"),
    (ev(hostname="gs-lz-drucker"), "printer", None, "medium"),
    (ev("64:4e:d7:12:34:56", ports=[9100, 80, 443]), "printer", "HP Inc.", "medium"),
    (ev(hostname="a101-doccam"), "document_camera", None, "medium"),
    (ev("dc:e2:ac:12:34:56"), "document_camera", "Lumens Digital Optics Inc.", "low"),
    (ev(hostname="DESKTOP-AB12CD3"), "desktop", None, "medium"),
    (ev("d0:43:1e:12:34:56", ports=[3389, 445]), "desktop", "Dell Inc.", "medium"),
    (ev(hostname="Annas-MacBook-Air"), "laptop", None, "medium"),
    (ev("60:fd:a6:12:34:56", ports=[62078]), "tablet", "Apple", "medium"),
    (ev("60:fd:a6:12:34:56"), "tablet", "Apple", "low"),
    (ev("64:1b:2f:12:34:56"), "tablet", "Samsung", "low"),
    (ev("38:f3:ab:12:34:56"), "laptop", "Lenovo", "low"),
    (ev("24:5a:4c:12:34:56"), "access_point", "Ubiquiti", "low"),
    (ev("20:4c:03:12:34:56"), "access_point", "HPE Aruba", "low"),
    (ev("00:a0:57:12:34:56"), "access_point", "LANCOM", "low"),
    (ev("9c:c9:eb:12:34:56"), "switch", "Netgear", "low"),
    (ev("00:17:c8:12:34:56"), "printer", "Kyocera", "low"),
    (ev("00:80:77:12:34:56"), "printer", "Brother", "low"),
    (ev("a8:91:62:12:34:56"), "router", "Sophos Ltd", "low"),
    (ev("38:f3:ab:12:34:56", ports=[22]), "other", "LCFC(HeFei) Electronics Technology co., ltd", "low"),
    (ev(ip="10.12.0.77"), "other", None, "low"),
]


@pytest.mark.parametrize("evidence, kind, vendor, confidence", NETWORK, ids=described)
def test_what_the_network_shows_decides_with_less_confidence(evidence, kind, vendor, confidence):
    assert verdict(evidence) == (kind, vendor, confidence)


def test_reasons_are_sentences_naming_the_evidence():
    assert classify(snmp("11.2.3.9.1"), RULES).reasons == (
        "sysObjectID 1.3.6.1.4.1.11.2.3.9.1 → printer (HP): JetDirect print server",)
    assert classify(ev("b4:ad:a3:12:34:56", ports=[6061, 80]), RULES).reasons == (
        "OUI b4:ad:a3 and TCP 6061 open → interactive_display (Clevertouch)",)
    assert classify(ev("a0:36:9f:12:34:56", hostname="gsl-a101-ops"), RULES).reasons == (
        "hostname 'gsl-a101-ops' → ops_pc", "OUI a0:36:9f is registered to Intel Corporate")
    assert classify(ev(ip="10.12.0.77"), RULES).reasons == ("no rule matched → other",)


def test_the_hosts_own_model_wins_over_a_rules_hint():
    assert classify(ev("64:1b:2f:12:34:56", ports=[1515]), RULES).model == "Flip"
    assert classify(ev("64:1b:2f:12:34:56", ports=[1515], model="WM85B"), RULES).model == "WM85B"


def test_a_randomised_mac_is_marked_and_its_oui_names_no_vendor():
    result = classify(ev("da:a1:19:00:00:01"), RULES)
    assert (result.kind, result.vendor, result.randomised_mac) == ("other", None, True)
    assert "locally administered" in result.reasons[0]
    assert not classify(ev("00:02:75:00:00:01"), RULES).randomised_mac


def test_a_randomised_mac_never_matches_a_makers_block():
    smart_with_the_local_bit = "02:02:75:00:00:01"
    assert verdict(ev(smart_with_the_local_bit)) == ("other", None, "low")
    assert verdict(ev(smart_with_the_local_bit, hostname="iPad-von-Anna")) == ("tablet", None, "medium")


@pytest.mark.parametrize("mac, organisation", [
    ("00:02:75:00:00:01", "SMART Technologies, Inc."),
    ("B4-AD-A3-00-00-01", "Guangzhou Shiyuan Electronic Technology Company Limited"),  # no-break spaces in netaddr
    ("0c:00:00:00:00:01", None),  # unregistered
    ("b8:4c:87:00:00:01", None),  # an IEEE block shared out in smaller parts netaddr does not ship
    ("da:a1:19:00:00:01", None),  # randomised
])
def test_vendor_of_reads_the_oui_registry(mac, organisation):
    assert vendor_of(mac) == organisation


def test_an_unregistered_oui_leaves_the_vendor_empty():
    assert verdict(ev("0c:00:00:12:34:56")) == ("other", None, "low")


def test_sysobjectid_prefixes_match_whole_arcs_only():
    assert verdict(Evidence(sys_object_id=".1.3.6.1.4.1.9.1.1208"))[0] == "switch"
    assert verdict(Evidence(sys_object_id="iso.3.6.1.4.1.9.1.1208"))[0] == "switch"
    assert verdict(Evidence(sys_object_id="1.3.6.1.4.1.99.1"))[0] == "other"


def test_the_first_rule_that_holds_wins(tmp_path):
    ops, tafel = "{hostname: 'ops', kind: ops_pc}", "{hostname: 'tafel', kind: interactive_display}"
    host = ev(hostname="a101-tafel-ops")
    assert classify(host, _rules(tmp_path, ops, tafel)).kind == "ops_pc"
    assert classify(host, _rules(tmp_path, tafel, ops)).kind == "interactive_display"


def test_the_shipped_rules_load_and_use_only_registered_blocks():
    assert RULES.source == str(RULES_FILE) and len(RULES.rules) > 100
    for rule in RULES.rules:
        for prefix in rule.oui:
            mac = ":".join(f"{(prefix >> shift) & 0xFF:02x}" for shift in (16, 8, 0)) + ":00:00:01"
            assert vendor_of(mac), f"rule {rule.number}: {mac[:8]} is not in netaddr's registry"
    assert {rule.confidence for rule in RULES.rules} == {"high", "medium", "low"}


def test_a_new_make_is_one_line(tmp_path):
    hitevision = ev("8c:33:57:12:34:56")
    assert classify(hitevision, RULES).kind == "other"
    path = tmp_path / "rules.yaml"
    path.write_text(RULES_FILE.read_text(encoding="utf-8")
                    + "  - {oui: ['8C:33:57'], kind: interactive_display, vendor: HiteVision}\n", encoding="utf-8")
    assert verdict(hitevision, load_rules(path)) == ("interactive_display", "HiteVision", "medium")


@pytest.mark.parametrize("line, problem", [
    ("{sys_descr: 'Tafel', kind: whiteboard}", "rule 2, kind: 'whiteboard' is not a device kind"),
    ("{sys_descr: '(unclosed', kind: printer}", "rule 2, sys_descr: '(unclosed' is not a valid regular expression"),
    ("{sysdescr: 'LaserJet', kind: printer}", "rule 2, sysdescr: unknown key (did you mean 'sys_descr'?)"),
    ("{oui: [10:20:30], kind: printer}", "rule 2, oui: 37230 is not text; put it in quotes"),
    ("{oui: ['10:20'], kind: printer}", "rule 2, oui: '10:20' is not a MAC prefix like '00:02:75'"),
    ("{ports: [70000], kind: printer}", "rule 2, ports: 70000 is not a TCP port (1-65535)"),
    ("{sys_object_id_prefix: 'enterprises.9', kind: switch}", "rule 2, sys_object_id_prefix: 'enterprises.9' is not"),
    ("{ports: [631], no_open_ports: true, kind: printer}", "rule 2, no_open_ports: contradicts 'ports'"),
    ("{no_open_ports: true, kind: tablet}", "rule 2, conditions: a rule needs at least one of"),
    ("{hostname: 'drucker'}", "rule 2, kind: missing (required)"),
    ("printer", "rule 2, rule: must be a mapping"),
    ("{hostname: 'a', hostname: 'b', kind: other}", "rule 2, hostname: duplicate key 'hostname'"),
])
def test_a_bad_rule_is_named_with_its_line_and_field(tmp_path, line, problem):
    with pytest.raises(ValueError) as error:
        _rules(tmp_path, "{hostname: 'ops', kind: ops_pc}", line)
    assert f"rules.yaml line 3: {problem}" in str(error.value)


def test_every_bad_rule_is_reported_at_once(tmp_path):
    with pytest.raises(ValueError) as error:
        _rules(tmp_path, "{sys_descr: 'x', kind: beamer}", "{hostname: '[', kind: printer}")
    assert [line.split(": ", 1)[1] for line in str(error.value).splitlines()] == [
        "rule 1, kind: 'beamer' is not a device kind; one of: " + ", ".join(
            ("interactive_display", "projector", "document_camera", "laptop", "tablet", "desktop", "ops_pc",
             "access_point", "switch", "router", "printer", "server", "other")),
        "rule 2, hostname: '[' is not a valid regular expression: unterminated character set at position 0"]


@pytest.mark.parametrize("text, problem", [
    ("- {hostname: 'ops', kind: ops_pc}\n", "the file must hold one key, 'rules', with a list of rules"),
    ("rules: {hostname: 'ops', kind: ops_pc}\n", "the file must hold one key, 'rules', with a list of rules"),
    ("rules: [\n", "line 2: invalid YAML"),
])
def test_a_file_of_the_wrong_shape_is_refused(tmp_path, text, problem):
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=problem):
        load_rules(path)


def test_results_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        classify(ev(), RULES).kind = "printer"
    assert isinstance(classify(ev(), RULES), Classification)


def _rules(tmp_path, *lines: str):
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n" + "".join(f"  - {line}\n" for line in lines), encoding="utf-8")
    return load_rules(path)
