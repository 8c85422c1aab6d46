"""Liveness sweep: which addresses of a school's subnets answer, on which ports, and with which MAC.

Every address is probed at once under one concurrency bound: an ICMP echo and a TCP connect to a short port list.
A host is alive as soon as anything answers; a refused connection counts, because the host itself sent the RST,
while a timeout or an unreachable error does not. Silent addresses are tried again `retries` times. After the
probes the kernel neighbour table gives the MACs of the live hosts on the local segment.

ICMP uses one socket for the whole sweep: a raw socket where permitted (root or CAP_NET_RAW), else the unprivileged
ICMP datagram socket (net.ipv4.ping_group_range), else none, and the sweep relies on TCP; `SweepResult.icmp` says
which. Time is roughly ⌈silent addresses × probes per address / concurrency⌉ × timeout × (retries + 1); each TCP
probe holds a file descriptor, so concurrency must stay below the process's descriptor limit.
"""

import asyncio
import contextlib
import errno
import logging
import os
import socket
import struct
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from netaddr import AddrFormatError, EUI, IPAddress, IPNetwork, mac_unix_expanded

log = logging.getLogger(__name__)

PORTS = (22, 80, 443, 445, 1515, 3389, 5000, 9100)
MAX_ADDRESSES = 2**16  # a /16; anything larger is more likely a typo than a school
_ECHO_REQUEST, _ECHO_REPLY = 8, 0
_ICMP_BUFFER = 4 * 2**20
_SO_RCVBUFFORCE = 33  # Linux; the socket module does not export it
_LINGER_RESET = struct.pack("ii", 1, 0)  # close with RST: a /16 of open ports would otherwise fill TIME_WAIT


@dataclass(frozen=True, slots=True)
class Alive:
    """A host that answered: via icmp if its echo came back, else tcp; open ports, round trip, neighbour MAC."""

    ip: str
    via: str
    open_ports: frozenset[int]
    rtt_ms: float | None
    mac: str | None


@dataclass(frozen=True, slots=True)
class SweepResult:
    """One sweep: addresses probed, live hosts sorted by address, wall time, and the ICMP mode used."""

    probed: int
    alive: tuple[Alive, ...]
    duration_s: float
    icmp: str = "off"  # 'raw', 'datagram', 'unavailable' (no socket could be opened) or 'off'


def hosts_of(networks: Iterable[str]) -> list[str]:
    """Usable IPv4 host addresses of the networks, deduplicated, in order; ValueError for one larger than a /16."""
    seen: dict[str, None] = {}
    for value in networks:
        try:
            network = IPNetwork(value).cidr
        except (AddrFormatError, ValueError, TypeError) as exc:
            raise ValueError(f"not a network: {value!r}") from exc
        if network.version != 4:
            raise ValueError(f"only IPv4 is swept: {network}")
        if network.size > MAX_ADDRESSES:
            raise ValueError(f"refusing to sweep {network}: larger than a /16")
        # netaddr keeps all addresses of a /31 and /32 (point-to-point, RFC 3021) and drops network and broadcast else
        seen.update((str(address), None) for address in network.iter_hosts())
    return list(seen)


def parse_proc_arp(text: str) -> dict[str, str]:
    """IPv4 address → canonical MAC from the text of /proc/net/arp, skipping incomplete entries."""
    macs: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 4:
            continue
        ip, _hw_type, flags, mac = parts[:4]
        try:
            if int(flags, 16) == 0 or mac == "00:00:00:00:00:00":
                continue
            macs.setdefault(ip, str(EUI(mac, dialect=mac_unix_expanded)))
        except (AddrFormatError, ValueError):
            continue  # a non-Ethernet hardware address (e.g. InfiniBand) is no MAC
    return macs


def neighbour_macs(path: str = "/proc/net/arp") -> dict[str, str]:
    """IPv4 address → MAC from the kernel neighbour table; empty where it cannot be read."""
    try:
        with open(path, encoding="ascii") as table:
            return parse_proc_arp(table.read())
    except OSError as exc:
        log.warning("neighbour table %s unreadable: %s", path, exc)
        return {}


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of data."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def echo_request(identifier: int, sequence: int, sent_ns: int) -> bytes:
    """An ICMP echo request carrying its send time, so a late reply still gives a true round trip."""
    payload = struct.pack("!Q", sent_ns)
    header = struct.pack("!BBHHH", _ECHO_REQUEST, 0, 0, identifier, sequence)
    return struct.pack("!BBHHH", _ECHO_REQUEST, 0, checksum(header + payload), identifier, sequence) + payload


def echo_reply(data: bytes, identifier: int | None, ip_header: bool) -> int | None:
    """The send time carried by an echo reply to one of our requests, else None; identifier None accepts any."""
    if ip_header:
        data = data[(data[0] & 0x0F) * 4:] if data else b""
    if len(data) < 16:
        return None
    kind, _code, _sum, reply_identifier, _sequence, sent_ns = struct.unpack("!BBHHHQ", data[:16])
    if kind != _ECHO_REPLY or (identifier is not None and reply_identifier != identifier):
        return None  # a raw socket sees every ICMP packet: other pings, errors, our own requests on loopback
    return sent_ns


class _Pinger:
    """One ICMP socket for the whole sweep: echo requests out, a reader task resolving per-address futures."""

    def __init__(self, sock: socket.socket, mode: str):
        self.sock, self.mode = sock, mode
        # a datagram socket's identifier is its port, set by the kernel, which also delivers only our own replies
        self.identifier = int.from_bytes(os.urandom(2), "big") if mode == "raw" else None
        self.sequence = 0
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.reader: asyncio.Task | None = None

    @classmethod
    def open(cls) -> "_Pinger | None":
        """A pinger on a raw socket, else a datagram socket, else None."""
        for kind, mode in ((socket.SOCK_RAW, "raw"), (socket.SOCK_DGRAM, "datagram")):
            try:
                sock = socket.socket(socket.AF_INET, kind, socket.IPPROTO_ICMP)
            except OSError as exc:
                log.debug("ICMP %s socket refused: %s", mode, exc)
                continue
            sock.setblocking(False)
            # replies of a whole burst queue up at once (raw on loopback, our own requests too) and overflow the
            # default buffer; forcing past net.core.rmem_max needs CAP_NET_ADMIN, else the kernel caps it
            try:
                sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, _ICMP_BUFFER)
            except OSError:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _ICMP_BUFFER)
            return cls(sock, mode)
        log.warning("no ICMP socket permitted (not root, ping_group_range excludes us): sweeping with TCP only")
        return None

    def start(self) -> None:
        """Start reading replies."""
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def close(self) -> None:
        """Stop reading and close the socket."""
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader
        self.sock.close()

    async def ping(self, ip: str, timeout: float) -> float | None:
        """Round trip to ip in milliseconds, or None when no reply came within timeout."""
        loop = asyncio.get_running_loop()
        future = self.waiting[ip] = loop.create_future()
        self.sequence = (self.sequence + 1) & 0xFFFF
        packet = echo_request(self.identifier or 0, self.sequence, time.monotonic_ns())
        try:
            await asyncio.wait_for(loop.sock_sendto(self.sock, packet, (ip, 0)), timeout)
            return await asyncio.wait_for(future, timeout)
        except (OSError, TimeoutError):
            return None
        finally:
            if self.waiting.get(ip) is future:
                del self.waiting[ip]

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                data, (ip, _port) = await loop.sock_recvfrom(self.sock, 2048)
            except OSError as exc:
                log.debug("ICMP read: %s", exc)
                continue
            sent_ns = echo_reply(data, self.identifier, ip_header=self.mode == "raw")
            future = self.waiting.get(ip)
            if sent_ns is not None and future is not None and not future.done():
                future.set_result((time.monotonic_ns() - sent_ns) / 1e6)


async def _connect(ip: str, port: int, timeout: float) -> tuple[str | None, float]:
    """('open' | 'refused' | None, ms): a refusal is an answer from the host; a timeout or unreachable is silence."""
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    # a bare socket rather than open_connection: the with block closes it whatever wait_for cancels, no stream left
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, (ip, port)), timeout)
            state = "open"
        except ConnectionRefusedError:
            state = "refused"
        except TimeoutError:
            state = None
        except OSError as exc:
            # EHOSTUNREACH and friends come from our kernel or a router, not from the host
            state = "refused" if exc.errno == errno.ECONNRESET else None
    return state, (time.monotonic() - started) * 1000


class _Sweep:
    """The probes of one sweep, sharing a semaphore and, when there is one, the ICMP socket."""

    def __init__(self, ports: Sequence[int], timeout: float, retries: int, concurrency: int,
                 pinger: _Pinger | None):
        self.ports, self.timeout, self.retries, self.pinger = tuple(ports), timeout, retries, pinger
        self.slots = asyncio.Semaphore(concurrency)

    async def host(self, ip: str) -> Alive | None:
        """Probe ip until it answers or its retries are spent."""
        for _attempt in range(self.retries + 1):
            answer = await self._attempt(ip)
            if answer is not None:
                return answer
        return None

    async def _attempt(self, ip: str) -> Alive | None:
        icmp, *tcp = await asyncio.gather(self._ping(ip), *(self._tcp(ip, port) for port in self.ports))
        answered = [(rtt, port, state) for port, (state, rtt) in zip(self.ports, tcp) if state]
        if icmp is None and not answered:
            return None
        open_ports = frozenset(port for _rtt, port, state in answered if state == "open")
        if icmp is not None:
            return Alive(ip, "icmp", open_ports, round(icmp, 3), None)
        return Alive(ip, "tcp", open_ports, round(min(answered)[0], 3), None)

    async def _ping(self, ip: str) -> float | None:
        if self.pinger is None:
            return None
        async with self.slots:
            return await self.pinger.ping(ip, self.timeout)

    async def _tcp(self, ip: str, port: int) -> tuple[str | None, float]:
        async with self.slots:
            return await _connect(ip, port, self.timeout)


async def sweep(networks: list[str], ports: Sequence[int] = PORTS, timeout: float = 1.0, retries: int = 1,
                concurrency: int = 512, icmp: bool = True,
                progress: Callable[[int, int], object] | None = None) -> SweepResult:
    """Probe every host address of networks; the live ones with their open ports and neighbour-table MACs."""
    if concurrency < 1 or retries < 0 or timeout <= 0:
        raise ValueError("concurrency must be ≥ 1, retries ≥ 0 and timeout > 0")
    started = time.monotonic()
    addresses = hosts_of(networks)
    pinger = _Pinger.open() if icmp else None
    mode = pinger.mode if pinger else ("unavailable" if icmp else "off")
    live: list[Alive] = []
    done = 0
    pending = iter(addresses)

    async def worker(probe: _Sweep) -> None:
        # workers pull addresses so a /16 does not create 65,534 tasks up front; the semaphore bounds the probes
        nonlocal done
        for ip in pending:
            answer = await probe.host(ip)
            if answer is not None:
                live.append(answer)
            done += 1
            if progress is not None:
                progress(done, len(addresses))

    if pinger is not None:
        pinger.start()
    try:
        probe = _Sweep(ports, timeout, retries, concurrency, pinger)
        await asyncio.gather(*(worker(probe) for _ in range(min(concurrency, len(addresses)))))
    finally:
        if pinger is not None:
            await pinger.close()
    macs = neighbour_macs()
    alive = tuple(sorted((replace(a, mac=macs.get(a.ip)) for a in live),
                         key=lambda a: IPAddress(a.ip)))
    duration = round(time.monotonic() - started, 3)
    log.info("swept %d addresses in %.1f s: %d alive (ICMP %s)", len(addresses), duration, len(alive), mode)
    return SweepResult(len(addresses), alive, duration, mode)
