"""Liveness sweep: which addresses of a school's subnets answer, on which ports, and with which MAC.

An attempt at an address is an ICMP echo and a TCP connect to each port of a short list. A host is alive as soon as
anything answers; a refused connection counts, because the host itself sent the RST, while a timeout or an
unreachable error does not. An address still silent `timeout` after its attempt is tried again, `retries` times.
After the probes the kernel neighbour table gives the MACs of the live hosts on the local segment.

Attempts go out in chunks of addresses from two sender threads (socket calls release the GIL, so two cores send
about twice as fast); answers are read on the event loop with the kernel's receive time. The probes themselves, and
the ICMP and TCP modes a sweep falls back to where raw sockets are not permitted, are in discovery/probes.py.

Time is roughly TCP probes / send rate + timeout × (retries + 1) when capturing (a routed /16 is 1 M probes: about
11 s on two cores, see bench/discovery.py), and ⌈silent addresses × ports / concurrency⌉ × timeout × (retries + 1)
when holding sockets.
"""

import asyncio
import errno
import logging
import os
import socket
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from netaddr import AddrFormatError, EUI, IPAddress, IPNetwork, mac_unix_expanded

# checksum, echo_request and echo_reply lived here before probes.py: callers and tests still import them from here
from .probes import Capture, Pinger, SynSender, checksum, connect_held, descriptor_budget, echo_reply, echo_request

__all__ = ["MAX_ADDRESSES", "PORTS", "Alive", "SweepResult", "checksum", "echo_reply", "echo_request", "hosts_of",
           "neighbour_macs", "parse_proc_arp", "sweep"]

log = logging.getLogger(__name__)

PORTS = (22, 80, 443, 445, 1515, 3389, 5000, 9100)
MAX_ADDRESSES = 2**16  # a /16; anything larger is more likely a typo than a school
_CHUNK = 128  # addresses per hand-over to a sender thread: 1,152 probes, about 10 ms
_SENDERS = min(2, os.cpu_count() or 1)  # a third thread loses more to the GIL than it gains (measured on 2 cores)


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
    """One sweep: addresses probed, live hosts sorted by address, wall time, and the ICMP and TCP modes used."""

    probed: int
    alive: tuple[Alive, ...]
    duration_s: float
    icmp: str = "off"  # 'raw', 'datagram', 'unavailable' (no socket could be opened) or 'off'
    tcp: str = "off"  # 'capture' (answers read from a raw socket), 'held' (a socket per probe) or 'off' (no ports)


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


@dataclass(slots=True)
class _Address:
    """What one address has answered so far, and how often it was asked."""

    attempts: int = 0
    sent_ns: int = 0
    icmp_ms: float | None = None
    tcp_ms: float | None = None
    open_ports: set[int] = field(default_factory=set)
    settled: bool = False

    def alive(self, ip: str) -> Alive | None:
        if self.icmp_ms is not None:
            return Alive(ip, "icmp", frozenset(self.open_ports), round(self.icmp_ms, 3), None)
        if self.tcp_ms is not None:
            return Alive(ip, "tcp", frozenset(self.open_ports), round(self.tcp_ms, 3), None)
        return None


class _Sweep:
    """The attempts of one sweep: queues of addresses, sender threads, and the answers read on the loop."""

    def __init__(self, addresses: list[str], ports: Sequence[int], timeout: float, retries: int, concurrency: int,
                 pinger: Pinger | None, capture: Capture | None, progress: Callable[[int, int], object] | None):
        self.addresses = {ip: _Address() for ip in addresses}
        self.ports, self.timeout, self.retries = tuple(ports), timeout, retries
        self.pinger, self.capture, self.progress = pinger, capture, progress
        self.holding = capture is None and bool(self.ports)
        self.capacity = descriptor_budget(concurrency) if self.holding else 0
        self.held: dict[int, tuple[socket.socket, str, int]] = {}  # descriptor → socket, address, port
        self.reserved = 0  # descriptors the chunks being sent may open
        self.live: list[Alive] = []
        self.settled = 0

    async def run(self) -> list[Alive]:
        """Send every attempt, settle each address once its last attempt has timed out; the live ones."""
        loop = asyncio.get_running_loop()
        fresh, again = deque(self.addresses), deque()
        waiting: deque[tuple[float, list[str], list[socket.socket]]] = deque()  # in deadline order
        sending: dict[asyncio.Future, Future] = {}
        readers = [(opened.sock.fileno(), read) for opened, read in ((self.pinger, self._read_icmp),
                                                                      (self.capture, self._read_tcp)) if opened]
        for descriptor, read in readers:
            loop.add_reader(descriptor, read)
        senders = ThreadPoolExecutor(_SENDERS, thread_name_prefix="sweep")
        try:
            while fresh or again or waiting or sending:
                while waiting and waiting[0][0] <= loop.time():
                    _deadline, chunk, sockets = waiting.popleft()
                    self._settle(loop, chunk, sockets, again)
                while len(sending) < _SENDERS and (chunk := self._take(again or fresh)):
                    submitted = senders.submit(self._send, chunk)
                    sending[asyncio.wrap_future(submitted)] = submitted
                pause = waiting[0][0] - loop.time() if waiting else None
                if self.holding and (again or fresh):
                    pause = 0.01 if pause is None else min(pause, 0.01)  # answers free descriptors at any moment
                if sending:
                    finished, _ = await asyncio.wait(sending, timeout=pause, return_when=asyncio.FIRST_COMPLETED)
                    for future in finished:
                        del sending[future]
                        waiting.append(self._sent(loop, *future.result()))
                elif pause is not None:
                    await asyncio.sleep(max(pause, 0))
        finally:
            for descriptor, _read in readers:
                loop.remove_reader(descriptor)
            senders.shutdown(wait=True, cancel_futures=True)
            for submitted in sending.values():  # cancelled or failed on the way: their sockets are ours to close
                if not submitted.cancelled() and submitted.exception() is None:
                    for _ip, _port, sock in submitted.result()[1]:
                        sock.close()
            for descriptor, (sock, _ip, _port) in self.held.items():
                loop.remove_writer(descriptor)
                sock.close()
        return self.live

    def _take(self, queue: deque[str]) -> list[str]:
        """The next chunk of addresses to send, as many as free descriptors allow when probes hold sockets."""
        size = _CHUNK
        if self.holding:
            free = self.capacity - len(self.held) - self.reserved
            # with fewer descriptors than one address has ports, still one address at a time rather than none
            size = min(size, max(free // len(self.ports), 0 if self.held or self.reserved else 1))
            self.reserved += min(size, len(queue)) * len(self.ports)
        chunk = [queue.popleft() for _ in range(min(size, len(queue)))]
        for ip in chunk:
            self.addresses[ip].attempts += 1
        return chunk

    def _send(self, chunk: list[str]) -> tuple[list[str], list[tuple[str, int, socket.socket]], list[tuple]]:
        """One attempt at each address, in a sender thread: the sockets left connecting, and outcomes known now."""
        connecting, outcomes = [], []
        syn = SynSender() if self.capture is not None and self.ports else None
        try:
            for ip in chunk:
                self.addresses[ip].sent_ns = time.time_ns()
                if self.pinger is not None:
                    self.pinger.send(ip)
                for port in self.ports:
                    if syn is not None:
                        outcome = syn.send(ip, port)
                    else:
                        outcome, sock = connect_held(ip, port)
                        if sock is not None:
                            connecting.append((ip, port, sock))
                            continue
                    if outcome != errno.EINPROGRESS:
                        outcomes.append((ip, port, outcome, time.time_ns()))
        finally:
            if syn is not None:
                syn.sock.close()
        return chunk, connecting, outcomes

    def _sent(self, loop: asyncio.AbstractEventLoop, chunk: list[str], connecting: list, outcomes: list
              ) -> tuple[float, list[str], list[socket.socket]]:
        """Watch the sockets of a sent chunk; its entry in the deadline queue."""
        if self.holding:
            self.reserved -= len(chunk) * len(self.ports)
        for ip, port, sock in connecting:
            self.held[sock.fileno()] = (sock, ip, port)
            loop.add_writer(sock.fileno(), self._connected, loop, sock.fileno())
        for ip, port, outcome, received in outcomes:
            self._tcp(ip, port, outcome, received)
        return loop.time() + self.timeout, chunk, [sock for _ip, _port, sock in connecting]

    def _connected(self, loop: asyncio.AbstractEventLoop, descriptor: int) -> None:
        sock, ip, port = self.held.pop(descriptor)
        loop.remove_writer(descriptor)
        outcome = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        sock.close()
        self._tcp(ip, port, outcome, time.time_ns())

    def _read_icmp(self) -> None:
        for ip, rtt_ms in self.pinger.replies():
            address = self.addresses.get(ip)
            if address is not None and not address.settled and address.icmp_ms is None:
                address.icmp_ms = rtt_ms

    def _read_tcp(self) -> None:
        for ip, port, outcome, received in self.capture.answers():
            if port in self.ports:
                self._tcp(ip, port, outcome, received)

    def _tcp(self, ip: str, port: int, outcome: int, received: int) -> None:
        # a refusal or reset comes from the host; EHOSTUNREACH and friends from our kernel or a router
        address = self.addresses.get(ip)
        if address is None or address.settled or outcome not in (0, errno.ECONNREFUSED, errno.ECONNRESET):
            return
        if outcome == 0:
            address.open_ports.add(port)
        rtt_ms = max(0.0, (received - address.sent_ns) / 1e6)
        address.tcp_ms = rtt_ms if address.tcp_ms is None else min(address.tcp_ms, rtt_ms)

    def _settle(self, loop: asyncio.AbstractEventLoop, chunk: list[str], sockets: list[socket.socket],
                again: deque[str]) -> None:
        """A chunk's attempt has timed out: close what still waits, queue the silent again, report the rest."""
        for sock in sockets:
            if sock.fileno() != -1:  # else answered and closed already (its descriptor number may be reused)
                loop.remove_writer(sock.fileno())
                del self.held[sock.fileno()]
                sock.close()
        for ip in chunk:
            address = self.addresses[ip]
            found = address.alive(ip)
            if found is None and address.attempts <= self.retries:
                again.append(ip)
                continue
            address.settled = True
            if found is not None:
                self.live.append(found)
            self.settled += 1
            if self.progress is not None:
                self.progress(self.settled, len(self.addresses))


async def sweep(networks: list[str], ports: Sequence[int] = PORTS, timeout: float = 1.0, retries: int = 1,
                concurrency: int = 512, icmp: bool = True,
                progress: Callable[[int, int], object] | None = None) -> SweepResult:
    """Probe every host address of networks; the live ones with their open ports and neighbour-table MACs.

    concurrency bounds the TCP probes waiting at once where each holds a socket (no raw TCP socket permitted).
    """
    if concurrency < 1 or retries < 0 or timeout <= 0:
        raise ValueError("concurrency must be ≥ 1, retries ≥ 0 and timeout > 0")
    started = time.monotonic()
    addresses = hosts_of(networks)
    pinger = Pinger.open() if icmp else None
    capture = Capture.open() if ports else None
    icmp_mode = pinger.mode if pinger else ("unavailable" if icmp else "off")
    tcp_mode = "off" if not ports else "capture" if capture else "held"
    try:
        live = await _Sweep(addresses, ports, timeout, retries, concurrency, pinger, capture, progress).run()
    finally:
        for opened in (pinger, capture):
            if opened is not None:
                opened.sock.close()
    macs = neighbour_macs()
    alive = tuple(sorted((Alive(a.ip, a.via, a.open_ports, a.rtt_ms, macs.get(a.ip)) for a in live),
                         key=lambda a: IPAddress(a.ip)))
    duration = round(time.monotonic() - started, 3)
    log.info("swept %d addresses in %.1f s: %d alive (ICMP %s, TCP %s)", len(addresses), duration, len(alive),
             icmp_mode, tcp_mode)
    return SweepResult(len(addresses), alive, duration, icmp_mode, tcp_mode)
