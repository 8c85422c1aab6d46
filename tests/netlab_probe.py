"""Run inside a lab namespace (`ip netns exec NS python tests/netlab_probe.py ...`): sweep, or listen on ports.

    netlab_probe.py sweep NETWORK... [--ports 22,80] [--timeout 1] [--retries 1] [--concurrency N] [--no-icmp]
        prints the SweepResult as one JSON object
    netlab_probe.py listen PORT...
        accepts and hangs up on every port, prints "ready" once bound, exits at the end of its input
"""

import argparse
import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from discovery.sweep import PORTS, sweep  # noqa: E402


def result_json(result) -> dict:
    """A SweepResult as plain JSON."""
    return {
        "probed": result.probed, "duration_s": result.duration_s, "icmp": result.icmp, "tcp": result.tcp,
        "alive": [{"ip": a.ip, "via": a.via, "open_ports": sorted(a.open_ports), "rtt_ms": a.rtt_ms, "mac": a.mac}
                  for a in result.alive],
    }


async def listen(ports: list[int]) -> None:
    """Accept and close on every port until stdin ends."""
    loop = asyncio.get_running_loop()
    servers = [await asyncio.start_server(_hang_up, "0.0.0.0", port, backlog=4096) for port in ports]
    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    for server in servers:
        server.close()


async def _hang_up(_reader, writer) -> None:
    writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    swept = commands.add_parser("sweep")
    swept.add_argument("networks", nargs="+")
    swept.add_argument("--ports", default=",".join(map(str, PORTS)))
    swept.add_argument("--timeout", type=float, default=1.0)
    swept.add_argument("--retries", type=int, default=1)
    swept.add_argument("--concurrency", type=int)
    swept.add_argument("--no-icmp", dest="icmp", action="store_false")
    listening = commands.add_parser("listen")
    listening.add_argument("ports", nargs="+", type=int)
    args = parser.parse_args()

    if args.command == "listen":
        asyncio.run(listen(args.ports))
        return
    ports = tuple(int(port) for port in args.ports.split(",") if port)
    options = {"concurrency": args.concurrency} if args.concurrency else {}
    result = asyncio.run(sweep(args.networks, ports=ports, timeout=args.timeout, retries=args.retries,
                               icmp=args.icmp, **options))
    print(json.dumps(result_json(result)))


if __name__ == "__main__":
    main()
