"""The sweep against a school network built of network namespaces (tests/netlab.py), from a scanner inside it.

The scanner runs as a subprocess in its own namespace, whose only routes lead into the lab, and prints its result
as JSON. On the segment: the router, a host with two listeners, one that answers ping and drops all TCP, and one
that ignores ping (net.ipv4.icmp_echo_ignore_all) but listens on 9100. Behind the router: one host answering both,
and one that ignores ping and listens on 3389. Every other address is silent. A host that has no listener but
answers TCP still refuses connections with an RST, which is an answer: with ICMP off the router is found that way.
"""

import json
import shutil
import subprocess
import sys

import pytest

from tests.netlab import PROBE, Host, NetLab, unavailable

SEGMENT, ROUTED, ROUTED_SWEPT = "10.231.0.0/24", "10.232.0.0/16", "10.232.7.0/24"
UNROUTED = "10.233.0.0/29"  # the scanner has no route there: connect() fails at once and no packet leaves
ROUTER, SCANNER = "10.231.0.1", "10.231.0.2"
BOTH, PING_ONLY, TCP_ONLY = "10.231.0.10", "10.231.0.11", "10.231.0.12"
BEHIND, BEHIND_TCP_ONLY = "10.232.7.20", "10.232.7.21"
SAME_SEGMENT = (ROUTER, BOTH, PING_ONLY, TCP_ONLY)
OPEN_PORTS = {ROUTER: set(), SCANNER: set(), BOTH: {22, 80}, PING_ONLY: set(), TCP_ONLY: {9100},
              BEHIND: {443}, BEHIND_TCP_ONLY: {3389}}


@pytest.fixture(scope="module")
def lab():
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    hosts = [Host(BOTH, (22, 80)), Host(PING_ONLY, tcp=False), Host(TCP_ONLY, (9100,), icmp=False)]
    behind = [Host(BEHIND, (443,)), Host(BEHIND_TCP_ONLY, (3389,), icmp=False)]
    with NetLab(SEGMENT, hosts, ROUTED, behind) as school:
        yield school


def sweep_from_scanner(lab, *options, unprivileged=False):
    """The scanner's sweep of the segment, a routed /24 and an unrouted /29: parsed JSON, hosts keyed by address."""
    command = [sys.executable, str(PROBE), "sweep", SEGMENT, ROUTED_SWEPT, UNROUTED, "--timeout", "0.5", *options]
    if unprivileged:
        # what a service user gets: no raw sockets, ICMP through the datagram socket that ping_group_range allows
        subprocess.run(lab.in_scanner("sysctl", "-q", "-w", "net.ipv4.ping_group_range=0 2147483647"), check=True)
        command = ["setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw", *command]
    done = subprocess.run(lab.in_scanner(*command), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    result["hosts"] = {host["ip"]: host for host in result.pop("alive")}
    return result


@pytest.fixture(scope="module")
def swept(lab):
    return sweep_from_scanner(lab)


def test_the_sweep_probes_every_address_of_the_networks(swept):
    assert swept["probed"] == 254 + 254 + 6


def test_the_sweep_finds_exactly_the_live_hosts(swept):
    assert set(swept["hosts"]) == set(OPEN_PORTS)


def test_silent_addresses_are_not_reported(swept):
    assert not {"10.231.0.3", "10.231.0.13", "10.231.0.254", "10.232.7.1", "10.232.7.22"} & set(swept["hosts"])


def test_an_address_without_a_route_is_silence_not_an_answer(swept):
    assert not [ip for ip in swept["hosts"] if ip.startswith("10.233.")]


def test_hosts_that_answer_ping_are_alive_via_icmp_and_the_others_via_tcp(swept):
    via = {ip: host["via"] for ip, host in swept["hosts"].items()}
    assert via == {ROUTER: "icmp", SCANNER: "icmp", BOTH: "icmp", PING_ONLY: "icmp", TCP_ONLY: "tcp",
                   BEHIND: "icmp", BEHIND_TCP_ONLY: "tcp"}


def test_open_ports_are_exactly_the_listeners(swept):
    assert {ip: set(host["open_ports"]) for ip, host in swept["hosts"].items()} == OPEN_PORTS


def test_same_segment_hosts_carry_the_mac_of_their_veth(lab, swept):
    assert {ip: swept["hosts"][ip]["mac"] for ip in SAME_SEGMENT} == {ip: lab.mac(ip) for ip in SAME_SEGMENT}


def test_hosts_behind_the_router_and_the_scanner_itself_have_no_mac(swept):
    assert [swept["hosts"][ip]["mac"] for ip in (BEHIND, BEHIND_TCP_ONLY, SCANNER)] == [None, None, None]


def test_every_live_host_has_a_round_trip(swept):
    assert all(host["rtt_ms"] is not None and host["rtt_ms"] >= 0 for host in swept["hosts"].values())


def test_as_root_the_scanner_reads_answers_from_raw_sockets(swept):
    assert (swept["icmp"], swept["tcp"]) == ("raw", "capture")


def test_without_raw_sockets_the_sweep_finds_the_same_hosts_and_ports(lab):
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed: cannot drop CAP_NET_RAW")
    result = sweep_from_scanner(lab, "--concurrency", "4096", unprivileged=True)
    assert (result["icmp"], result["tcp"]) == ("datagram", "held")
    assert {ip: set(host["open_ports"]) for ip, host in result["hosts"].items()} == OPEN_PORTS
    assert result["hosts"][TCP_ONLY]["mac"] == lab.mac(TCP_ONLY)


def test_without_icmp_only_the_host_that_drops_tcp_goes_unseen(lab):
    result = sweep_from_scanner(lab, "--no-icmp")
    assert set(result["hosts"]) == set(OPEN_PORTS) - {PING_ONLY}
    assert {host["via"] for host in result["hosts"].values()} == {"tcp"}
    assert {ip: set(host["open_ports"]) for ip, host in result["hosts"].items()} == {
        ip: ports for ip, ports in OPEN_PORTS.items() if ip != PING_ONLY}
