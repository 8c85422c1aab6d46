"""Discovery benchmark: sweeps of a network-namespace lab, SNMP identification against snmpsim, reconciliation.

    python bench/discovery.py [--repeat 3] [--only sweep,snmp,reconcile] [--nmap-16] [--nmap-cap 1200]
                              [--snmp-processes 2] [--snmp-hosts 300]

Targets: a /24 with a few live hosts and the rest silent <= 2.5 s, a routed /16 (scanner -> router -> a /16 with a
few live hosts) <= 20 s, both with timeout 1 s and 1 retry; SNMP identification >= 1,500 hosts/s; reconciliation
of 50,000 devices against 50,000 observations <= 1 s. Prints every figure next to its target, as measured/target.

The sweeps run as `ip netns exec <scanner> python tests/netlab_probe.py sweep ...` inside the lab of tests/netlab.py
(root only; skipped with the reason otherwise), and so does `nmap -sn` when nmap is installed: on the /24 always, on
the /16 only with --nmap-16 (it takes minutes; --nmap-cap stops it). SNMP: several snmpsim processes serving one
recording on many 127.88.x.y addresses; next to identify()'s rate it prints the simulator's own ceiling (identify's
requests for one host, recorded and replayed by a minimal client) and the client's CPU cost per host.
Reconciliation calls the functions of bench/reconcile.py.
"""

import argparse
import asyncio
import importlib.util
import json
import os
import random
import resource
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.netlab import PROBE, Host, NetLab, unavailable  # noqa: E402

TARGET_24_S, TARGET_16_S, TARGET_SNMP_HOSTS_S, TARGET_RECONCILE_S = 2.5, 20.0, 1500.0, 1.0
SEGMENT, ROUTED = "10.231.0.0/24", "10.232.0.0/16"
SEGMENT_HOSTS = [Host("10.231.0.10", (22, 80, 443)), Host("10.231.0.11"), Host("10.231.0.12", (9100,), icmp=False),
                 Host("10.231.0.13", tcp=False)]
ROUTED_HOSTS = [Host("10.232.0.10", (443,)), Host("10.232.17.3"), Host("10.232.128.200", (3389,), icmp=False),
                Host("10.232.255.254", (22, 80))]
NMAP_ARGS = ("-sn", "-n", "-T4")
PYSMI_RENAMES = r"\w+ is deprecated\. Please use \w+ instead"


@dataclass
class Figure:
    """One line of the summary: what was measured against which target."""

    name: str
    measured: float | None
    target: float
    unit: str
    at_most: bool  # the target is a ceiling (seconds), else a floor (a rate)

    def line(self) -> str:
        bound = "<=" if self.at_most else ">="
        if self.measured is None:
            return f"{self.name:<38} {'skipped':>12}   target {bound} {self.target:,.1f} {self.unit}"
        met = self.measured <= self.target if self.at_most else self.measured >= self.target
        return (f"{self.name:<38} {self.measured:>10,.2f} {self.unit:<7} target {bound} {self.target:,.1f} "
                f"{self.unit:<7} ratio {self.measured / self.target:6.2f}  {'met' if met else 'MISSED'}")


# --- sweeps ---------------------------------------------------------------------------------------------------------

def sweep_in_lab(lab: NetLab, network: str) -> tuple[float, float, set[str]]:
    """The sweep's own duration, the scanner process's wall time and the live addresses."""
    command = [sys.executable, str(PROBE), "sweep", network, "--timeout", "1", "--retries", "1"]
    started = time.monotonic()
    done = subprocess.run(lab.in_scanner(*command), capture_output=True, text=True, check=True)
    wall = time.monotonic() - started
    result = json.loads(done.stdout)
    return result["duration_s"], wall, {host["ip"] for host in result["alive"]}


def nmap_in_lab(lab: NetLab, network: str, cap: float) -> tuple[float, int] | None:
    """nmap's wall time and the hosts it found up, or None when it ran past cap seconds."""
    command = lab.in_scanner("nmap", *NMAP_ARGS, "-oG", "-", network)
    started = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=cap)
    except subprocess.TimeoutExpired:
        return None
    return time.monotonic() - started, sum("Status: Up" in line for line in done.stdout.splitlines())


def bench_sweeps(args) -> list[Figure]:
    reason = unavailable()
    if reason:
        print(f"sweeps skipped: {reason}")
        return [Figure("sweep /24 (netns)", None, TARGET_24_S, "s", True),
                Figure("sweep routed /16 (netns)", None, TARGET_16_S, "s", True)]
    nmap = shutil.which("nmap")
    figures = []
    with NetLab(SEGMENT, SEGMENT_HOSTS, ROUTED, ROUTED_HOSTS) as lab:
        plans = [
            ("/24", SEGMENT, {lab.router, lab.scanner_address} | {h.address for h in SEGMENT_HOSTS}, TARGET_24_S,
             nmap is not None, "same segment"),
            ("routed /16", ROUTED, {lab.gateway} | {h.address for h in ROUTED_HOSTS}, TARGET_16_S,
             nmap is not None and args.nmap_16, "behind the router"),
        ]
        for label, network, expected, target, run_nmap, where in plans:
            runs = [sweep_in_lab(lab, network) for _ in range(args.repeat)]
            durations = sorted(duration for duration, _wall, _found in runs)
            walls = sorted(wall for _duration, wall, _found in runs)
            right = sum(found == expected for _duration, _wall, found in runs)
            median = statistics.median(durations)
            print(f"sweep {label} {network} ({where}, {len(expected)} live, timeout 1 s, 1 retry), {args.repeat} runs: "
                  f"best {durations[0]:.2f} s, median {median:.2f} s, worst {durations[-1]:.2f} s; "
                  f"scanner process {statistics.median(walls):.2f} s; "
                  f"found exactly the live hosts in {right}/{args.repeat} runs")
            figures.append(Figure(f"sweep {label} (netns, median)", median, target, "s", True))
            if nmap is None:
                print("  nmap: skipped, not installed (apt-get install nmap)")
            elif not run_nmap:
                print("  nmap: skipped on the /16 (minutes; pass --nmap-16)")
            else:
                measured = nmap_in_lab(lab, network, args.nmap_cap)
                if measured is None:
                    print(f"  nmap {' '.join(NMAP_ARGS)}: stopped after {args.nmap_cap:.0f} s; "
                          f"sweep/nmap < {statistics.median(walls) / args.nmap_cap:.3f}")
                else:
                    seconds, up = measured
                    print(f"  nmap {' '.join(NMAP_ARGS)}: {seconds:.2f} s, {up} hosts up; "
                          f"sweep process/nmap {statistics.median(walls) / seconds:.2f}")
    return figures


# --- SNMP -----------------------------------------------------------------------------------------------------------

class Simulators:
    """snmpsim processes, each serving one recording on many loopback addresses and one shared port."""

    def __init__(self, processes: int, hosts: int, workdir: Path):
        from tests.snmplab import OCTETS, free_port, interfaces, system, write_recording

        rows = system("HPE OfficeConnect Switch 1920S 24G", "1.3.6.1.4.1.11.2.3.7.11.1", "sw-bench", "Serverraum")
        rows += interfaces(["70:10:6f:00:00:01", "70:10:6f:00:00:02"], ["CPU", "1/0/1"])
        rows += [("1.3.6.1.2.1.47.1.1.1.1.11.1", OCTETS, "CN12345678"),
                 ("1.3.6.1.2.1.47.1.1.1.1.13.1", OCTETS, "JL381A")]
        self.data = workdir / "data"
        write_recording(self.data, "public", rows)
        self.workdir = workdir
        per_process = -(-hosts // processes)
        self.groups = [[f"127.88.{number}.{(n % 250) + 1}" if per_process <= 250 else
                        f"127.{88 + n // 250}.{number}.{(n % 250) + 1}" for n in range(per_process)]
                       for number in range(processes)]
        self.hosts = [address for group in self.groups for address in group][:hosts]
        self.port = free_port(self.hosts)
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> "Simulators":
        from tests.snmplab import _bound, _responder  # the lab's own readiness check and executable lookup

        environment = dict(os.environ, SNMPSIM_ALLOW_ROOT="true")
        try:
            for number, group in enumerate(self.groups):
                arguments = [_responder(), f"--cache-dir={self.workdir / f'cache{number}'}", "--logging-method=null",
                             "--v3-engine-id=auto", f"--data-dir={self.data}"]
                arguments += [f"--agent-udpv4-endpoint={address}:{self.port}" for address in group]
                self.processes.append(subprocess.Popen(arguments, env=environment, stdout=subprocess.DEVNULL,
                                                       stderr=subprocess.DEVNULL))
            deadline = time.monotonic() + 60
            while not _bound({(address, self.port) for address in self.hosts}):
                if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                    raise RuntimeError("snmpsim did not bind its endpoints")
                time.sleep(0.1)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_exc) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def identify_requests(agent: str, port: int) -> list[bytes]:
    """The datagrams identify() sends for one host, recorded by a relay in front of a simulated agent."""
    from discovery.snmp import Credential, identify
    from tests.snmplab import free_port

    loop = asyncio.get_running_loop()
    relay = ("127.89.0.1", free_port(["127.89.0.1"]))
    requests: list[bytes] = []
    client: list[tuple] = []

    class Front(asyncio.DatagramProtocol):
        def datagram_received(self, data, address):
            requests.append(data)
            client[:] = [address]
            back.sendto(data)

    class Back(asyncio.DatagramProtocol):
        def datagram_received(self, data, _address):
            front.sendto(data, client[0])

    front, _ = await loop.create_datagram_endpoint(Front, local_addr=relay)
    back, _ = await loop.create_datagram_endpoint(Back, remote_addr=(agent, port))
    try:
        found, errors = await identify([relay[0]], [Credential("2c", community="public")], port=relay[1])
    finally:
        front.close()
        back.close()
    if not found or errors:
        raise RuntimeError(f"identify through the relay failed: {errors}")
    return requests


def replay_rate(hosts: list[str], port: int, requests: list[bytes], window: int, seconds: float) -> float:
    """Responses per second when a minimal client keeps `window` of the requests outstanding across all hosts."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        sequence = ((host, request) for _ in iter(int, 1) for host in hosts for request in requests)
        outstanding = answered = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            while outstanding < window:
                host, request = next(sequence)
                sock.sendto(request, (host, port))
                outstanding += 1
            if not select.select([sock], [], [], 0.5)[0]:
                outstanding = 0  # lost under load: refill the window
                continue
            while True:
                try:
                    sock.recv(65535)
                except BlockingIOError:
                    break
                answered += 1
                outstanding = max(outstanding - 1, 0)
    return answered / seconds


def identify_rate(hosts: list[str], port: int, concurrency: int) -> tuple[float, int, int, float]:
    """identify()'s hosts/s over all hosts, hosts found, errors, and the client's CPU seconds."""
    from discovery.snmp import Credential, identify

    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    found, errors = asyncio.run(identify(hosts, [Credential("2c", community="public")], port=port,
                                         concurrency=concurrency))
    elapsed = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return len(found) / elapsed, len(found), len(errors), cpu


def bench_snmp(args) -> list[Figure]:
    warnings.filterwarnings("ignore", PYSMI_RENAMES, DeprecationWarning)
    try:
        import snmpsim  # noqa: F401
    except ImportError:
        print("SNMP skipped: snmpsim is not installed (pip install -e '.[test]')")
        return [Figure("SNMP identify", None, TARGET_SNMP_HOSTS_S, "hosts/s", False)]
    with tempfile.TemporaryDirectory(prefix="sfl-snmp-") as workdir, \
            Simulators(args.snmp_processes, args.snmp_hosts, Path(workdir)) as simulators:
        hosts, port = simulators.hosts, simulators.port
        print(f"SNMP: {len(hosts)} simulated hosts in {args.snmp_processes} snmpsim processes, v2c, "
              f"timeout 1 s, 1 retry")
        best = 0.0
        for concurrency in (16, 64):
            rate, found, errors, cpu = identify_rate(hosts, port, concurrency)
            best = max(best, rate)
            print(f"  identify at concurrency {concurrency}: {rate:,.0f} hosts/s ({found} found, {errors} errors); "
                  f"client CPU {cpu / max(found, 1) * 1000:.1f} ms per host, "
                  f"i.e. at most {found / cpu:,.0f} hosts/s per core")
        requests = asyncio.run(identify_requests(hosts[0], port))
        ceiling = max(replay_rate(hosts, port, requests, window, 3.0) for window in (8, 32))
        print(f"  simulator ceiling: {ceiling:,.0f} responses/s to identify's {len(requests)} requests per host "
              f"(1 GET, the rest GETBULK), replayed by a minimal client = {ceiling / len(requests):,.0f} hosts/s")
        if ceiling / len(requests) < TARGET_SNMP_HOSTS_S:
            print(f"  the simulator's ceiling is below the target: identify cannot be measured against "
                  f"{TARGET_SNMP_HOSTS_S:,.0f} hosts/s here")
    return [Figure("SNMP identify (best)", best, TARGET_SNMP_HOSTS_S, "hosts/s", False),
            Figure("  snmpsim ceiling, same requests", ceiling / len(requests), TARGET_SNMP_HOSTS_S, "hosts/s",
                   False)]


# --- reconciliation -------------------------------------------------------------------------------------------------

def bench_reconcile(args) -> list[Figure]:
    spec = importlib.util.spec_from_file_location("bench_reconcile", Path(__file__).with_name("reconcile.py"))
    reconcile = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reconcile)
    rng = random.Random(50_000)
    known = reconcile.inventory(50_000, rng)
    seen = reconcile.observations(known, 50_000, rng)
    first, _result = reconcile.timed(known, seen)
    best = min(reconcile.timed(known, seen)[0] for _ in range(args.repeat))
    print(f"reconciliation {len(known):,} x {len(seen):,}: first {first:.3f} s, best of {args.repeat} {best:.3f} s")
    return [Figure("reconciliation 50k x 50k (best)", best, reconcile.TARGET_S, "s", True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="sweep,snmp,reconcile", help="comma-separated: sweep, snmp, reconcile")
    parser.add_argument("--nmap-16", action="store_true", help="also run nmap -sn on the routed /16 (minutes)")
    parser.add_argument("--nmap-cap", type=float, default=1200.0, help="seconds after which nmap is stopped")
    parser.add_argument("--snmp-processes", type=int, default=2)
    parser.add_argument("--snmp-hosts", type=int, default=300)
    args = parser.parse_args()
    parts = {"sweep": bench_sweeps, "snmp": bench_snmp, "reconcile": bench_reconcile}
    figures = []
    for name in args.only.split(","):
        figures += parts[name.strip()](args)
        print()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    for figure in figures:
        print(figure.line())


if __name__ == "__main__":
    main()
