"""The SNMP edge against a school in a box: one snmpsim process, one simulated device per 127.0.0.x address."""

import asyncio
import time
import warnings

import pytest

from tests.schoolbox import (
    AP, BIG, BOARD, LATIN1, LEGACY, OPS, PC, PHONE, PRINTER, ROUTER, STACK, STACK_MACS, SWITCH, V3_SWITCH,
    every_agent,
)
from tests.snmplab import Lab, LyingAgent

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
SILENT = "127.0.0.139"  # nothing listens here
LIAR = "127.0.0.138"  # served by a LyingAgent inside the test
QUICK = {"timeout": 0.5, "retries": 1}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The simulated school, running for this module."""
    with Lab(every_agent(), tmp_path_factory.mktemp("snmplab")).running() as school:
        yield school


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
    assert by_ip[PRINTER].device_descr == "Brother HL-L8360CDW series" and by_ip[PRINTER].model is None
    assert by_ip[OPS].sys_descr.startswith("Hardware: Intel64") and "Windows" in by_ip[OPS].sys_descr
    assert by_ip[OPS].macs == (PC,) and by_ip[OPS].sys_name == "OPS-R101"
    assert {info.credential_index for info in found} == {0}


def test_columns_longer_than_one_request_are_read_in_full(lab):
    found, errors = asyncio.run(identify([STACK], [V2], port=lab.port, **QUICK))
    assert errors == []
    assert found[0].macs == STACK_MACS and found[0].serial == "FOC201000X1Y2" and found[0].model == "WS-C3850-24T"


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
