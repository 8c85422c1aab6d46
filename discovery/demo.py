"""A discovery history for the demo carrier: finished runs, what they observed, and the review queue they left.

`fleet demo` loads a fleet nobody has ever seen on a network, so the rollout would verify nothing and the review
queue would be empty. seed_history() writes what a few scheduled runs over the last weeks would have left behind —
runs with their counts, observations, the devices' last sighting and unseen counters, and findings — as rows only:
not a single packet is sent. It follows the rules of discovery/runs.py and reconcile.py for what it writes: a run
counts the findings it raised, a device seen sets its last sighting to the run's start, an unseen one counts runs
until it is missing, and a finding raised earlier is touched by the runs that see it again.

Only active devices with an address take part: loaned ones are with their borrowers, and a USB document camera
has nothing to be seen by. Deterministic for a seed and a day; a school that already has runs is left as it is.
"""

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from netaddr import EUI, IPAddress, IPNetwork
from sqlalchemy import func, insert, select
from sqlalchemy.orm import selectinload

from inventory.cron import DEFAULT_TIMEZONE, zone as local_zone
from inventory.db import db
from inventory.enums import DeviceStatus
from inventory.models import Device, Interface, School

from .models import DiscoveryRun, Finding, FindingKind, FindingStatus, Observation, RunStatus, Trigger
from .runs import COUNTED

DEMO_SEED = 2020
# Days back of a school's runs, oldest first: the oldest lies beyond the rollout's 14 verified days, so a device
# seen only then counts as present but not verified.
RUN_DAYS = {3: (19, 8, 1), 2: (16, 2)}
STALE_DISPLAYS = 0.08  # boards that dropped off the network: half were seen in the oldest run, half weeks before
WLAN_PRESENT = 0.85  # a notebook or tablet is on the school network during a given run
WLAN_KINDS = frozenset({"laptop", "tablet"})  # seen in the router's ARP table, behind an access point's port
SNMP_KINDS = frozenset({"access_point", "switch", "router", "printer", "server"})
OPEN_PORTS = {"access_point": (22, 443), "switch": (22, 80, 443), "router": (22, 443), "printer": (80, 443, 9100),
              "server": (22, 443, 445), "ops_pc": (445, 3389), "desktop": (445, 3389), "projector": (80,)}
TCP_ONLY = frozenset({"ops_pc", "desktop"})  # Windows answers no ping by default, only its open ports
# Hosts nobody recorded, as school networks have them: a maker's OUI, the ports it opens, whether it is wired.
STRANGERS = (
    ("dc:a6:32", (22,), True),          # a Raspberry Pi from a robotics club
    ("50:c7:bf", (80,), True),          # a TP-Link router someone plugged in for more Wi-Fi
    ("f0:27:2d", (), False),            # a smart speaker in the staff room
    ("00:0e:58", (80,), True),          # a Sonos speaker in the hall
    ("3c:d9:2b", (80, 9100), True),     # a private HP printer in an office
    ("f0:18:98", (), False),            # a teacher's own MacBook
    ("00:17:88", (80, 443), True),      # a Philips Hue bridge
)


@dataclass
class _Host:
    """One address a run may see: a device, or a stranger whose MAC nobody recorded."""

    ip: str
    mac: str | None
    kind: str
    seen: list[bool]
    device: Device | None = None
    vendor: str | None = None
    where: list[str | None] = field(default_factory=list)
    ports: tuple[int, ...] = ()


def seed_history(today: date | None = None, rng_seed: int = DEMO_SEED, zone: str | None = None) -> str:
    """Record finished runs with observations and findings for every school without runs; one line saying what.

    today defaults to the current day in zone (FLEET_TIMEZONE, default Europe/Berlin), where the schedule runs.
    """
    tz = local_zone(zone or DEFAULT_TIMEZONE)
    today = today or datetime.now(tz).date()
    schools = list(db.session.scalars(select(School).options(selectinload(School.subnets)).order_by(School.code)))
    has_runs = set(db.session.scalars(select(DiscoveryRun.school_id).distinct()))
    # One school sees a board on another switch port than before: a move for the review queue.
    mover = random.Random(rng_seed).choice(schools).code if schools else None
    taken_macs = set(db.session.scalars(select(Interface.mac)))
    runs = observations = 0
    for school in schools:
        if school.id in has_runs or not school.subnets:
            continue
        rng = random.Random(f"{rng_seed}:{school.code}")
        written = _School(school, rng, taken_macs, today, tz).seed(moved=school.code == mover)
        runs, observations = runs + written[0], observations + written[1]
    db.session.commit()
    if not runs:
        return "discovery history: every school already has runs; nothing added"
    open_findings = db.session.scalar(select(func.count()).select_from(Finding)
                                      .where(Finding.status == FindingStatus.OPEN))
    return (f"discovery history: {runs} run(s), {observations} observation(s), "
            f"{open_findings} open finding(s) to review")


class _School:
    """One school's runs, worked out host by host and written at the end."""

    def __init__(self, school: School, rng: random.Random, taken_macs: set[str], today: date, tz: ZoneInfo):
        self.school, self.rng, self.taken_macs = school, rng, taken_macs
        settings = school.discovery or {}
        self.missing_after = int(settings.get("missing_after", 3))
        self.switches = list(settings.get("switches") or ()) or [None]
        nets = [IPNetwork(subnet.cidr) for subnet in school.subnets]
        self.hosts_probed = sum(max(net.size - 2, 1) for net in nets)
        self.nets = nets
        days = RUN_DAYS[rng.choice((3, 3, 2))]
        minute = rng.randrange(30, 50)  # the schedule's 06:30, give or take the scheduler's queue
        self.starts = [datetime.combine(_weekday(today - timedelta(days=back)), time(6, minute), tz).astimezone(UTC)
                       for back in days]
        self.ports: Counter = Counter()

    def seed(self, moved: bool) -> tuple[int, int]:
        """Write the runs; (runs, observations) written."""
        devices = list(db.session.scalars(
            select(Device).options(selectinload(Device.interfaces))
            .where(Device.school_id == self.school.id, Device.status == DeviceStatus.ACTIVE.value,
                   Device.ip.is_not(None)).order_by(Device.id)))
        hosts = self._device_hosts(devices)
        if moved:
            self._move_one(hosts)
        taken = {host.ip for host in hosts} | {str(a) for a in (self.school.discovery or {}).get("routers") or ()}
        taken |= {str(a) for a in self.switches if a}
        hosts += self._strangers(taken)
        return self._write(hosts, self._unidentified(taken | {host.ip for host in hosts}))

    def _device_hosts(self, devices: list[Device]) -> list[_Host]:
        runs = len(self.starts)
        hosts, by_id = [], {}
        for device in devices:
            if device.kind == "interactive_display" and self.rng.random() < STALE_DISPLAYS:
                seen = [self.rng.random() < 0.5] + [False] * (runs - 1)
            elif device.kind in WLAN_KINDS:
                seen = [self.rng.random() < WLAN_PRESENT for _ in range(runs)]
            else:
                seen = [True] * runs
            if device.parent_id in by_id:  # a slot-in PC is on the network exactly when its board is
                seen = list(by_id[device.parent_id].seen)
            wlan = [i.mac for i in device.interfaces if i.kind == "wlan"]
            macs = wlan or [i.mac for i in device.interfaces]
            place = None if device.kind in WLAN_KINDS or device.kind in ("switch", "router") else self._port()
            host = _Host(device.ip, macs[0] if macs else None, device.kind, seen, device, device.vendor,
                         [place] * runs, OPEN_PORTS.get(device.kind, ()))
            hosts.append(host)
            by_id[device.id] = host
        return hosts

    def _port(self) -> str | None:
        switch = self.rng.choice(self.switches)
        if switch is None:
            return None
        self.ports[switch] += 1
        number = self.ports[switch] - 1  # stacks of 48-port members: 1/1/1 … 1/1/48, 2/1/1 …
        return f"switch {switch} port {number // 48 + 1}/1/{number % 48 + 1}"

    def _move_one(self, hosts: list[_Host]) -> None:
        # A board carried to another room shows up on another port in the latest run.
        boards = [h for h in hosts if h.kind == "interactive_display" and all(h.seen) and h.where[-1]]
        if boards and len(self.starts) > 1:
            board = self.rng.choice(boards)
            board.where[-1] = self._port()

    def _free_ip(self, taken: set[str]) -> str:
        while True:
            net = self.rng.choice(self.nets)
            # the upper half, where DHCP hands out addresses
            address = str(IPAddress(self.rng.randint(net.first + net.size // 2, net.last - 1)))
            if address not in taken:
                taken.add(address)
                return address

    def _strangers(self, taken: set[str]) -> list[_Host]:
        runs = len(self.starts)
        hosts = []
        for oui, ports, wired in self.rng.sample(STRANGERS, self.rng.choice((1, 1, 2))):
            while (mac := f"{oui}:{self.rng.randrange(256):02x}:{self.rng.randrange(256):02x}:"
                           f"{self.rng.randrange(256):02x}") in self.taken_macs:
                pass
            self.taken_macs.add(mac)
            since = self.rng.randrange(max(runs - 2, 0), runs)  # turned up in one of the last two runs
            hosts.append(_Host(self._free_ip(taken), mac, "other", [i >= since for i in range(runs)],
                               vendor=EUI(mac).oui.registration().org,
                               where=[self._port() if wired else None] * runs, ports=ports))
        return hosts

    def _unidentified(self, taken: set[str]) -> list[list[str]]:
        """Per run, addresses that answered a ping but showed no MAC (behind a router): counted, never a finding."""
        per_run = []
        for _ in self.starts:
            free = set(taken)
            per_run.append([self._free_ip(free) for _ in range(self.rng.randrange(0, 3))])
        return per_run

    def _write(self, hosts: list[_Host], unidentified: list[list[str]]) -> tuple[int, int]:
        unseen = {id(h): 0 for h in hosts}
        open_findings: dict[str, Finding] = {}
        observed = 0
        for index, started in enumerate(self.starts):
            records, counts = [], Counter()
            run = DiscoveryRun(school_id=self.school.id, trigger=Trigger.SCHEDULE, status=RunStatus.SUCCEEDED,
                               started_at=started, counts={}, errors=[], actor="scheduler", created_at=started)
            db.session.add(run)
            db.session.flush()
            for host in hosts:
                key = f"device:{host.device.id}" if host.device else f"mac:{host.mac}"
                if host.seen[index]:
                    records += _records(host, index)
                    if host.device is not None:
                        counts["matched"] += 1
                        moved = index > 0 and host.where[index] != host.where[index - 1]
                        self._sighted(host, index, started)
                        if moved:
                            self._raise(run, open_findings, counts, "moved", key, host.device, _seen(host, index),
                                        f"{_label(host.device)} has moved: last seen at {host.where[index - 1]}, "
                                        f"now at {host.where[index]}.")
                        finding = open_findings.get(key)
                        if finding is not None and finding.kind == FindingKind.MISSING:
                            self._resolve(finding, run, started)
                            del open_findings[key]
                    elif key in open_findings:
                        self._touch(open_findings[key], run, host, index)
                    else:
                        self._raise(run, open_findings, counts, "new", key, None, _seen(host, index),
                                    f"Unknown host {_describe(host, index)}.")
                    unseen[id(host)] = 0
                elif host.device is not None:
                    unseen[id(host)] += 1
                    if key in open_findings:
                        self._touch(open_findings[key], run, None, index)
                    elif unseen[id(host)] >= self.missing_after:
                        self._raise(run, open_findings, counts, "missing", key, host.device, None,
                                    f"{_label(host.device)} was not seen in {unseen[id(host)]} consecutive runs.")
            records += [{"source": "ping", "ip": ip} for ip in unidentified[index]]
            alive = {r["ip"] for r in records if r["source"] in ("ping", "tcp")}
            run.counts = {**{name: counts[name] for name in COUNTED}, "changed": 0,
                          "probed": self.hosts_probed, "alive": len(alive),
                          "snmp": len({r["ip"] for r in records if r["source"] == "snmp"}),
                          "records": len(records), "unidentified": len(unidentified[index]), "errors": 0}
            # A sweep of a few /22s with SNMP on the answering hosts: about a minute, longer for more hosts.
            run.finished_at = started + timedelta(seconds=40 + len(alive) // 4 + self.rng.randrange(0, 20))
            if records:
                db.session.execute(insert(Observation), [{"run_id": run.id, **record} for record in records])
            observed += len(records)
        for host in hosts:
            if host.device is not None:
                self._settle(host, unseen[id(host)])
        db.session.flush()
        return len(self.starts), observed

    def _sighted(self, host: _Host, index: int, started: datetime) -> None:
        device = host.device
        device.last_seen_at = started
        device.last_seen_ip = host.ip
        if host.where[index]:
            device.last_seen_where = host.where[index]
        for interface in device.interfaces:
            if interface.mac == host.mac:
                interface.last_ip = host.ip

    def _settle(self, host: _Host, unseen: int) -> None:
        device = host.device
        device.unseen_runs = unseen
        if device.last_seen_at is None and host.device.kind == "interactive_display":
            # Seen before these runs were kept, then gone: weeks ago.
            device.last_seen_at = self.starts[0] - timedelta(days=self.rng.randrange(10, 45), hours=1)
            device.last_seen_ip, device.last_seen_where = host.ip, host.where[0]

    def _raise(self, run: DiscoveryRun, open_findings: dict, counts: Counter, kind: str, key: str,
               device: Device | None, seen: dict | None, detail: str) -> None:
        finding = Finding(school_id=self.school.id, kind=kind, key=key, status=FindingStatus.OPEN,
                          device_id=device.id if device else None, first_run_id=run.id, last_run_id=run.id,
                          times_seen=1, detail=detail, seen=seen, created_at=run.started_at,
                          updated_at=run.started_at)
        db.session.add(finding)
        counts[kind] += 1
        if kind != "moved":  # a move stays open beside whatever else happens to the device
            open_findings[key] = finding

    def _touch(self, finding: Finding, run: DiscoveryRun, host: _Host | None, index: int) -> None:
        finding.last_run_id, finding.times_seen, finding.updated_at = run.id, finding.times_seen + 1, run.started_at
        if host is not None:
            finding.seen = _seen(host, index)

    def _resolve(self, finding: Finding, run: DiscoveryRun, started: datetime) -> None:
        finding.status, finding.resolved_at = FindingStatus.RESOLVED, started
        finding.resolved_by, finding.note = f"discovery:run {run.id}", "seen again"


def _records(host: _Host, index: int) -> list[dict]:
    """The observation rows one run keeps of a host, per source, as discovery/collect.py describes them."""
    device, where = host.device, host.where[index]
    if host.kind in WLAN_KINDS:
        return [{"source": "arp", "ip": host.ip, "mac": host.mac, "kind": host.kind, "vendor": host.vendor}]
    rows = [{"source": "tcp" if host.kind in TCP_ONLY else "ping", "ip": host.ip, "mac": host.mac,
             "kind": host.kind, "vendor": host.vendor, "open_ports": " ".join(map(str, host.ports)) or None}]
    if device is not None and host.kind in SNMP_KINDS:
        rows.append({"source": "snmp", "ip": host.ip, "mac": host.mac, "hostname": device.hostname,
                     "sys_descr": f"{device.vendor} {device.model}", "serial": device.serial, "model": device.model,
                     "vendor": device.vendor, "kind": host.kind, "credential": 0})
    if where:
        switch, port = where.removeprefix("switch ").split(" port ")
        rows.append({"source": "fdb", "mac": host.mac, "switch": switch, "port": port})
    return rows


def _seen(host: _Host, index: int) -> dict:
    """The host as a finding keeps it: the run's records merged, empty fields left out."""
    snmp = host.device if host.kind in SNMP_KINDS else None  # only SNMP tells a serial, a name and a model
    seen = {"ip": host.ip, "mac": host.mac, "serial": snmp and snmp.serial, "hostname": snmp and snmp.hostname,
            "where": host.where[index], "kind": host.kind, "vendor": host.vendor, "model": snmp and snmp.model}
    return {name: value for name, value in seen.items() if value is not None}


def _describe(host: _Host, index: int) -> str:
    seen = _seen(host, index)
    parts = [f"{name} {seen[key]}" for name, key in (("at", "ip"), ("MAC", "mac"), ("serial", "serial"),
                                                      ("hostname", "hostname"), ("on", "where")) if key in seen]
    return ", ".join(parts)


def _label(device: Device) -> str:
    name = device.hostname or device.serial
    return f"device {device.id} ({name})" if name else f"device {device.id}"


def _weekday(day: date) -> date:
    """The day itself, or the Friday before a weekend: the schedule runs Monday to Friday."""
    return day - timedelta(days=max(day.weekday() - 4, 0))
