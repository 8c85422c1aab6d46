"""Device-list benchmark: 50,000 devices, page of 100 filtered by school, served by gunicorn.

    python bench/api.py [--devices 50000] [--seconds 20] [--clients 16] [--workers 4] [--database sqlite|postgresql|both]

Loads the demo schools.yaml, bulk-inserts generated devices, starts gunicorn on 127.0.0.1 and drives it with
16 concurrent keep-alive clients (wrk when installed, else a threaded Python client). Prints p50/p99 latency
and requests/s next to the targets (p99 <= 50 ms, >= 500 req/s).
"""

import argparse
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after the project, or bench/discovery.py would hide the package

from scratch import scratch_database  # noqa: E402

TARGET_P99_MS = 50.0
TARGET_RPS = 500.0
KINDS = ["laptop", "tablet", "interactive_display", "ops_pc", "access_point", "desktop", "printer"]
WORKER_CLASS = ["-k", os.environ.get("FLEET_BENCH_WORKER", "sync"), "--threads", os.environ.get("FLEET_BENCH_THREADS", "1")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(url: str, devices: int) -> tuple[str, list[str]]:
    """Migrate, sync the demo schools and bulk-insert devices; returns an admin token and school codes."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from fleet import create_app
    from inventory.db import db
    from inventory.demo_load import DEMO_ENVIRONMENT
    from inventory.models import Device, Interface, Room, School
    from inventory.netvalues import ip_key
    from inventory.schoolsfile import load_declaration
    from inventory.schoolsync import sync_declaration
    from inventory.tokens import create_token

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        sync_declaration(load_declaration(ROOT / "schools.yaml", environ=DEMO_ENVIRONMENT))
        schools = list(db.session.scalars(select(School).order_by(School.id)))
        rooms = {s.id: [r.id for r in db.session.scalars(select(Room).where(Room.school_id == s.id))]
                 for s in schools}
        rng = random.Random(50_000)
        device_rows, interface_rows = [], []
        for n in range(1, devices + 1):
            school = schools[n % len(schools)]
            ip = f"10.{200 + n % len(schools)}.{(n // 250) % 250}.{n % 250 + 1}"
            device_rows.append({
                "id": n, "school_id": school.id, "room_id": rng.choice(rooms[school.id]),
                "kind": rng.choice(KINDS), "status": "active", "vendor": "Lenovo", "model": "ThinkPad L14",
                "serial": f"BENCH{n:08d}", "asset_tag": f"INV-B-{n:06d}", "hostname": f"bn-{n:06d}",
                "ip": ip, "ip_key": ip_key(ip), "price_net": "799.00", "price_gross": "950.81",
            })
            interface_rows.append({"device_id": n, "mac": "02:00:%02x:%02x:%02x:%02x" % tuple(n.to_bytes(4, "big")),
                                   "kind": "wlan", "live": True})
        for start in range(0, devices, 5000):
            db.session.execute(insert(Device), device_rows[start:start + 5000])
            db.session.execute(insert(Interface), interface_rows[start:start + 5000])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum would have done on a database in use: statistics and a visibility map.
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        _token, plain = create_token("admin", name=f"bench-{uuid.uuid4().hex[:6]}")
        codes = [s.code for s in schools]
        db.engine.dispose()
    return plain, codes


def serve(url: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "FLEET_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), *WORKER_CLASS, "-b", f"127.0.0.1:{port}",
         "--log-level", "warning",
         "fleet:create_app()"], env=env, cwd=ROOT)
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start")


def paths(codes: list[str]) -> list[str]:
    return [f"/api/v1/devices?school={code}&per_page=100&page={page}" for code in codes for page in (1, 2, 5, 20)]


def drive_wrk(port: int, token: str, codes: list[str], seconds: int, clients: int) -> dict:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    lua_paths = ", ".join(f'"{p}"' for p in paths(codes))
    script.write_text(f"""
local paths = {{{lua_paths}}}
local i = 0
wrk.headers["Authorization"] = "Bearer {token}"
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
""")
    out = subprocess.run(["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds}s", "--latency", "-s", str(script),
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True).stdout
    script.unlink()

    def ms(label):
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"p50_ms": ms("50%"), "p99_ms": ms("99%"), "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
            "errors": int(errors[1]) if errors else 0, "client": "wrk"}


def drive_python(port: int, token: str, codes: list[str], seconds: int, clients: int) -> dict:
    latencies, errors, stop = [], [0], time.monotonic() + seconds
    lock = threading.Lock()
    urls = paths(codes)

    def client(offset: int):
        conn, mine, i = HTTPConnection("127.0.0.1", port), [], offset
        while time.monotonic() < stop:
            started = time.perf_counter()
            conn.request("GET", urls[i % len(urls)], headers={"Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                with lock:
                    errors[0] += 1
            i += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    cut = statistics.quantiles(latencies, n=100)
    return {"p50_ms": cut[49] * 1000, "p99_ms": cut[98] * 1000, "rps": len(latencies) / seconds,
            "errors": errors[0], "client": "python threads"}


def run(kind: str, args) -> dict:
    with scratch_database(kind, "fleet-bench") as (url, _workdir):
        started = time.perf_counter()
        token, codes = prepare(url, args.devices)
        print(f"[{kind}] loaded {args.devices} devices in {time.perf_counter() - started:.1f} s", flush=True)
        port = free_port()
        server = serve(url, port, args.workers)
        try:
            drive = drive_wrk if shutil.which("wrk") and not args.python_client else drive_python
            drive(port, token, codes, 2, args.clients)  # warm-up
            return drive(port, token, codes, args.seconds, args.clients)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=50_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--python-client", action="store_true", help="use the Python client even if wrk exists")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    print(f"device list, page of 100 by school, {args.devices} devices, {args.clients} clients, "
          f"{args.seconds} s, gunicorn -w {args.workers}")
    for kind in kinds:
        r = run(kind, args)
        print(f"[{kind}] p50 {r['p50_ms']:.1f} ms  p99 {r['p99_ms']:.1f} ms  {r['rps']:.0f} req/s  "
              f"errors {r['errors']}  ({r['client']})")
        print(f"[{kind}] vs target: p99 {r['p99_ms'] / TARGET_P99_MS:.2f}x of {TARGET_P99_MS:.0f} ms "
              f"({'ok' if r['p99_ms'] <= TARGET_P99_MS else 'MISSED'}), "
              f"throughput {r['rps'] / TARGET_RPS:.2f}x of {TARGET_RPS:.0f} req/s "
              f"({'ok' if r['rps'] >= TARGET_RPS else 'MISSED'})", flush=True)


if __name__ == "__main__":
    main()
