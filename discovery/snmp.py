"""The SNMP edge of discovery: identify hosts, read a router's ARP table and a switch's forwarding table.

Every coroutine makes one SnmpEngine for its run and closes it at the end: an engine is bound to its event loop,
and one engine shared by all targets is many times faster than one per host. Every walk is bounded by a row limit
and stops at the first error or at an OID that does not increase, so a dead, slow or lying host costs its timeout
and one SnmpError, never a hang or an exception. MACs leave here canonical (aa:bb:cc:dd:ee:ff).
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from netaddr import EUI, IPAddress, mac_unix_expanded
from pyasn1.type import univ
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import (
    USM_AUTH_HMAC96_MD5, USM_AUTH_HMAC96_SHA, USM_AUTH_HMAC128_SHA224, USM_AUTH_HMAC192_SHA256,
    USM_AUTH_HMAC256_SHA384, USM_AUTH_HMAC384_SHA512, USM_PRIV_CBC56_DES, USM_PRIV_CBC168_3DES, USM_PRIV_CFB128_AES,
    USM_PRIV_CFB192_AES, USM_PRIV_CFB256_AES, CommunityData, ContextData, ObjectIdentity, ObjectType, SnmpEngine,
    UdpTransportTarget, UsmUserData, bulk_cmd, get_cmd,
)
from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

SYSTEM = ("1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.6.0")
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_PHYS_ADDRESS = "1.3.6.1.2.1.2.2.1.6"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
ENT_SERIAL = "1.3.6.1.2.1.47.1.1.1.1.11"
ENT_MODEL = "1.3.6.1.2.1.47.1.1.1.1.13"
PRT_SERIAL = "1.3.6.1.2.1.43.5.1.1.17"
HR_DEVICE_DESCR = "1.3.6.1.2.1.25.3.2.1.3"
IP_NET_TO_PHYSICAL = "1.3.6.1.2.1.4.35.1.4"
IP_NET_TO_MEDIA = "1.3.6.1.2.1.4.22.1.2"
DOT1Q_FDB_PORT = "1.3.6.1.2.1.17.7.1.2.2.1.2"
DOT1D_FDB_PORT = "1.3.6.1.2.1.17.4.3.1.2"
DOT1D_BASE_PORT_IFINDEX = "1.3.6.1.2.1.17.1.4.1.2"

ENTITY_ROWS = 64  # the chassis comes first; a stack's modules follow and are not the device's identity
INTERFACE_ROWS = 1024  # more than a stacked access switch has; a router with thousands of subinterfaces is cut off
REPETITIONS = 50  # snmpsim and most agents answer up to 64 varbinds per response
SHORT_PAGE = 8  # rows asked per request of the columns a host has only a few rows in
_ABSENT = (NoSuchObject, NoSuchInstance, EndOfMibView)
_AUTH = {"MD5": USM_AUTH_HMAC96_MD5, "SHA": USM_AUTH_HMAC96_SHA, "SHA224": USM_AUTH_HMAC128_SHA224,
         "SHA256": USM_AUTH_HMAC192_SHA256, "SHA384": USM_AUTH_HMAC256_SHA384, "SHA512": USM_AUTH_HMAC384_SHA512}
_PRIV = {"DES": USM_PRIV_CBC56_DES, "3DES": USM_PRIV_CBC168_3DES, "AES": USM_PRIV_CFB128_AES,
         "AES128": USM_PRIV_CFB128_AES, "AES192": USM_PRIV_CFB192_AES, "AES256": USM_PRIV_CFB256_AES}


@dataclass(frozen=True)
class Credential:
    """One way to talk to a host, secrets resolved: a v2c community or a v3 user with its keys."""

    version: Literal["2c", "3"]
    community: str | None = None
    user: str | None = None
    auth_protocol: str | None = None  # MD5, SHA, SHA224, SHA256, SHA384, SHA512
    auth_key: str | None = None
    priv_protocol: str | None = None  # DES, 3DES, AES (=AES128), AES192, AES256
    priv_key: str | None = None


@dataclass(frozen=True)
class HostInfo:
    """What a host says about itself; credential_index is the credential that worked."""

    ip: str
    credential_index: int
    sys_descr: str | None
    sys_object_id: str | None
    sys_name: str | None
    sys_location: str | None
    serial: str | None
    model: str | None
    macs: tuple[str, ...]
    device_descr: str | None = None  # the first hrDeviceDescr: printers and PCs name their model there


@dataclass(frozen=True)
class ArpEntry:
    """An address and the MAC a router last saw using it."""

    ip: str
    mac: str


@dataclass(frozen=True)
class FdbEntry:
    """A MAC a switch learned on a port (ifName, else ifDescr, else 'port N')."""

    mac: str
    switch: str
    port: str


@dataclass(frozen=True)
class SnmpError:
    """One host that did not answer, or not fully."""

    ip: str
    message: str


@dataclass(frozen=True)
class _Peer:
    """A host, the credential it answered and this run's engine."""

    engine: SnmpEngine
    auth: CommunityData | UsmUserData
    target: UdpTransportTarget


async def identify(hosts: list[str], credentials: list[Credential], port: int = 161, timeout: float = 1.0,
                   retries: int = 1, concurrency: int = 256,
                   remembered: dict[str, int] | None = None) -> tuple[list[HostInfo], list[SnmpError]]:
    """Ask each host for its system group, serial, model and MACs, trying credentials (remembered index first)."""
    auths = [_auth(credential) for credential in credentials]
    remembered = remembered or {}
    gate = asyncio.Semaphore(concurrency)
    engine = SnmpEngine()

    async def one(host: str) -> tuple[HostInfo | None, SnmpError | None]:
        async with gate:
            return await _identify(engine, host, port, timeout, retries, auths, remembered.get(host))

    try:
        results = await asyncio.gather(*(one(host) for host in hosts))
    finally:
        engine.close_dispatcher()
    return [info for info, _ in results if info], [error for _, error in results if error]


async def arp_table(router: str, credentials: list[Credential], port: int = 161, timeout: float = 1.0,
                    retries: int = 1, row_limit: int = 20000) -> tuple[list[ArpEntry], list[SnmpError]]:
    """A router's IPv4/IPv6 neighbours: ipNetToPhysicalTable, then the older ipNetToMediaTable."""
    auths = [_auth(credential) for credential in credentials]
    engine = SnmpEngine()
    try:
        peer, _, reply = await _connect(engine, router, port, timeout, retries, auths, None)
        if peer is None:
            return [], [SnmpError(router, reply)]
        physical, failure = await _walk(peer, IP_NET_TO_PHYSICAL, row_limit)
        media = []
        if failure is None:
            media, failure = await _walk(peer, IP_NET_TO_MEDIA, row_limit - len(physical))
    finally:
        engine.close_dispatcher()
    found = [(_inet_address(index[1:]), value) for index, value in physical]
    found += [(_ipv4(index[1:]), value) for index, value in media]
    pairs = ((ip, _mac(value)) for ip, value in found)
    entries = list(dict.fromkeys(ArpEntry(ip, mac) for ip, mac in pairs if ip and mac))
    return entries, _errors(router, failure, len(physical) + len(media), row_limit)


async def forwarding_table(switch: str, credentials: list[Credential], port: int = 161, timeout: float = 1.0,
                           retries: int = 1, row_limit: int = 20000) -> tuple[list[FdbEntry], list[SnmpError]]:
    """The MACs a switch learned and on which port: the dot1q FDB, else the dot1d one."""
    auths = [_auth(credential) for credential in credentials]
    engine = SnmpEngine()
    try:
        peer, _, reply = await _connect(engine, switch, port, timeout, retries, auths, None)
        if peer is None:
            return [], [SnmpError(switch, reply)]
        rows, failure = await _walk(peer, DOT1Q_FDB_PORT, row_limit)
        learned = [(index[1:], _number(value)) for index, value in rows]  # indexed by FDB id, then MAC
        if not rows and failure is None:
            rows, failure = await _walk(peer, DOT1D_FDB_PORT, row_limit)
            learned = [(index, _number(value)) for index, value in rows]
        names = {}
        if failure is None and learned:
            names, failure = await _port_names(peer, row_limit)
    finally:
        engine.close_dispatcher()
    entries = {}
    for index, bridge_port in learned:
        mac = _mac(bytes(index)) if len(index) == 6 and max(index) < 256 else None
        # port 0 is the switch itself or an address it could not place
        if mac and bridge_port:
            entries[FdbEntry(mac, switch, names.get(bridge_port, f"port {bridge_port}"))] = None
    return list(entries), _errors(switch, failure, len(rows), row_limit)


async def _identify(engine: SnmpEngine, host: str, port: int, timeout: float, retries: int,
                    auths: Sequence, first: int | None) -> tuple[HostInfo | None, SnmpError | None]:
    peer, index, reply = await _connect(engine, host, port, timeout, retries, auths, first)
    if peer is None:
        return None, SnmpError(host, reply)
    descr, object_id, name, location = _system(reply)
    # One GETBULK asks every column at once: most hosts have a row or two in each, so one request usually answers
    # all of them, where a walk per column would cost five. Each request costs the client milliseconds of CPU.
    (serials, models, printer_serials, addresses, devices), failure = await _walk_columns(
        peer, ((ENT_SERIAL, ENTITY_ROWS), (ENT_MODEL, ENTITY_ROWS), (PRT_SERIAL, ENTITY_ROWS),
               (IF_PHYS_ADDRESS, INTERFACE_ROWS), (HR_DEVICE_DESCR, ENTITY_ROWS)))
    macs = tuple(dict.fromkeys(mac for mac in (_mac(value) for _, value in addresses) if mac))
    info = HostInfo(ip=host, credential_index=index, sys_descr=descr, sys_object_id=object_id, sys_name=name,
                    sys_location=location, serial=_first_text(serials) or _first_text(printer_serials),
                    model=_first_text(models), macs=macs, device_descr=_first_text(devices))
    return info, SnmpError(host, failure) if failure else None


async def _connect(engine: SnmpEngine, host: str, port: int, timeout: float, retries: int, auths: Sequence,
                   first: int | None) -> tuple[_Peer | None, int | None, str | tuple]:
    """The first credential the host answers, its index and system group; else the last failure."""
    try:
        target = await UdpTransportTarget.create((host, port), timeout=timeout, retries=retries)
    except PySnmpError as error:
        return None, None, str(error)
    order = list(range(len(auths)))
    if first is not None and 0 <= first < len(auths):
        order.remove(first)
        order.insert(0, first)
    failure = "no credentials to try"
    for index in order:
        peer = _Peer(engine, auths[index], target)
        error_indication, error_status, _, var_binds = await get_cmd(
            engine, peer.auth, target, ContextData(), *(ObjectType(ObjectIdentity(oid)) for oid in SYSTEM),
            lookupMib=False)
        if error_indication or error_status:
            failure = str(error_indication) if error_indication else error_status.prettyPrint()
            continue
        return peer, index, var_binds
    return None, None, failure


def _system(var_binds) -> tuple[str | None, ...]:
    """sysDescr, sysObjectID, sysName and sysLocation; whatever is absent is None."""
    if len(var_binds) != len(SYSTEM):
        return None, None, None, None
    descr, object_id, name, location = (value for _, value in var_binds)
    object_id = object_id.prettyPrint() if isinstance(object_id, univ.ObjectIdentifier) else None
    return _text(descr), object_id, _text(name), _text(location)


async def _walk(peer: _Peer, column: str, limit: int) -> tuple[list[tuple[tuple[int, ...], object]], str | None]:
    """(index, value) rows of one column; ends at the column's end, the row limit or the first error."""
    prefix = tuple(int(part) for part in column.split("."))
    rows: list[tuple[tuple[int, ...], object]] = []
    last = prefix
    while len(rows) < limit:
        error_indication, error_status, _, var_binds = await bulk_cmd(
            peer.engine, peer.auth, peer.target, ContextData(), 0, min(REPETITIONS, limit - len(rows)),
            ObjectType(ObjectIdentity(".".join(map(str, last)))), lookupMib=False)
        if error_indication or error_status:
            return rows, f"{column}: {error_indication or error_status.prettyPrint()}"
        if not var_binds:
            return rows, None
        for name, value in var_binds:
            oid = tuple(name)
            if oid[:len(prefix)] != prefix or isinstance(value, _ABSENT):
                return rows, None
            if oid <= last:
                return rows, f"{column}: the agent returned {name.prettyPrint()} after {'.'.join(map(str, last))}"
            rows.append((oid[len(prefix):], value))
            last = oid
            if len(rows) == limit:
                break
    return rows, None


async def _walk_columns(peer: _Peer, columns: Sequence[tuple[str, int]],
                        page: int = SHORT_PAGE) -> tuple[list[list[tuple[tuple[int, ...], object]]], str | None]:
    """Walk several (column, row limit) pairs together: one GETBULK per round for the columns not yet finished."""
    prefixes = [tuple(int(part) for part in column.split(".")) for column, _ in columns]
    rows: list[list[tuple[tuple[int, ...], object]]] = [[] for _ in columns]
    last = list(prefixes)
    pending = list(range(len(columns)))
    while pending:
        error_indication, error_status, _, var_binds = await bulk_cmd(
            peer.engine, peer.auth, peer.target, ContextData(), 0, page,
            *(ObjectType(ObjectIdentity(".".join(map(str, last[j])))) for j in pending), lookupMib=False)
        if error_indication or error_status:
            return rows, f"{columns[pending[0]][0]}: {error_indication or error_status.prettyPrint()}"
        if not var_binds:
            return rows, None
        still = []
        for offset, j in enumerate(pending):
            # A GETBULK answer is row after row of the asked columns; this column's values are every len(pending)th.
            values = var_binds[offset::len(pending)]
            column, limit = columns[j]
            finished = False
            for name, value in values:
                oid = tuple(name)
                if oid[:len(prefixes[j])] != prefixes[j] or isinstance(value, _ABSENT):
                    finished = True
                    break
                if oid <= last[j]:
                    after = ".".join(map(str, last[j]))
                    return rows, f"{column}: the agent returned {name.prettyPrint()} after {after}"
                rows[j].append((oid[len(prefixes[j]):], value))
                last[j] = oid
                if len(rows[j]) >= limit:
                    finished = True
                    break
            if not finished:
                still.append(j)
        pending = still
    return rows, None


async def _port_names(peer: _Peer, limit: int) -> tuple[dict[int, str], str | None]:
    """Bridge port → ifName (or ifDescr) via dot1dBasePortIfIndex."""
    bridge, failure = await _walk(peer, DOT1D_BASE_PORT_IFINDEX, limit)
    if failure:
        return {}, failure
    names, failure = await _walk(peer, IF_NAME, limit)
    if not names and failure is None:
        names, failure = await _walk(peer, IF_DESCR, limit)
    by_if_index = {index[0]: _text(value) for index, value in names if len(index) == 1}
    ports = {index[0]: by_if_index.get(_number(value)) for index, value in bridge if len(index) == 1}
    return {number: name for number, name in ports.items() if name}, failure


def _auth(credential: Credential) -> CommunityData | UsmUserData:
    if credential.version == "2c":
        return CommunityData(credential.community or "", mpModel=1)
    if credential.version != "3":
        raise ValueError(f"SNMP version {credential.version!r} is not supported (use '2c' or '3')")
    options = {}
    if credential.auth_key:
        options.update(authKey=credential.auth_key, authProtocol=_protocol(_AUTH, credential.auth_protocol, "SHA"))
    if credential.priv_key:
        options.update(privKey=credential.priv_key, privProtocol=_protocol(_PRIV, credential.priv_protocol, "AES"))
    return UsmUserData(credential.user or "", **options)


def _protocol(known: dict, name: str | None, default: str):
    try:
        return known[(name or default).upper()]
    except KeyError:
        raise ValueError(f"unknown SNMPv3 protocol {name!r} (known: {', '.join(known)})") from None


def _errors(host: str, failure: str | None, rows: int, limit: int) -> list[SnmpError]:
    if failure:
        return [SnmpError(host, failure)]
    if rows >= limit:
        return [SnmpError(host, f"stopped at the row limit of {limit}; the table may be longer")]
    return []


def _text(value) -> str | None:
    """An octet string as text (any bytes: agents send Latin-1, UTF-8 and worse); empty, absent or other is None."""
    if not isinstance(value, univ.OctetString):
        return None
    return value.asOctets().decode("utf-8", errors="replace").strip(" \x00\r\n\t") or None


def _first_text(rows) -> str | None:
    return next((text for text in (_text(value) for _, value in rows) if text), None)


def _mac(value) -> str | None:
    """A six-byte physical address as aa:bb:..; empty (loopback), odd-sized and all-zero (tunnel) ones are None."""
    raw = value.asOctets() if isinstance(value, univ.OctetString) else value if isinstance(value, bytes) else b""
    if len(raw) != 6 or not any(raw):
        return None
    return str(EUI(raw.hex(), dialect=mac_unix_expanded))


def _number(value) -> int | None:
    return int(value) if isinstance(value, univ.Integer) else None


def _ipv4(index: tuple[int, ...]) -> str | None:
    return ".".join(map(str, index)) if len(index) == 4 and max(index) < 256 else None


def _inet_address(index: tuple[int, ...]) -> str | None:
    """An InetAddressType.length.octets index as text; zoned and unknown types are skipped."""
    if len(index) < 2 or index[1] != len(index) - 2 or max(index[2:], default=0) > 255:
        return None
    if index[0] == 1 and index[1] == 4:
        return _ipv4(index[2:])
    if index[0] == 2 and index[1] == 16:
        return str(IPAddress(int.from_bytes(bytes(index[2:])), 6))
    return None
