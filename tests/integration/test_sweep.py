"""The liveness sweep against loopback only: every 127.x address answers on Linux without any setup.

On loopback a connect to a port nothing listens on is refused with an RST from our own kernel on behalf of the
address, so with ICMP off every swept 127.77.x address is alive via tcp; the open ports are exactly the listeners
these tests start. Nothing outside 127.0.0.0/8 is ever probed here.
"""

import asyncio
import contextlib
import socket

import pytest

from discovery import sweep as sweep_module
from discovery.sweep import Alive, checksum, echo_reply, echo_request, hosts_of, neighbour_macs, parse_proc_arp, sweep

SEGMENT = "127.77.0.0/24"


class _Hangup(asyncio.Protocol):
    def connection_made(self, transport):
        transport.close()


@contextlib.asynccontextmanager
async def listeners(*hosts):
    """One listener per host on a free port; yields the (host, port) pairs."""
    loop = asyncio.get_running_loop()
    servers = [await loop.create_server(_Hangup, host, 0) for host in hosts]
    try:
        yield [(host, server.sockets[0].getsockname()[1]) for host, server in zip(hosts, servers)]
    finally:
        for server in servers:
            server.close()
            await server.wait_closed()


def by_ip(result):
    return {alive.ip: alive for alive in result.alive}


def test_a_single_address_is_its_own_host():
    assert hosts_of(["127.77.0.5/32"]) == ["127.77.0.5"]
    assert hosts_of(["127.77.0.5"]) == ["127.77.0.5"]


def test_a_point_to_point_31_keeps_both_addresses():
    assert hosts_of(["127.77.0.4/31"]) == ["127.77.0.4", "127.77.0.5"]


def test_a_30_drops_network_and_broadcast():
    assert hosts_of(["127.77.0.4/30"]) == ["127.77.0.5", "127.77.0.6"]


def test_a_24_has_254_hosts_in_order():
    hosts = hosts_of(["127.77.0.0/24"])
    assert len(hosts) == 254
    assert hosts[0] == "127.77.0.1" and hosts[-1] == "127.77.0.254"


def test_host_bits_in_a_network_are_ignored():
    assert hosts_of(["127.77.0.5/30"]) == ["127.77.0.5", "127.77.0.6"]


def test_overlapping_networks_yield_each_address_once_in_first_seen_order():
    assert hosts_of(["127.77.0.4/30", "127.77.0.0/29", "127.77.0.6/32"]) == [
        "127.77.0.5", "127.77.0.6", "127.77.0.1", "127.77.0.2", "127.77.0.3", "127.77.0.4"]


def test_a_16_is_allowed_but_a_15_is_refused_by_name():
    assert len(hosts_of(["127.76.0.0/16"])) == 65534
    with pytest.raises(ValueError, match="127.76.0.0/15"):
        hosts_of(["127.77.0.0/24", "127.76.0.0/15"])


def test_garbage_and_ipv6_are_refused():
    with pytest.raises(ValueError, match="not a network"):
        hosts_of(["127.77.0.0/33"])
    with pytest.raises(ValueError, match="IPv4"):
        hosts_of(["::1/128"])


PROC_ARP = """\
IP address       HW type     Flags       HW address            Mask     Device
10.0.0.1         0x1         0x2         AA:BB:CC:00:11:22     *        eth0
10.0.0.7         0x1         0x0         00:00:00:00:00:00     *        eth0
10.0.0.8         0x1         0x2         00:00:00:00:00:00     *        eth0
10.0.0.9         0x1         0x0         aa:bb:cc:00:11:99     *        eth0
10.0.0.12        0x1         0x6         aa:bb:cc:00:11:33     *        eth0
10.0.0.1         0x1         0x2         aa:bb:cc:00:11:44     *        eth1
10.0.0.20        0x20        0x2         80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0a:0b:0c     *        ib0
10.0.0.21        0x1         zz          aa:bb:cc:00:11:55     *        eth0
truncated
"""


def test_the_arp_table_gives_canonical_macs_of_complete_entries_only():
    assert parse_proc_arp(PROC_ARP) == {
        "10.0.0.1": "aa:bb:cc:00:11:22",
        "10.0.0.12": "aa:bb:cc:00:11:33",
    }


def test_an_empty_arp_table_is_an_empty_mapping():
    assert parse_proc_arp(PROC_ARP.splitlines()[0]) == {}


def test_the_neighbour_table_is_read_from_its_file(tmp_path):
    table = tmp_path / "arp"
    table.write_text(PROC_ARP, encoding="ascii")
    assert neighbour_macs(str(table))["10.0.0.12"] == "aa:bb:cc:00:11:33"
    assert neighbour_macs(str(tmp_path / "absent")) == {}


def test_live_hosts_carry_the_mac_of_their_neighbour_entry(monkeypatch):
    monkeypatch.setattr(sweep_module, "neighbour_macs", lambda: {"127.77.0.9": "02:00:00:00:00:09"})
    result = asyncio.run(sweep(["127.77.0.9/31"], ports=(9,), timeout=0.5, icmp=False))
    assert [(alive.ip, alive.mac) for alive in result.alive] == [
        ("127.77.0.8", None), ("127.77.0.9", "02:00:00:00:00:09")]


def test_an_echo_request_checksums_to_zero():
    packet = echo_request(0x1234, 7, 123456789)
    assert packet[0] == 8 and len(packet) == 16
    assert checksum(packet) == 0


def _as_reply(request: bytes) -> bytes:
    return b"\0" + request[1:]


def test_an_echo_reply_gives_back_the_send_time_of_our_request():
    reply = _as_reply(echo_request(0x1234, 7, 123456789))
    ip_header = bytes([0x45]) + bytes(19)
    assert echo_reply(ip_header + reply, 0x1234, ip_header=True) == 123456789
    assert echo_reply(reply, None, ip_header=False) == 123456789  # a datagram socket: the kernel set the identifier


def test_other_icmp_is_not_a_reply_to_us():
    ip_header = bytes([0x45]) + bytes(19)
    assert echo_reply(ip_header + _as_reply(echo_request(0x9999, 7, 1)), 0x1234, ip_header=True) is None
    assert echo_reply(ip_header + echo_request(0x1234, 7, 1), 0x1234, ip_header=True) is None
    assert echo_reply(ip_header + bytes(8), 0x1234, ip_header=True) is None
    assert echo_reply(b"", None, ip_header=True) is None


def test_listeners_make_hosts_alive_with_exactly_their_open_ports():
    async def run():
        async with listeners("127.77.0.5", "127.77.0.5", "127.77.0.6") as bound:
            ports = tuple(port for _host, port in bound)
            return bound, await sweep([SEGMENT], ports=ports, timeout=0.5, icmp=False)

    bound, result = asyncio.run(run())
    hosts = by_ip(result)
    assert result.probed == 254 and result.icmp == "off"
    assert hosts["127.77.0.5"].open_ports == {bound[0][1], bound[1][1]}
    assert hosts["127.77.0.6"].open_ports == {bound[2][1]}
    assert hosts["127.77.0.5"].via == "tcp" and hosts["127.77.0.5"].rtt_ms is not None


def test_a_refused_port_makes_a_host_alive_with_no_open_ports():
    async def run():
        async with listeners("127.77.0.5") as [(_host, port)]:
            return await sweep(["127.77.0.9/32"], ports=(port,), timeout=0.5, icmp=False)

    result = asyncio.run(run())
    assert result.alive == (Alive("127.77.0.9", "tcp", frozenset(), result.alive[0].rtt_ms, None),)


def test_live_hosts_are_sorted_by_address_not_text():
    result = asyncio.run(sweep(["127.77.0.0/28"], ports=(9,), timeout=0.5, icmp=False))
    assert [alive.ip for alive in result.alive][:3] == ["127.77.0.1", "127.77.0.2", "127.77.0.3"]
    assert len(result.alive) == 14


def test_a_port_that_drops_syns_is_silence_and_is_retried():
    # a listener that never accepts, with its one-slot queue filled, makes the kernel drop further SYNs
    with socket.socket() as full, socket.socket() as queued:
        full.bind(("127.77.1.1", 0))
        full.listen(0)
        queued.connect(full.getsockname())
        port = full.getsockname()[1]
        result = asyncio.run(sweep(["127.77.1.1/32"], ports=(port,), timeout=0.2, retries=2, icmp=False))
    assert result.alive == ()
    assert result.duration_s >= 0.6  # three attempts of one timeout each


def test_progress_reaches_the_total():
    calls = []
    result = asyncio.run(sweep(["127.77.0.0/27"], ports=(9,), timeout=0.5, icmp=False,
                               progress=lambda done, total: calls.append((done, total))))
    assert calls[-1] == (30, 30) == (result.probed, result.probed)
    assert [done for done, _total in calls] == list(range(1, 31))


def test_a_24_with_the_default_ports_finishes_quickly():
    result = asyncio.run(sweep([SEGMENT], timeout=0.3, icmp=False))
    assert result.probed == 254 and len(result.alive) == 254
    assert result.duration_s < 5


def test_a_small_concurrency_still_probes_everything():
    result = asyncio.run(sweep(["127.77.0.0/29"], ports=(9, 10), timeout=0.5, concurrency=1, icmp=False))
    assert len(result.alive) == 6


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="concurrency"):
        asyncio.run(sweep([SEGMENT], concurrency=0))


def test_every_loopback_address_answers_icmp():
    result = asyncio.run(sweep([SEGMENT], ports=(), timeout=1.0, retries=0, icmp=True))
    if result.icmp == "unavailable":
        pytest.skip("no ICMP socket here: neither raw (needs root/CAP_NET_RAW) nor datagram (ping_group_range)")
    assert result.icmp in {"raw", "datagram"}
    assert len(result.alive) == 254  # at the first attempt: a burst of replies must fit the socket's buffer
    assert {alive.via for alive in result.alive} == {"icmp"}
    assert all(alive.rtt_ms is not None and alive.rtt_ms >= 0 for alive in result.alive)


class _NoIcmpSocket(socket.socket):
    """A socket that refuses ICMP the way an unprivileged process outside ping_group_range is refused."""

    def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
        if proto == socket.IPPROTO_ICMP:
            raise PermissionError(1, "Operation not permitted")
        super().__init__(family, type, proto, fileno)


def test_without_an_icmp_socket_the_sweep_relies_on_tcp(monkeypatch):
    monkeypatch.setattr(socket, "socket", _NoIcmpSocket)
    result = asyncio.run(sweep(["127.77.0.0/29"], ports=(9,), timeout=0.5, icmp=True))
    assert result.icmp == "unavailable"
    assert {alive.via for alive in result.alive} == {"tcp"} and len(result.alive) == 6


class _NoRawSocket(socket.socket):
    """A socket that refuses raw sockets, as a process without CAP_NET_RAW is refused."""

    def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
        if type == socket.SOCK_RAW:
            raise PermissionError(1, "Operation not permitted")
        super().__init__(family, type, proto, fileno)


def test_without_a_raw_socket_each_tcp_probe_holds_its_own_and_finds_the_same(monkeypatch):
    monkeypatch.setattr(socket, "socket", _NoRawSocket)

    async def run():
        async with listeners("127.77.0.5") as [(_host, port)]:
            return port, await sweep(["127.77.0.4/30"], ports=(port, 9), timeout=0.5, icmp=False)

    port, result = asyncio.run(run())
    assert result.tcp == "held"
    assert {alive.ip: alive.open_ports for alive in result.alive} == {"127.77.0.5": {port}, "127.77.0.6": set()}


def test_holding_sockets_a_concurrency_below_the_port_count_still_probes_everything(monkeypatch):
    monkeypatch.setattr(socket, "socket", _NoRawSocket)
    result = asyncio.run(sweep(["127.77.0.0/29"], ports=(9, 10), timeout=0.5, concurrency=1, icmp=False))
    assert result.tcp == "held" and len(result.alive) == 6
