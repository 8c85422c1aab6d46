"""A school network in network namespaces: a scanner, live hosts on its segment, a router and hosts behind it.

    segment (bridge br0 in the switch namespace)          routed segment (bridge br1)
    scanner .2 ── hosts ── router .1 ═══ forwarding ═══ router ── hosts behind it

Every namespace is named with one unique `sfl-` prefix and wired only to the others, and no namespace has a route
beyond the lab's two prefixes: a probe cannot leave this machine. The router reaches its live hosts by /32 routes
and answers every other address of the routed prefix with "host unreachable" (an `unreachable` route, rate limited
as a real router's replies after a failed ARP are). It does not ARP for them: the kernel's ARP table is one table
for all namespaces, capped at gc_thresh3 (1,024 entries, settable only in the initial namespace), so a /16 of
incomplete entries would crowd out the live hosts and every other namespace on the machine.

Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2; `unavailable()` says why not. Listeners run as
`tests/netlab_probe.py listen` inside their host's namespace and exit with the lab (or when their parent dies).
"""

import ipaddress
import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

PROBE = Path(__file__).resolve().parent / "netlab_probe.py"


@dataclass(frozen=True)
class Host:
    """A live host: its address, the TCP ports it listens on, whether it answers ICMP echo and TCP at all."""

    address: str
    ports: tuple[int, ...] = ()
    icmp: bool = True
    tcp: bool = True  # False: not even an RST for a closed port, as behind a firewall that drops TCP


def unavailable() -> str | None:
    """Why network namespaces cannot be made here, or None when they can."""
    if sys.platform != "linux":
        return "network namespaces are Linux only"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    name = f"sfl-check-{uuid.uuid4().hex[:8]}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot create a network namespace (needs root / CAP_SYS_ADMIN): {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return None


class NetLab:
    """The namespaces of one lab; a context manager that removes all of them on the way out, also after a failure."""

    def __init__(self, segment: str, hosts: list[Host], routed: str | None = None,
                 routed_hosts: list[Host] | None = None):
        self.segment = ipaddress.ip_network(segment)
        self.routed = ipaddress.ip_network(routed) if routed else None
        self.hosts = list(hosts)
        self.routed_hosts = list(routed_hosts or [])
        if self.routed_hosts and self.routed is None:
            raise ValueError("hosts behind the router need a routed prefix")
        self.router = str(self.segment.network_address + 1)
        self.scanner_address = str(self.segment.network_address + 2)
        self.gateway = str(self.routed.network_address + 1) if self.routed else None
        self.prefix = f"sfl-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.namespaces: list[str] = []
        self.listeners: list[subprocess.Popen] = []
        self.scanner = f"{self.prefix}-scan"

    def __enter__(self) -> "NetLab":
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def exec(self, namespace: str, *command: str) -> list[str]:
        """The command line that runs command inside namespace."""
        return ["ip", "netns", "exec", namespace, *command]

    def in_scanner(self, *command: str) -> list[str]:
        """The command line that runs command inside the scanner's namespace."""
        return self.exec(self.scanner, *command)

    def mac(self, address: str) -> str:
        """The MAC of the interface that carries a host's (or the router's) address, as `ip -j link` reports it."""
        namespace = self._host_namespace(address)
        links = json.loads(_ip("-j", "-n", namespace, "link", "show", "eth0"))
        return links[0]["address"]

    def close(self) -> None:
        """Stop the listeners and delete every namespace (which deletes their veths and bridges)."""
        for listener in self.listeners:
            _stop(listener)
        self.listeners.clear()
        for namespace in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        self.namespaces.clear()

    def _build(self) -> None:
        switch = self._namespace("sw")
        _ip("-n", switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", switch, "link", "set", "br0", "up")
        scanner = self._namespace("scan")
        self._plug(scanner, "br0", "scan", f"{self.scanner_address}/{self.segment.prefixlen}")
        router = self._namespace("gw")
        self._plug(router, "br0", "gw0", f"{self.router}/{self.segment.prefixlen}")
        _sysctl(router, "net.ipv4.ip_forward=1")
        if self.routed is not None:
            _ip("-n", switch, "link", "add", "br1", "type", "bridge")
            _ip("-n", switch, "link", "set", "br1", "up")
            self._plug(router, "br1", "gw1", f"{self.gateway}/32", interface="eth1")
            _ip("-n", router, "route", "add", "unreachable", str(self.routed))
            _ip("-n", scanner, "route", "add", str(self.routed), "via", self.router)
        for number, host in enumerate(self.hosts):
            namespace = self._namespace(f"h{number}")
            self._plug(namespace, "br0", f"h{number}", f"{host.address}/{self.segment.prefixlen}")
            self._serve(namespace, host)
        for number, host in enumerate(self.routed_hosts):
            namespace = self._namespace(f"r{number}")
            self._plug(namespace, "br1", f"r{number}", f"{host.address}/{self.routed.prefixlen}")
            _ip("-n", namespace, "route", "add", str(self.segment), "via", self.gateway)
            _ip("-n", router, "route", "add", f"{host.address}/32", "dev", "eth1")
            self._serve(namespace, host)

    def _namespace(self, role: str) -> str:
        name = f"{self.prefix}-{role}"
        _run(["ip", "netns", "add", name])
        self.namespaces.append(name)
        _ip("-n", name, "link", "set", "lo", "up")
        # no router solicitations or DAD chatter: the lab speaks IPv4 only
        _sysctl(name, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
        return name

    def _plug(self, namespace: str, bridge: str, port: str, address: str, interface: str = "eth0") -> None:
        switch = f"{self.prefix}-sw"
        _ip("-n", namespace, "link", "add", interface, "type", "veth", "peer", "name", port, "netns", switch)
        _ip("-n", switch, "link", "set", port, "master", bridge, "up")
        _ip("-n", namespace, "address", "add", address, "dev", interface)
        _ip("-n", namespace, "link", "set", interface, "up")

    def _serve(self, namespace: str, host: Host) -> None:
        if not host.icmp:
            _sysctl(namespace, "net.ipv4.icmp_echo_ignore_all=1")
        if not host.tcp:
            # no firewall tools needed: every TCP segment the host sends (SYN-ACK, RST) is routed into a blackhole
            _ip("-n", namespace, "rule", "add", "ipproto", "tcp", "lookup", "100", "pref", "100")
            _ip("-n", namespace, "route", "add", "blackhole", "default", "table", "100")
        if not host.ports:
            return
        command = self.exec(namespace, sys.executable, str(PROBE), "listen", *map(str, host.ports))
        listener = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.listeners.append(listener)
        if listener.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the listener in {namespace} did not start")

    def _host_namespace(self, address: str) -> str:
        if address == self.router:
            return f"{self.prefix}-gw"
        for role, hosts in (("h", self.hosts), ("r", self.routed_hosts)):
            for number, host in enumerate(hosts):
                if host.address == address:
                    return f"{self.prefix}-{role}{number}"
        raise KeyError(address)


def _ip(*arguments: str) -> str:
    return _run(["ip", *arguments])


def _sysctl(namespace: str, *settings: str) -> None:
    _run(["ip", "netns", "exec", namespace, "sysctl", "-q", "-w", *settings])


def _run(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {done.stderr.strip()}")
    return done.stdout


def _stop(process: subprocess.Popen) -> None:
    process.stdin.close()  # the listener exits at end of input
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.stdout.close()
