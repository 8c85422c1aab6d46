"""Liveness sweep: which addresses of a school's subnets answer, on which ports, and with which MAC.

An attempt at an address is an ICMP echo and a TCP connect to each port of a short list. A host is alive as soon as
anything answers; a refused connection counts, because the host itself sent the RST, while a timeout or an
unreachable error does not. An address still silent `timeout` after its attempt is tried again, `retries` times.
After the probes the kernel neighbour table gives the MACs of the live hosts on the local segment.

Attempts go out in chunks of addresses from two sender threads (socket calls release the GIL, so two cores send
about twice as fast); answers are read on the event loop with the kernel's receive time. Waiting for an answer
costs no file descriptor where the kernel lets one socket read all the answers:
- ICMP uses one socket for the whole sweep: raw where permitted (root or CAP_NET_RAW), else the unprivileged
  datagram socket (net.ipv4.ping_group_range), else none and the sweep relies on TCP; `SweepResult.icmp` says which.
- TCP 'capture' (a raw TCP socket is permitted): as soon as connect() has sent its SYN the socket is disconnected
  and reused for the next probe, and the SYN-ACK or RST is read from the raw socket, which a kernel filter limits to
  answers to a SYN; our kernel answers the SYN-ACK with an RST, so no connection is ever completed. Else 'held':
  each probe holds its own socket until an answer or the timeout, at most `concurrency` at once and within the
  descriptor limit, whose soft value is raised to the hard one. `SweepResult.tcp` says which.

Time is roughly TCP probes / send rate + timeout × (retries + 1) when capturing (a routed /16 is 1 M probes: about
11 s on two cores, see bench/discovery.py), and ⌈silent addresses × ports / concurrency⌉ × timeout × (retries + 1)
when holding sockets.
"""

import asyncio
import ctypes
import errno
import logging
import os
import resource
import select
import socket
import struct
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from netaddr import AddrFormatError, EUI, IPAddress, IPNetwork, mac_unix_expanded

log = logging.getLogger(__name__)

PORTS = (22, 80, 443, 445, 1515, 3389, 5000, 9100)
MAX_ADDRESSES = 2**16  # a /16; anything larger is more likely a typo than a school
_ECHO_REQUEST, _ECHO_REPLY = 8, 0
_SYN, _RST, _ACK = 0x02, 0x04, 0x10
_BUFFER = 16 * 2**20  # answers queue up while the senders hold the GIL; requests wait for ARP on the segment
_SO_SNDBUFFORCE, _SO_RCVBUFFORCE, _SO_TIMESTAMPNS, _SO_ATTACH_FILTER = 32, 33, 35, 26  # Linux, not in socket
_TIMESTAMP_SPACE = socket.CMSG_SPACE(16)
_LINGER_RESET = struct.pack("ii", 1, 0)  # close with RST: a /16 of open ports would otherwise fill TIME_WAIT
# classic BPF over the IP packet: X = IP header length, A = TCP flags; keep ACK with SYN or RST, drop the rest, so
# the raw socket sees answers to SYNs and not every segment of the machine's own connections
_ANSWERS_ONLY = ((0xB1, 0, 0, 0), (0x50, 0, 0, 13), (0x45, 0, 2, _ACK), (0x45, 0, 1, _SYN | _RST),
                 (0x06, 0, 0, 0xFFFF), (0x06, 0, 0, 0))
_CHUNK = 128  # addresses per hand-over to a sender thread: 1,152 probes, about 10 ms
_SENDERS = min(2, os.cpu_count() or 1)  # a third thread loses more to the GIL than it gains (measured on 2 cores)
_SPARE_DESCRIPTORS = 64


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


def _receive(sock: socket.socket) -> Iterator[tuple[bytes, str, int]]:
    """Every queued packet with its source address and the kernel's receive time (ns since the epoch)."""
    while True:
        try:
            data, ancillary, _flags, (ip, _port) = sock.recvmsg(2048, _TIMESTAMP_SPACE)
        except BlockingIOError:
            return
        except OSError as exc:  # an ICMP error queued on a datagram socket, reported once
            log.debug("read: %s", exc)
            continue
        received = time.time_ns()
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(value) >= 16:
                seconds, nanoseconds = struct.unpack("qq", value[:16])
                received = seconds * 10**9 + nanoseconds
        yield data, ip, received


def _reading_socket(kind: int, protocol: int) -> socket.socket:
    """A non-blocking socket with large buffers that timestamps what it receives."""
    sock = socket.socket(socket.AF_INET, kind, protocol)
    sock.setblocking(False)
    # a request to an address being resolved stays charged to the socket until ARP gives up (3 s), so a segment's
    # worth of them fills the default send buffer; forcing past net.core.[rw]mem_max needs CAP_NET_ADMIN, else the
    # kernel caps the size
    for forced, plain in ((_SO_SNDBUFFORCE, socket.SO_SNDBUF), (_SO_RCVBUFFORCE, socket.SO_RCVBUF)):
        try:
            sock.setsockopt(socket.SOL_SOCKET, forced, _BUFFER)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, plain, _BUFFER)
    sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    return sock


class _Pinger:
    """One ICMP socket for the whole sweep: echo requests out from the senders, replies read on the loop."""

    def __init__(self, sock: socket.socket, mode: str):
        self.sock, self.mode = sock, mode
        # a datagram socket's identifier is its port, set by the kernel, which also delivers only our own replies
        self.identifier = int.from_bytes(os.urandom(2), "big") if mode == "raw" else None
        self.sequence = 0

    @classmethod
    def open(cls) -> "_Pinger | None":
        """A pinger on a raw socket, else a datagram socket, else None."""
        for kind, mode in ((socket.SOCK_RAW, "raw"), (socket.SOCK_DGRAM, "datagram")):
            try:
                return cls(_reading_socket(kind, socket.IPPROTO_ICMP), mode)
            except OSError as exc:
                log.debug("ICMP %s socket refused: %s", mode, exc)
        log.warning("no ICMP socket permitted (not root, ping_group_range excludes us): sweeping with TCP only")
        return None

    def send(self, ip: str) -> None:
        """Send one echo request (from a sender thread); a full send buffer gets a moment to drain, then the
        request counts as lost, like any other: the TCP probes still go out and a retry follows."""
        self.sequence = (self.sequence + 1) & 0xFFFF
        packet = echo_request(self.identifier or 0, self.sequence, time.time_ns())
        for _try in range(2):
            try:
                self.sock.sendto(packet, (ip, 0))
                return
            except BlockingIOError:
                select.select([], [self.sock], [], 0.01)
            except OSError as exc:  # no route, or the neighbour table is full
                log.debug("ICMP to %s: %s", ip, exc)
                return

    def replies(self) -> Iterator[tuple[str, float]]:
        """(address, round trip in ms) of every echo reply to us queued on the socket."""
        for data, ip, received in _receive(self.sock):
            sent_ns = echo_reply(data, self.identifier, ip_header=self.mode == "raw")
            if sent_ns is not None:
                yield ip, max(0.0, (received - sent_ns) / 1e6)


class _Capture:
    """A raw TCP socket that sees the SYN-ACKs and RSTs answering our connects after their sockets are closed."""

    def __init__(self, sock: socket.socket):
        self.sock = sock

    @classmethod
    def open(cls) -> "_Capture | None":
        """A capture socket with its filter attached, or None where raw sockets are not permitted."""
        try:
            sock = _reading_socket(socket.SOCK_RAW, socket.IPPROTO_TCP)
        except OSError as exc:
            log.debug("raw TCP socket refused (%s): each TCP probe holds its socket", exc)
            return None
        program = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *op) for op in _ANSWERS_ONLY))
        sock.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER,
                        struct.pack("HL", len(_ANSWERS_ONLY), ctypes.addressof(program)))
        return cls(sock)

    def answers(self) -> Iterator[tuple[str, int, int, int]]:
        """(address, port, errno-like outcome, receive time) of every answer queued: 0 open, ECONNREFUSED closed."""
        for data, ip, received in _receive(self.sock):
            header = (data[0] & 0x0F) * 4
            if len(data) >= header + 14:
                port, flags = int.from_bytes(data[header:header + 2], "big"), data[header + 13]
                yield ip, port, 0 if flags & _SYN else errno.ECONNREFUSED, received


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


class _SynSender:
    """One socket that sends SYN after SYN: connect() sends one, and a connect() to AF_UNSPEC puts the socket back
    to CLOSE without a packet (connect(2)), so a probe costs two system calls and no descriptor of its own."""

    def __init__(self):
        self.sock = _tcp_socket()

    def send(self, ip: str, port: int) -> int:
        """Send a SYN; the errno of connect(): EINPROGRESS normally, 0 if connected at once, or an error."""
        outcome = self.sock.connect_ex((ip, port))
        if outcome == 0:  # connected at once (loopback can): end it with an RST and start afresh
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
            self.sock.close()
            self.sock = _tcp_socket()
        elif _libc.connect(self.sock.fileno(), _UNSPECIFIED, len(_UNSPECIFIED)) != 0:
            raise OSError(ctypes.get_errno(), "cannot disconnect a probe socket")
        return outcome


def _tcp_socket() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)


_libc = ctypes.CDLL(None, use_errno=True)
_UNSPECIFIED = struct.pack("=H14x", socket.AF_UNSPEC)


class _Sweep:
    """The attempts of one sweep: queues of addresses, sender threads, and the answers read on the loop."""

    def __init__(self, addresses: list[str], ports: Sequence[int], timeout: float, retries: int, concurrency: int,
                 pinger: _Pinger | None, capture: _Capture | None, progress: Callable[[int, int], object] | None):
        self.addresses = {ip: _Address() for ip in addresses}
        self.ports, self.timeout, self.retries = tuple(ports), timeout, retries
        self.pinger, self.capture, self.progress = pinger, capture, progress
        self.holding = capture is None and bool(self.ports)
        self.capacity = _descriptor_budget(concurrency) if self.holding else 0
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
        syn = _SynSender() if self.capture is not None and self.ports else None
        try:
            for ip in chunk:
                self.addresses[ip].sent_ns = time.time_ns()
                if self.pinger is not None:
                    self.pinger.send(ip)
                for port in self.ports:
                    if syn is not None:
                        outcome = syn.send(ip, port)
                    else:
                        sock = _tcp_socket()
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
                        outcome = sock.connect_ex((ip, port))
                        if outcome == errno.EINPROGRESS:
                            connecting.append((ip, port, sock))
                            continue
                        sock.close()
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


def _descriptor_budget(concurrency: int) -> int:
    """How many probe sockets may be open at once: concurrency, within the descriptor limit raised to its hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < concurrency + _SPARE_DESCRIPTORS and soft != hard:
        wanted = concurrency + 4 * _SPARE_DESCRIPTORS
        soft = wanted if hard == resource.RLIM_INFINITY else min(hard, wanted)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if soft == resource.RLIM_INFINITY:
        return concurrency
    try:
        in_use = len(os.listdir("/proc/self/fd"))
    except OSError:
        in_use = _SPARE_DESCRIPTORS
    budget = max(1, min(concurrency, soft - in_use - _SPARE_DESCRIPTORS))
    if budget < concurrency:
        log.warning("descriptor limit %d allows %d TCP probes at once, not %d", soft, budget, concurrency)
    return budget


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
    pinger = _Pinger.open() if icmp else None
    capture = _Capture.open() if ports else None
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
