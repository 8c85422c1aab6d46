"""Web UI benchmark: the Übersicht and the device list at 50,000 devices.

    python bench/ui.py [--devices 50000] [--repeat 20] [--database sqlite|postgresql|both]

Loads the demo schools with bulk-inserted devices (as bench/api.py does), marks most of them as seen by discovery
lately, signs a user in and renders each page --repeat times through the app in this process (the whole request:
session, queries, template), after two warm-up requests. Prints the median and the 95th percentile per page next
to the target (<= 300 ms) and the ratio. PostgreSQL runs in a database of its own, dropped afterwards.
"""

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after the project, or bench/discovery.py would hide the package

from scratch import postgres_reachable, scratch_database  # noqa: E402

TARGET_MS = 300.0
PASSWORD = "bench-password-1"


def prepare(url: str, devices: int) -> list[str]:
    """The schools and devices of bench/api.py, most of them seen lately; a signed-in user; the school codes."""
    from api import prepare as load
    from sqlalchemy import update

    from fleet import create_app
    from inventory.db import db
    from inventory.models import Device
    from inventory.users import create_user

    _token, codes = load(url, devices)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        now = datetime.now(UTC)
        # four in five seen in the last days, the others weeks ago: the Übersicht tells them apart
        db.session.execute(update(Device).where(Device.id % 5 != 0).values(last_seen_at=now - timedelta(days=2)))
        db.session.execute(update(Device).where(Device.id % 5 == 0).values(last_seen_at=now - timedelta(days=40)))
        db.session.commit()
        create_user("bench", PASSWORD, "admin")
        db.engine.dispose()
    return codes


def measure(url: str, paths: list[str], repeat: int) -> dict[str, list[float]]:
    """Milliseconds per request for each path, rendered by the app in this process."""
    import re

    from fleet import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page)
    answer = client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token.group(1)})
    if answer.status_code != 302:
        raise SystemExit(f"signing in failed: {answer.status_code}")
    times: dict[str, list[float]] = {}
    for path in paths:
        for _ in range(2):
            client.get(path)
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(path)
            samples.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{path}: status {response.status_code}")
        times[path] = samples
    return times


def run(kind: str, args) -> dict[str, list[float]]:
    with scratch_database(kind, "fleet-bench-ui") as (url, _workdir):
        started = time.perf_counter()
        codes = prepare(url, args.devices)
        print(f"[{kind}] loaded {args.devices} devices in {time.perf_counter() - started:.1f} s", flush=True)
        paths = ["/", "/devices", f"/devices?school={codes[0]}", "/devices?q=bn-0421&sort=-hostname"]
        return measure(url, paths, args.repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    if "postgresql" in kinds and not postgres_reachable():
        print("PostgreSQL is not reachable: measuring SQLite only")
        kinds = ["sqlite"]
    for kind in kinds:
        for path, samples in run(kind, args).items():
            median = statistics.median(samples)
            p95 = sorted(samples)[max(0, round(len(samples) * 0.95) - 1)]
            verdict = "ok" if median <= TARGET_MS else "MISSED"
            print(f"[{kind}] {path:40} median {median:6.1f} ms  p95 {p95:6.1f} ms  "
                  f"({median / TARGET_MS:.2f}x of {TARGET_MS:.0f} ms, {verdict})", flush=True)


if __name__ == "__main__":
    main()
