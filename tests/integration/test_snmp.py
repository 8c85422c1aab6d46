"""The SNMP edge against a school in a box: one snmpsim process, one simulated device per 127.0.0.x address."""

import asyncio
import time
import warnings

import pytest

from tests.snmplab import (
    GAUGE, HEX, INTEGER, OCTETS, Agent, Lab, LyingAgent, interfaces, mac_hex, mac_index, system,
)

# pysmi 2 (needed only by snmpsim) deprecates the camelCase names pysnmp 7 calls on import and on its first request;
# without pysmi installed pysnmp never touches it
PYSMI_RENAMES = r"\w+ is deprecated\. Please use \w+ instead"
pytestmark = pytest.mark.filterwarnings(f"ignore:{PYSMI_RENAMES}:DeprecationWarning")

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", PYSMI_RENAMES, DeprecationWarning)
    pytest.importorskip("snmpsim", reason="snmpsim is not installed (pip install -e '.[test]')")
    from discovery.snmp import ArpEntry, Credential, FdbEntry, SnmpError, arp_table, forwarding_table, identify

V2 = Credential("2c", community="public")
V3 = Credential("3", user="admin", auth_protocol="SHA", auth_key="authkey123", priv_protocol="AES",
                priv_key="privkey123")
ROUTER, SWITCH, LEGACY, AP, PRINTER, OPS, V3_SWITCH, LATIN1, BIG = (f"127.0.0.{n}" for n in range(121, 130))
SILENT = "127.0.0.139"  # nothing listens here
LIAR = "127.0.0.138"  # served by a LyingAgent inside the test
QUICK = {"timeout": 0.5, "retries": 1}

PC, PHONE, BOARD = "b4:ad:a3:01:02:03", "3c:22:fb:44:55:66", "00:02:75:aa:bb:cc"


def router() -> Agent:
    physical = "1.3.6.1.2.1.4.35.1.4"
    media = "1.3.6.1.2.1.4.22.1.2"
    rows = system("RouterOS CHR 7.14", "1.3.6.1.4.1.14988.1", "gw-schule") + interfaces(["4c:5e:0c:11:22:33"])
    rows += [
        (f"{physical}.1.1.4.10.0.0.5", HEX, mac_hex(PC)),
        (f"{physical}.1.1.4.10.0.0.6", HEX, ""),  # an incomplete entry
        (f"{physical}.1.2.16.254.128.0.0.0.0.0.0.0.0.0.0.0.0.0.1", HEX, mac_hex(PHONE)),
        (f"{media}.1.10.0.0.5", HEX, mac_hex(PC)),
        (f"{media}.1.10.0.0.7", HEX, mac_hex(BOARD)),
    ]
    return Agent(ROUTER, tuple(rows))


def switch() -> Agent:
    fdb = "1.3.6.1.2.1.17.7.1.2.2.1.2"
    rows = system("HPE OfficeConnect Switch 1920S 24G", "1.3.6.1.4.1.11.2.3.7.11.1", "sw-a")
    rows += interfaces(["70:10:6f:00:00:01", "70:10:6f:00:00:02", "70:10:6f:00:00:03"], ["CPU", "1/0/1", "1/0/2"])
    rows += [
        ("1.3.6.1.2.1.17.1.4.1.2.1", INTEGER, "2"),  # bridge port 1 is ifIndex 2
        ("1.3.6.1.2.1.17.1.4.1.2.2", INTEGER, "3"),
        (f"{fdb}.1.{mac_index(PC)}", INTEGER, "1"),
        (f"{fdb}.10.{mac_index(PC)}", INTEGER, "1"),  # the same MAC in a second VLAN
        (f"{fdb}.10.{mac_index(BOARD)}", INTEGER, "2"),
        (f"{fdb}.1.{mac_index('70:10:6f:00:00:01')}", INTEGER, "0"),  # the switch itself
        (f"1.3.6.1.2.1.17.4.3.1.2.{mac_index(PHONE)}", INTEGER, "2"),  # ignored: dot1q is there
        ("1.3.6.1.2.1.47.1.1.1.1.11.1", OCTETS, "CN12345678"),
        ("1.3.6.1.2.1.47.1.1.1.1.13.1", OCTETS, "JL381A"),
    ]
    return Agent(SWITCH, tuple(rows))


def legacy_switch() -> Agent:
    rows = system("3Com Baseline Switch 2226", "1.3.6.1.4.1.43.1.16.4.3.42", "sw-alt")
    rows += [
        ("1.3.6.1.2.1.2.2.1.2.5", OCTETS, "Port 5"),
        ("1.3.6.1.2.1.17.1.4.1.2.5", INTEGER, "5"),
        (f"1.3.6.1.2.1.17.4.3.1.2.{mac_index(PHONE)}", INTEGER, "5"),
        (f"1.3.6.1.2.1.17.4.3.1.2.{mac_index(PC)}", INTEGER, "7"),  # a bridge port with no ifIndex
    ]
    return Agent(LEGACY, tuple(rows))


def access_point() -> Agent:
    rows = system("UAP-AC-Pro-Gen2 6.6.55.15189", "1.3.6.1.4.1.8072.3.2.10", "ap-raum-101", "Raum 101")
    return Agent(AP, tuple(rows + interfaces(["", "78:8a:20:aa:bb:cc"], ["lo", "eth0"])))


def printer() -> Agent:
    rows = system("Brother NC-8300h, Firmware Ver.1.10", "1.3.6.1.4.1.2435.2.3.9.1", "BRN008077123456")
    rows += [("1.3.6.1.2.1.43.5.1.1.17.1", OCTETS, "E78123A4N123456")]
    return Agent(PRINTER, tuple(rows + interfaces(["00:80:77:12:34:56"])))


def ops_pc() -> Agent:
    descr = ("Hardware: Intel64 Family 6 Model 154 Stepping 3 AT/AT COMPATIBLE - Software: Windows Version 6.3 "
             "(Build 22631 Multiprocessor Free)")
    rows = system(descr, "1.3.6.1.4.1.311.1.1.3.1.1", "OPS-R101")
    # a loopback, the LAN port twice (two logical interfaces), a tunnel with an all-zero address
    return Agent(OPS, tuple(rows + interfaces(["", PC, PC, "00:00:00:00:00:00"])))


def v3_switch() -> Agent:
    rows = system("Cisco IOS Software, C2960X Software, Version 15.2(7)E8", "1.3.6.1.4.1.9.1.1208", "sw-core")
    rows += [("1.3.6.1.2.1.47.1.1.1.1.11.1001", OCTETS, "FOC1234X0AB")]
    return Agent(V3_SWITCH, tuple(rows), v3_user="admin", v3_auth_key="authkey123", v3_priv_key="privkey123")


def latin1_host() -> Agent:
    return Agent(LATIN1, tuple(system(b"Drucker B\xfcro 2. OG \xff", "1.3.6.1.4.1.99999", "drucker")))


def big_router() -> Agent:
    rows = system("Linux gw-gross 6.1.0", "1.3.6.1.4.1.8072.3.2.10", "gw-gross")
    rows += [(f"1.3.6.1.2.1.4.22.1.2.1.10.1.{n // 250}.{n % 250 + 1}", HEX, f"0050560{n:05x}") for n in range(5000)]
    rows += [("1.3.6.1.2.1.4.31.1.1.3.1", GAUGE, "5000")]  # something after the table, as on a real agent
    return Agent(BIG, tuple(rows))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The simulated school, running for this module."""
    agents = [router(), switch(), legacy_switch(), access_point(), printer(), ops_pc(), v3_switch(), latin1_host(),
              big_router()]
    school = Lab(agents, tmp_path_factory.mktemp("snmplab"))
    school.start()
    try:
        yield school
    finally:
        school.stop()


def test_identify_reads_each_kind_of_device(lab):
    hosts = [ROUTER, SWITCH, AP, PRINTER, OPS]
    found, errors = asyncio.run(identify(hosts, [V2], port=lab.port, **QUICK))
    assert errors == []
    by_ip = {info.ip: info for info in found}
    assert sorted(by_ip) == sorted(hosts)
    assert by_ip[SWITCH].serial == "CN12345678" and by_ip[SWITCH].model == "JL381A"
    assert by_ip[SWITCH].macs == ("70:10:6f:00:00:01", "70:10:6f:00:00:02", "70:10:6f:00:00:03")
    assert by_ip[AP].sys_descr.startswith("UAP-AC-Pro") and by_ip[AP].sys_location == "Raum 101"
    assert by_ip[AP].serial is None and by_ip[AP].macs == ("78:8a:20:aa:bb:cc",)
    assert by_ip[PRINTER].serial == "E78123A4N123456" and by_ip[PRINTER].sys_object_id == "1.3.6.1.4.1.2435.2.3.9.1"
    assert by_ip[OPS].sys_descr.startswith("Hardware: Intel64") and "Windows" in by_ip[OPS].sys_descr
    assert by_ip[OPS].macs == (PC,) and by_ip[OPS].sys_name == "OPS-R101"
    assert {info.credential_index for info in found} == {0}


def test_router_arp_table_merges_both_tables(lab):
    entries, errors = asyncio.run(arp_table(ROUTER, [V2], port=lab.port, **QUICK))
    assert errors == []
    assert entries == [ArpEntry("10.0.0.5", PC), ArpEntry("fe80::1", PHONE), ArpEntry("10.0.0.7", BOARD)]


def test_switch_forwarding_table_names_ports_by_ifname(lab):
    entries, errors = asyncio.run(forwarding_table(SWITCH, [V2], port=lab.port, **QUICK))
    assert errors == []
    assert entries == [FdbEntry(PC, SWITCH, "1/0/1"), FdbEntry(BOARD, SWITCH, "1/0/2")]


def test_old_switch_falls_back_to_dot1d_and_ifdescr(lab):
    entries, errors = asyncio.run(forwarding_table(LEGACY, [V2], port=lab.port, **QUICK))
    assert errors == []
    assert entries == [FdbEntry(PHONE, LEGACY, "Port 5"), FdbEntry(PC, LEGACY, "port 7")]


def test_v3_only_switch_answers_the_second_credential(lab):
    found, errors = asyncio.run(identify([V3_SWITCH], [V2, V3], port=lab.port, **QUICK))
    assert errors == []
    assert [(info.credential_index, info.serial, info.sys_name) for info in found] == [(1, "FOC1234X0AB", "sw-core")]


def test_remembered_credential_is_tried_first(lab):
    def timed(remembered):
        started = time.monotonic()
        found, _ = asyncio.run(identify([V3_SWITCH], [V2, V3], port=lab.port, remembered=remembered, **QUICK))
        assert [info.credential_index for info in found] == [1]
        return time.monotonic() - started

    # asking v2c first costs a whole timeout with its retries before v3 is asked; the remembered index skips that
    assert timed({V3_SWITCH: 1}) < timed({})


def test_v3_only_switch_does_not_answer_v2c(lab):
    found, errors = asyncio.run(identify([V3_SWITCH], [V2], port=lab.port, **QUICK))
    assert found == [] and [error.ip for error in errors] == [V3_SWITCH]


def test_silent_host_gives_one_error_line_and_hides_no_other(lab):
    found, errors = asyncio.run(identify([SILENT, PRINTER], [V2], port=lab.port, **QUICK))
    assert [info.ip for info in found] == [PRINTER]
    assert len(errors) == 1 and errors[0].ip == SILENT and errors[0].message


def test_silent_router_and_switch_give_an_error_not_a_hang(lab):
    assert asyncio.run(arp_table(SILENT, [V2], port=lab.port, **QUICK))[0] == []
    entries, errors = asyncio.run(forwarding_table(SILENT, [V2], port=lab.port, **QUICK))
    assert entries == [] and len(errors) == 1 and isinstance(errors[0], SnmpError)


def test_sysdescr_that_is_not_utf8_is_read_with_replacements(lab):
    found, errors = asyncio.run(identify([LATIN1], [V2], port=lab.port, **QUICK))
    assert errors == []
    assert found[0].sys_descr == "Drucker B\ufffdro 2. OG \ufffd" and found[0].macs == ()


def test_row_limit_stops_a_long_table(lab):
    entries, errors = asyncio.run(arp_table(BIG, [V2], port=lab.port, row_limit=1000, **QUICK))
    assert len(entries) == 1000
    assert len(errors) == 1 and "row limit" in errors[0].message


def test_long_table_is_read_in_full_below_the_limit(lab):
    entries, errors = asyncio.run(arp_table(BIG, [V2], port=lab.port, **QUICK))
    assert errors == []
    assert len(entries) == 5000 and len({entry.ip for entry in entries}) == 5000
    assert entries[0] == ArpEntry("10.1.0.1", "00:50:56:00:00:00")


def test_agent_whose_walks_never_advance_costs_one_error_line(lab):
    async def ask_the_liar():
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(LyingAgent, local_addr=(LIAR, lab.port))
        try:
            return await identify([LIAR], [V2], port=lab.port, **QUICK), await forwarding_table(
                LIAR, [V2], port=lab.port, **QUICK)
        finally:
            transport.close()

    (found, errors), (entries, fdb_errors) = asyncio.run(ask_the_liar())
    assert [info.ip for info in found] == [LIAR] and found[0].macs == () and found[0].serial is None
    assert len(errors) == 1 and "after" in errors[0].message  # stopped at the first repeated OID
    assert entries == [] and len(fdb_errors) == 1 and "after" in fdb_errors[0].message
