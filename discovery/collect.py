"""One discovery pass over a school's networks: sweep, SNMP, ARP and forwarding tables → observation records.

The edge that both a local run and the on-site agent use; it knows nothing of the database. Records are plain
frozen dataclasses (one per source and host) so the agent can send them as JSON and the server store them as
they came. Each live host is classified once from everything seen of its address.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from functools import lru_cache

from netaddr import IPAddress, IPNetwork, IPSet

from .classify import Evidence, classify, load_rules
from .snmp import Credential, FdbEntry, HostInfo, arp_table, forwarding_table, identify
from .sweep import PORTS, sweep

log = logging.getLogger(__name__)

SOURCES = ("ping", "tcp", "arp", "snmp", "fdb")
# A port on which a switch learned more MACs than this is an uplink or an AP's port: it says where the switch's
# neighbour is, not where each host sits, so its entries give no place.
UPLINK_MACS = 24


@dataclass(frozen=True, slots=True)
class Record:
    """What one source saw of one host; any field may be missing. MACs canonical."""

    source: str
    ip: str | None = None
    mac: str | None = None
    hostname: str | None = None
    sys_descr: str | None = None
    sys_object_id: str | None = None
    serial: str | None = None
    model: str | None = None
    vendor: str | None = None
    kind: str | None = None
    switch: str | None = None
    port: str | None = None
    open_ports: tuple[int, ...] = ()
    credential: int | None = None

    @property
    def where(self) -> str | None:
        """'switch sw-core port Gi1/0/7', when a switch placed the MAC."""
        return f"switch {self.switch} port {self.port}" if self.switch and self.port else None

    def to_json(self) -> dict:
        """The record without its empty fields, as the agent sends it."""
        return {name: list(value) if isinstance(value, tuple) else value
                for name, value in asdict(self).items() if value not in (None, ())}


RECORD_FIELDS = tuple(f.name for f in fields(Record))


@dataclass(frozen=True)
class Collected:
    """One pass: its records, per-host errors and the figures a run reports."""

    records: tuple[Record, ...]
    errors: tuple[dict, ...]
    probed: int
    alive: int
    snmp: int
    icmp: str = "off"


@dataclass(frozen=True)
class Settings:
    """How to discover one school: the declared discovery settings with secrets resolved."""

    subnets: tuple[str, ...]
    timeout: float = 1.0
    retries: int = 1
    concurrency: int = 512
    port: int = 161
    credentials: tuple[Credential, ...] = ()
    routers: tuple[str, ...] = ()
    switches: tuple[str, ...] = ()
    ports: tuple[int, ...] = PORTS


@lru_cache(maxsize=1)
def shipped_rules():
    """The shipped classification rules, read once per process (Rules compare by identity)."""
    return load_rules()


async def collect(settings: Settings, remembered: dict[str, int] | None = None,
                  progress: Callable[[str, int, int], object] | None = None) -> Collected:
    """Sweep the subnets, ask the live hosts, routers and switches over SNMP, and describe every host seen."""
    step = progress or (lambda *_: None)
    swept = await sweep(list(settings.subnets), ports=settings.ports, timeout=settings.timeout,
                        retries=settings.retries, concurrency=settings.concurrency,
                        progress=lambda done, total: step("sweep", done, total))
    errors: list[dict] = []
    infos: list[HostInfo] = []
    arp, fdb = [], []
    if settings.credentials:
        credentials = list(settings.credentials)
        options = {"port": settings.port, "timeout": settings.timeout, "retries": settings.retries}
        targets = list(dict.fromkeys([a.ip for a in swept.alive] + list(settings.routers) + list(settings.switches)))
        step("snmp", 0, len(targets))
        found, failed = await identify(targets, credentials, concurrency=min(settings.concurrency, 256),
                                       remembered=remembered, **options)
        infos, errors = found, [{"ip": e.ip, "message": e.message} for e in failed]
        tables = await asyncio.gather(*(arp_table(r, credentials, **options) for r in settings.routers),
                                      *(forwarding_table(s, credentials, **options) for s in settings.switches))
        for entries, failures in tables:
            errors += [{"ip": e.ip, "message": e.message} for e in failures]
            for entry in entries:
                (fdb if isinstance(entry, FdbEntry) else arp).append(entry)
        step("snmp", len(targets), len(targets))
    records = describe(swept.alive, infos, arp, fdb, settings.subnets)
    answered = {info.ip for info in infos}
    return Collected(records=records, errors=tuple(_unique_errors(errors)), probed=swept.probed,
                     alive=len(swept.alive), snmp=len(answered), icmp=swept.icmp)


def describe(alive: Sequence, infos: Sequence[HostInfo], arp: Sequence, fdb: Sequence[FdbEntry],
             subnets: Sequence[str]) -> tuple[Record, ...]:
    """Turn what the probes returned into records, each host classified from all it showed."""
    inside = IPSet(IPNetwork(s) for s in subnets)
    mac_at = {a.ip: a.mac for a in alive if a.mac}
    for entry in arp:
        if _within(entry.ip, inside):
            mac_at.setdefault(entry.ip, entry.mac)
    info_at = {info.ip: info for info in infos}
    ports_at = {a.ip: a.open_ports for a in alive}
    verdicts = {ip: _classify(ip, mac_at.get(ip), info_at.get(ip), ports_at.get(ip, frozenset()))
                for ip in ports_at.keys() | info_at.keys() | mac_at.keys()}
    records = []
    for a in alive:
        kind, vendor = verdicts[a.ip]
        records.append(Record(a.via if a.via in SOURCES else "ping", ip=a.ip, mac=a.mac, kind=kind, vendor=vendor,
                              open_ports=tuple(sorted(a.open_ports))))
    for info in infos:
        kind, vendor = verdicts[info.ip]
        # The address's own MAC comes from the neighbour or ARP table; a host's single ifPhysAddress stands in
        # only where neither saw it (a switch's or router's many port MACs identify nothing by themselves).
        mac = mac_at.get(info.ip) or (info.macs[0] if len(info.macs) == 1 else None)
        records.append(Record("snmp", ip=info.ip, mac=mac, hostname=info.sys_name, sys_descr=info.sys_descr,
                              sys_object_id=info.sys_object_id, serial=info.serial,
                              model=info.model or info.device_descr,
                              vendor=vendor, kind=kind, credential=info.credential_index))
    for entry in arp:
        if _within(entry.ip, inside) and entry.ip not in ports_at:
            kind, vendor = verdicts[entry.ip]
            records.append(Record("arp", ip=entry.ip, mac=entry.mac, kind=kind, vendor=vendor))
    crowded = {place for place, n in Counter((e.switch, e.port) for e in fdb).items() if n > UPLINK_MACS}
    for entry in fdb:
        if (entry.switch, entry.port) not in crowded:
            records.append(Record("fdb", mac=entry.mac, switch=entry.switch, port=entry.port))
    return tuple(dict.fromkeys(records))


def _classify(ip: str, mac: str | None, info: HostInfo | None, ports: frozenset[int]) -> tuple[str, str | None]:
    evidence = Evidence(ip=ip, mac=mac, open_ports=frozenset(ports),
                        hostname=info.sys_name if info else None, sys_name=info.sys_name if info else None,
                        sys_descr=info.sys_descr if info else None,
                        sys_object_id=info.sys_object_id if info else None,
                        model=(info.model or info.device_descr) if info else None,
                        serial=info.serial if info else None)
    verdict = classify(evidence, shipped_rules())
    return verdict.kind, verdict.vendor


def _within(ip: str, inside: IPSet) -> bool:
    try:
        return IPAddress(ip) in inside
    except (ValueError, TypeError):
        return False


def _unique_errors(errors: list[dict]):
    seen = set()
    for error in errors:
        key = (error["ip"], error["message"])
        if key not in seen:
            seen.add(key)
            yield error
