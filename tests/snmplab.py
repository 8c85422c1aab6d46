"""A school in a box: snmprec recordings written here and one snmpsim process serving them on 127.0.0.x."""

import asyncio
import contextlib
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api

INTEGER, OCTETS, HEX, OID, GAUGE = "2", "4", "4x", "6", "66"


@dataclass(frozen=True)
class Agent:
    """One simulated device: its loopback address, community, recorded rows; a v3 agent (SHA/AES) has no community."""

    address: str
    rows: tuple[tuple[str, str, str], ...]
    community: str = "public"
    v3_user: str | None = None
    v3_auth_key: str | None = None
    v3_priv_key: str | None = None


def system(descr: str | bytes, object_id: str, name: str, location: str = "") -> list[tuple[str, str, str]]:
    """The system group; bytes for a sysDescr that is not text."""
    text = (HEX, descr.hex()) if isinstance(descr, bytes) else (OCTETS, descr)
    return [
        ("1.3.6.1.2.1.1.1.0", *text),
        ("1.3.6.1.2.1.1.2.0", OID, object_id),
        ("1.3.6.1.2.1.1.5.0", OCTETS, name),
        ("1.3.6.1.2.1.1.6.0", OCTETS, location),
    ]


def interfaces(macs: Iterable[str], names: Iterable[str] | None = None) -> list[tuple[str, str, str]]:
    """ifDescr, ifPhysAddress and ifName rows for interfaces 1..n; an empty MAC is a loopback."""
    macs = list(macs)
    names = list(names) if names is not None else [f"eth{number}" for number in range(len(macs))]
    rows = []
    for index, (mac, name) in enumerate(zip(macs, names, strict=True), start=1):
        rows.append((f"1.3.6.1.2.1.2.2.1.2.{index}", OCTETS, name))
        rows.append((f"1.3.6.1.2.1.2.2.1.6.{index}", HEX, mac_hex(mac)))
        rows.append((f"1.3.6.1.2.1.31.1.1.1.1.{index}", OCTETS, name))
    return rows


def mac_hex(mac: str) -> str:
    """A MAC written aa:bb:.. as the bare hex an snmprec octet string takes."""
    return mac.replace(":", "").lower()


def mac_index(mac: str) -> str:
    """A MAC as the six decimal sub-identifiers that index FDB rows."""
    return ".".join(str(int(octet, 16)) for octet in mac.split(":"))


def write_recording(directory: Path, community: str, rows: Iterable[tuple[str, str, str]]) -> Path:
    """Write rows as <community>.snmprec, sorted by OID the way snmpsim expects."""
    directory.mkdir(parents=True, exist_ok=True)
    ordered = sorted(rows, key=lambda row: tuple(int(part) for part in row[0].split(".")))
    path = directory / f"{community}.snmprec"
    path.write_text("".join(f"{oid}|{tag}|{value}\n" for oid, tag, value in ordered), encoding="ascii")
    return path


def free_port(addresses: Iterable[str]) -> int:
    """A high UDP port that is free on every address (other test runs may share this machine)."""
    addresses = list(addresses)
    for _ in range(50):
        port = random.randint(20000, 60000)
        sockets = []
        try:
            for address in addresses:
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sockets.append(sock)
                sock.bind((address, port))
            return port
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no free UDP port on the lab addresses")


class Lab:
    """One snmpsim process serving every agent on its own address and a shared port."""

    def __init__(self, agents: list[Agent], workdir: Path):
        self.agents = agents
        self.workdir = workdir
        self.port = free_port(agent.address for agent in agents)
        self.process: subprocess.Popen | None = None
        self.log = workdir / "snmpsim.log"

    def start(self, ready_within: float = 20.0) -> None:
        """Write the recordings, start snmpsim and wait until every endpoint is bound."""
        arguments = [_responder(), f"--cache-dir={self.workdir / 'cache'}", "--logging-method=null"]
        for number, agent in enumerate(self.agents):
            data = self.workdir / f"agent{number}"
            # pysnmp's responder drops a v3 request for an unregistered context before snmpsim can pick a recording;
            # a recording named "" registers the usual empty context and matches no community
            write_recording(data, "" if agent.v3_user else agent.community, agent.rows)
            arguments.append("--v3-engine-id=auto")
            if agent.v3_user:
                arguments += [f"--v3-user={agent.v3_user}", f"--v3-auth-key={agent.v3_auth_key}",
                              "--v3-auth-proto=SHA", f"--v3-priv-key={agent.v3_priv_key}", "--v3-priv-proto=AES"]
            arguments += [f"--data-dir={data}", f"--agent-udpv4-endpoint={agent.address}:{self.port}"]
        environment = dict(os.environ, SNMPSIM_ALLOW_ROOT="true")
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(arguments, env=environment, stdout=log, stderr=subprocess.STDOUT)
        self._wait(ready_within)

    @contextlib.contextmanager
    def running(self):
        """The simulator, started for the block and stopped after it."""
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop the simulator; kill it if it does not go quietly."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _wait(self, ready_within: float) -> None:
        # snmpsim binds its endpoints only after indexing every recording, so a bound port means it answers
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("snmpsim exited: " + self.log.read_text(errors="replace")[-2000:])
            if _bound({(agent.address, self.port) for agent in self.agents}):
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"snmpsim did not bind its endpoints within {ready_within} s")


class LyingAgent(asyncio.DatagramProtocol):
    """A v2c agent that answers every request with the OIDs it was asked, so a walk never advances."""

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, address):
        v2c = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
        request, _ = decoder.decode(data, asn1Spec=v2c.Message())
        pdu = v2c.apiMessage.get_pdu(request)
        response = v2c.apiMessage.get_response(request)
        reply = v2c.apiMessage.get_pdu(response)
        v2c.apiPDU.set_varbinds(reply, [(oid, v2c.OctetString("liar")) for oid, _ in v2c.apiPDU.get_varbinds(pdu)])
        self.transport.sendto(encoder.encode(response), address)


def _bound(endpoints: set[tuple[str, int]]) -> bool:
    # the kernel's socket table, not a trial bind: binding to check would race snmpsim's own bind (Linux only)
    bound = set()
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        address, port = line.split()[1].split(":")
        bound.add((socket.inet_ntoa(bytes.fromhex(address)[::-1]), int(port, 16)))
    return endpoints <= bound


def _responder() -> str:
    found = shutil.which("snmpsim-command-responder", path=str(Path(sys.executable).parent))
    if found is None:
        raise RuntimeError("snmpsim-command-responder is not installed next to this Python")
    return found
