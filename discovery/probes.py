"""Probes of the liveness sweep (discovery.sweep): ICMP echo requests and TCP connects, and reading their answers.

Waiting for an answer costs no file descriptor where the kernel lets one socket read all the answers:
- ICMP uses one socket for the whole sweep: raw where permitted (root or CAP_NET_RAW), else the unprivileged
  datagram socket (net.ipv4.ping_group_range), else none and the sweep relies on TCP; `SweepResult.icmp` says which.
- TCP 'capture' (a raw TCP socket is permitted): as soon as connect() has sent its SYN the socket is disconnected
  and reused for the next probe, and the SYN-ACK or RST is read from the raw socket, which a kernel filter limits to
  answers to a SYN; our kernel answers the SYN-ACK with an RST, so no connection is ever completed. Else 'held':
  each probe holds its own socket until an answer or the timeout, at most `concurrency` at once and within the
  descriptor limit, whose soft value is raised to the hard one. `SweepResult.tcp` says which.

The ICMP and capture sockets timestamp what they receive, so a round trip ends at the kernel's receive time, not
whenever the event loop gets round to reading.
"""

import ctypes
import errno
import logging
import os
import resource
import select
import socket
import struct
import time
from collections.abc import Iterator

log = logging.getLogger(__name__)

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
_SPARE_DESCRIPTORS = 64


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


class Pinger:
    """One ICMP socket for the whole sweep: echo requests out from the senders, replies read on the loop."""

    def __init__(self, sock: socket.socket, mode: str):
        self.sock, self.mode = sock, mode
        # a datagram socket's identifier is its port, set by the kernel, which also delivers only our own replies
        self.identifier = int.from_bytes(os.urandom(2), "big") if mode == "raw" else None
        self.sequence = 0

    @classmethod
    def open(cls) -> "Pinger | None":
        """A pinger on a raw socket, else a datagram socket, else None."""
        for kind, mode in ((socket.SOCK_RAW, "raw"), (socket.SOCK_DGRAM, "datagram")):
            try:
                return cls(_reading_socket(kind, socket.IPPROTO_ICMP), mode)
            except OSError as exc:
                log.debug("ICMP %s socket refused: %s", mode, exc)
        log.warning("no ICMP socket permitted (not root, ping_group_range excludes us): sweeping with TCP only")
        return None

    def send(self, ip: str) -> None:
        """Send one echo request to ip (from a sender thread)."""
        self.sequence = (self.sequence + 1) & 0xFFFF
        packet = echo_request(self.identifier or 0, self.sequence, time.time_ns())
        # a full send buffer gets a moment to drain, then the request counts as lost, like any other: the TCP probes
        # still go out and a retry follows
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


class Capture:
    """A raw TCP socket that sees the SYN-ACKs and RSTs answering our connects after their sockets are closed."""

    def __init__(self, sock: socket.socket):
        self.sock = sock

    @classmethod
    def open(cls) -> "Capture | None":
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


class SynSender:
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


def connect_held(ip: str, port: int) -> tuple[int, socket.socket | None]:
    """Start a connect on a socket of its own: the errno of connect(), and the socket, the caller's, while pending."""
    sock = _tcp_socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    outcome = sock.connect_ex((ip, port))
    if outcome == errno.EINPROGRESS:
        return outcome, sock
    sock.close()
    return outcome, None


def descriptor_budget(concurrency: int) -> int:
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
