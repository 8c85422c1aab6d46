"""Reconciliation: the inventory and what one discovery run saw → matches, learned identifiers and findings.

Pure: plain data in, plain data out; the discovery service stores the result in one transaction.
`reconcile(known, seen, school, missing_after, open_findings)` takes the carrier's devices (every school, retired ones
too, so a visitor from another school is recognised), the observations of one run in `school` (MACs canonical, as the
edge writes them), N, and the (kind, key) pairs of findings still open or ignored; it returns a `Result`.

Rules, in the order they decide:
- Observations of one host merge first: records sharing a serial or a MAC are one host; a record without a MAC joins
  the other MAC-less records at its address, and the host whose MAC was seen there if exactly one MAC was (an address
  showing two MACs is a stale ARP entry or a shared address, so nothing is guessed). Records whose identifiers name
  the same device are that device's host too (its LAN and WLAN seen at two addresses).
- Identity is the serial, then a universal MAC. A locally administered (randomised) MAC never identifies a device,
  never becomes one of its interfaces and never raises a finding; nor does a recorded one identify its device.
- Only devices that are not retired are identities. A host carrying only a retired device's identity is not matched:
  it raises 'changed' (a retired device is on the network).
- A host naming two devices (serial of one, MAC of another), or a device whose recorded serial differs from the one
  its MAC's host reports, is a 'conflict': nothing is matched or learned until a person decides.
- A matched device learns the host's unknown universal MACs only when the serial proves it. Matched by MAC with no
  serial recorded, it learns the reported serial, and with it those MACs (the next run would learn them by serial).
- A hostname is a weak hint: only for a host with neither serial nor universal MAC, and only when it names exactly one
  of this school's devices. The device then counts as seen (it is not reported missing) but is not matched: nothing
  about it is updated. A host with an unknown MAC is 'new' even when its hostname is known; the detail says so.
- A matched device is 'moved' when it belongs to another school, or the host's room or switch port differs from the
  recorded one (a first sighting of a port is not a move). It is 'changed' when its status is neither active nor
  loaned (in stock, missing, in repair… but on the network).
- Only active and loaned devices of this school count unseen runs; a device is 'missing' once the count reaches
  missing_after. Nothing is deleted. Devices matched, hinted or named in a conflict count as seen.
- A finding whose kind and key (or, for new and conflict, any serial or MAC of its host) is already open or ignored
  is not raised again, so the same observations twice raise nothing new. A host with neither serial nor universal
  MAC that no hostname points to raises nothing; it is only counted as unidentified.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from operator import itemgetter

from inventory.enums import DeviceStatus
from inventory.netvalues import is_locally_administered as is_randomised

EXPECTED = frozenset({DeviceStatus.ACTIVE, DeviceStatus.LOANED})  # the statuses of a device that should be seen


@dataclass(frozen=True, slots=True)
class Known:
    """A device as the inventory records it; last_where and unseen_runs are kept by the service between runs."""

    id: int
    school: str
    status: str
    serial: str | None = None
    macs: frozenset[str] = frozenset()
    hostname: str | None = None
    room: str | None = None
    last_where: str | None = None
    unseen_runs: int = 0


@dataclass(frozen=True, slots=True)
class Seen:
    """One observation in this run (ARP, SNMP, FDB, ping…); MACs in canonical form, where like 'switch sw1 port 12'."""

    ip: str | None = None
    mac: str | None = None
    serial: str | None = None
    hostname: str | None = None
    where: str | None = None
    room: str | None = None
    kind: str | None = None
    vendor: str | None = None
    model: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A review-queue entry (new, moved, missing, conflict, changed); key 'device:<id>', 'serial:<s>' or 'mac:<m>'."""

    kind: str
    key: str
    device_id: int | None
    seen: Seen | None
    detail: str


@dataclass(frozen=True, slots=True)
class Result:
    """What a run means for the inventory; every tuple sorted, so equal inputs give equal results."""

    matched: tuple[tuple[int, Seen], ...]  # device id and its host, the host's records merged into one
    new_macs: tuple[tuple[int, str], ...]  # interfaces a matched device gains, proven by its serial
    new_serials: tuple[tuple[int, str], ...]  # serials of devices that had none, reported by their MAC's host
    hinted: tuple[tuple[int, Seen], ...]  # devices a hostname points to: seen, but not matched
    findings: tuple[Finding, ...]  # only those not already open or ignored
    unseen: dict[int, int]  # device id -> unseen runs, for this school's live devices and every one seen here
    unidentified: int  # hosts with neither serial nor universal MAC that no hostname points to


def reconcile(known: Iterable[Known], seen: Iterable[Seen], school: str, missing_after: int,
              open_findings: Iterable[tuple[str, str]] = ()) -> Result:
    """Reconcile one run of `school`; known holds the carrier's devices, open_findings (kind, key) pairs."""
    run = _Run(_Inventory(known, school), school, frozenset(open_findings))
    for members in _hosts(list(dict.fromkeys(seen)), run.inventory):  # the same record twice is one record
        run.settle(members)
    return run.result(missing_after)


class _Inventory:
    """Indexes over the known devices: live identities, retired ones, and this school's hostnames."""

    def __init__(self, known: Iterable[Known], school: str):
        self.devices: dict[int, Known] = {}
        self.by_serial: dict[str, int] = {}
        self.by_mac: dict[str, int] = {}
        self.retired_serial: dict[str, int] = {}
        self.retired_mac: dict[str, int] = {}
        self.by_host: dict[str, int | None] = {}
        self.live_here: list[Known] = []
        devices, by_host, live_here = self.devices, self.by_host, self.live_here
        for device in known:
            device_id = device.id
            devices[device_id] = device
            if device.status == DeviceStatus.RETIRED:
                serials, macs = self.retired_serial, self.retired_mac
            else:
                serials, macs = self.by_serial, self.by_mac
                if device.school == school:
                    live_here.append(device)
                    if device.hostname:
                        name = _short(device.hostname)
                        by_host[name] = None if name in by_host else device_id
            # The lowest id wins a shared serial or MAC (the database allows that only among retired devices),
            # so the outcome does not depend on the order of the inventory.
            if device.serial and serials.get(device.serial, device_id) >= device_id:
                serials[device.serial] = device_id
            for mac in device.macs:
                if not is_randomised(mac) and macs.get(mac, device_id) >= device_id:
                    macs[mac] = device_id

    def claims(self, serials: Sequence[str], macs: Sequence[str]) -> dict[int, tuple[str, str]]:
        """The live devices a host's identifiers name, each with the first identifier naming it, serials first."""
        claims: dict[int, tuple[str, str]] = {}
        for serial in serials:
            if (owner := self.by_serial.get(serial)) is not None:
                claims.setdefault(owner, ("serial", serial))
        for mac in macs:
            if (owner := self.by_mac.get(mac)) is not None:
                claims.setdefault(owner, ("MAC", mac))
        return claims

    def hostname_hint(self, hostname: str | None) -> int | None:
        """The one device of this school with this hostname, if exactly one has it."""
        return self.by_host.get(_short(hostname)) if hostname else None

    def label(self, device_id: int) -> str:
        """'device 17 (lt-0042)' for details a person reads."""
        device = self.devices[device_id]
        name = device.hostname or device.serial
        return f"device {device_id} ({name})" if name else f"device {device_id}"


class _Run:
    """One reconciliation while its hosts are settled one by one."""

    def __init__(self, inventory: _Inventory, school: str, already: frozenset[tuple[str, str]]):
        self.inventory, self.school, self.already = inventory, school, already
        self.findings: dict[tuple[str, str], Finding] = {}
        self.matched: list[tuple[int, Seen]] = []
        self.new_macs: list[tuple[int, str]] = []
        self.new_serials: list[tuple[int, str]] = []
        self.accounted: set[int] = set()  # devices this run has seen: matched, hinted or named in a conflict
        self.hints: dict[int, Seen] = {}
        self.unidentified = 0

    def settle(self, members: Sequence[Seen]) -> None:
        """Decide what one host is: a known device, a conflict, a retired device, a new host or nothing."""
        if len(members) == 1:
            host = members[0]
            serials = (host.serial,) if host.serial else ()
            macs = (host.mac,) if host.mac and not is_randomised(host.mac) else ()
        else:
            host = _merge(members)
            serials = tuple(sorted({m.serial for m in members if m.serial}))
            macs = tuple(sorted({m.mac for m in members if m.mac and not is_randomised(m.mac)}))
        claims = self.inventory.claims(serials, macs)
        if not claims:
            self._unknown(host, serials, macs)
            return
        self.accounted.update(claims)
        device = self.inventory.devices[next(iter(claims))] if len(claims) == 1 else None
        if device is None or (serials and (len(serials) > 1 or device.serial and device.serial != serials[0])):
            self._conflict(host, serials, macs, claims, device)
        else:
            self._match(device, host, serials, macs)

    def _unknown(self, host: Seen, serials: tuple[str, ...], macs: tuple[str, ...]) -> None:
        inventory = self.inventory
        retired = sorted({inventory.retired_serial[s] for s in serials if s in inventory.retired_serial}
                         | {inventory.retired_mac[m] for m in macs if m in inventory.retired_mac})
        for device_id in retired:
            self._report("changed", [f"device:{device_id}"], device_id, host,
                         f"{inventory.label(device_id)} is retired but is on the network ({_describe(host)}).")
        if retired:
            return
        hint = inventory.hostname_hint(host.hostname)
        if serials or macs:
            also = f"; its hostname is recorded for {inventory.label(hint)}" if hint is not None else ""
            self._report("new", _keys(serials, macs), None, host, f"Unknown host {_describe(host)}{also}.")
        elif hint is None:
            self.unidentified += 1
        elif hint not in self.hints or _order(host) < _order(self.hints[hint]):
            self.hints[hint] = host

    def _conflict(self, host: Seen, serials: tuple[str, ...], macs: tuple[str, ...],
                  claims: dict[int, tuple[str, str]], device: Known | None) -> None:
        label = self.inventory.label
        named = [f"{label(d)} ({what} {value})" for d, (what, value) in sorted(claims.items())]
        if device is None:
            detail = f"One host carries the identities of {', '.join(named)}"
        else:
            reported = ", ".join(s for s in serials if s != device.serial)
            detail = f"{named[0]} reports serial {reported}, but {device.serial or 'none'} is recorded"
        device_id = min((d for d, (what, _) in claims.items() if what == "serial"), default=min(claims))
        self._report("conflict", _keys(serials, macs), device_id, host, f"{detail}; seen {_describe(host)}.")

    def _match(self, device: Known, host: Seen, serials: tuple[str, ...], macs: tuple[str, ...]) -> None:
        self.matched.append((device.id, host))
        if serials:  # the serial proves the host, recorded or learned now
            if not device.serial:
                self.new_serials.append((device.id, serials[0]))
            self.new_macs.extend((device.id, m) for m in macs if m not in device.macs)
        if moves := _moves(device, host, self.school):
            self._report("moved", [f"device:{device.id}"], device.id, host,
                         f"{self.inventory.label(device.id)} has moved: {'; '.join(moves)}.")
        if device.status not in EXPECTED:
            self._report("changed", [f"device:{device.id}"], device.id, host,
                         f"{self.inventory.label(device.id)} is recorded as {device.status} but is on the network "
                         f"({_describe(host)}).")

    def _report(self, kind: str, keys: Sequence[str], device_id: int | None, host: Seen | None, detail: str) -> None:
        """Raise a finding named by the first key, unless one of its kind is open or ignored under any key."""
        if not self.already.isdisjoint([(kind, k) for k in keys]):
            return
        key = keys[0]
        # Two hosts may carry one retired device's serial and MAC: the same one reports it, whatever the order.
        earlier = self.findings.get((kind, key))
        if earlier is None or _order(host) < _order(earlier.seen):
            self.findings[kind, key] = Finding(kind, key, device_id, host, detail)

    def result(self, missing_after: int) -> Result:
        """Count unseen runs, report the missing, and sort everything so equal inputs give equal results."""
        hinted = {d: host for d, host in self.hints.items() if d not in self.accounted}
        present = self.accounted | hinted.keys()
        unseen = dict.fromkeys(present, 0)
        for device in self.inventory.live_here:
            if device.id in present or device.status not in EXPECTED:
                # Counting starts when a device is expected, so one just set active is not missing at once.
                unseen[device.id] = 0
                continue
            unseen[device.id] = count = device.unseen_runs + 1
            if count >= missing_after:
                self._report("missing", [f"device:{device.id}"], device.id, None,
                             f"{self.inventory.label(device.id)} was not seen in {count} consecutive runs.")
        by_device = itemgetter(0)
        return Result(matched=tuple(sorted(self.matched, key=by_device)), new_macs=tuple(sorted(self.new_macs)),
                      new_serials=tuple(sorted(self.new_serials)), hinted=tuple(sorted(hinted.items(), key=by_device)),
                      findings=tuple(self.findings[k] for k in sorted(self.findings)), unseen=unseen,
                      unidentified=self.unidentified)


def _hosts(records: list[Seen], inventory: _Inventory) -> Iterator[Sequence[Seen]]:
    """Group the records into hosts: union-find over shared identities and MAC-less addresses."""
    parent = list(range(len(records)))
    first: dict[object, int] = {}  # identity -> the first record that carries it
    shared: set[int] = set()  # records with company; most hosts are one record, and build no list

    def find(i):
        while parent[i] != i:
            parent[i] = i = parent[parent[i]]
        return i

    def join(token, i):
        j = first.setdefault(token, i)
        if j != i:
            shared.update((i, j))
            a, b = find(i), find(j)
            if a != b:
                parent[max(a, b)] = min(a, b)

    # A serial or MAC of a known device stands for the device, so its LAN and WLAN records become one host.
    by_serial, by_mac = inventory.by_serial, inventory.by_mac
    mac_at: dict[str, str | None] = {}  # address -> its one MAC, or None when it showed several
    macless = []
    for i, record in enumerate(records):
        if record.serial:
            join(by_serial.get(record.serial, ("serial", record.serial)), i)
        if record.mac:
            join(by_mac.get(record.mac, record.mac), i)
            if record.ip and mac_at.setdefault(record.ip, record.mac) != record.mac:
                mac_at[record.ip] = None
        elif record.ip:
            macless.append(i)
    for i in macless:
        ip = records[i].ip
        join(("ip", ip), i)
        if mac := mac_at.get(ip):
            join(by_mac.get(mac, mac), i)

    hosts: dict[int, list[Seen]] = {}
    for i in shared:
        hosts.setdefault(find(i), []).append(records[i])
    yield from hosts.values()
    for i, record in enumerate(records):
        if i not in shared:
            yield (record,)


def _merge(members: Sequence[Seen]) -> Seen:
    """One record for a host: each field from the most telling record that has it (serial first, then MAC)."""
    found: dict[str, str] = {}
    ranked = sorted(members, key=_rank)
    for record in reversed(ranked):
        found.update({name: value for name in _SEEN_FIELDS if (value := getattr(record, name))})
    # An SNMP record may carry a randomised MAC while the ARP record of the same host has the real one.
    found["mac"] = next((r.mac for r in ranked if r.mac and not is_randomised(r.mac)), found.get("mac"))
    return Seen(**found)


def _rank(record: Seen) -> tuple:
    # The lowest rank wins a field: a record with a serial, then one with a universal MAC, then the smallest.
    return (not record.serial, not (record.mac and not is_randomised(record.mac)), _order(record))


def _moves(device: Known, host: Seen, school: str) -> list[str]:
    """How the host's place differs from the recorded one; empty when it does not."""
    if device.school != school:
        return [f"recorded at school {device.school}, seen at school {school}"]
    moves = []
    if host.room and device.room and host.room != device.room:
        moves.append(f"recorded in room {device.room}, seen in room {host.room}")
    if host.where and device.last_where and host.where != device.last_where:
        moves.append(f"last seen at {device.last_where}, now at {host.where}")
    return moves


def _keys(serials: Sequence[str], macs: Sequence[str]) -> list[str]:
    """Finding keys for a host, serials first: the strongest identity names a finding, every other covers it."""
    return [f"serial:{s}" for s in serials] + [f"mac:{m}" for m in macs]


def _describe(host: Seen) -> str:
    parts = [f"{name} {value}" for name, value in (("at", host.ip), ("MAC", host.mac), ("serial", host.serial),
                                                    ("hostname", host.hostname), ("on", host.where)) if value]
    return ", ".join(parts)


def _short(hostname: str) -> str:
    # DHCP, DNS and SNMP spell one name differently: 'LT-0042', 'lt-0042.schule.local'.
    return hostname.split(".", 1)[0].lower()


def _order(record: Seen) -> tuple[str, ...]:
    return (record.ip or "", record.mac or "", record.serial or "", record.hostname or "", record.where or "",
            record.room or "", record.kind or "", record.vendor or "", record.model or "")


_SEEN_FIELDS = tuple(field.name for field in fields(Seen))
