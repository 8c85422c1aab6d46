"""Funding report benchmark: 60 schools × 800 funded devices, the JSON report and the XLSX workbook.

    python bench/funding.py [--schools 60] [--devices-per-school 800] [--repeat 3] [--database sqlite|postgresql|both]

Generates a carrier in Brandenburg with rooms, grants (one base grant per school, one loan-device grant for all),
and devices with prices, invoices per purchase lot (recorded, most paid, the early ones reimbursed), asset tags, a few
untagged expensive ones and a few retired ones, bulk-inserted. Then times, in process, the whole report as the API
serves it: facts from the database, the rule checks and the figures, once as JSON text and once as the XLSX
workbook. Prints the best of --repeat runs next to the targets (JSON <= 1 s, XLSX <= 3 s) and the ratios.
PostgreSQL runs in a database of its own, dropped afterwards.
"""

import argparse
import json
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after the project, or bench/discovery.py would hide the package

from scratch import PG_URL, postgres_reachable, scratch_database  # noqa: E402

TARGET_JSON_S = 1.0
TARGET_XLSX_S = 3.0
# kind, funding category, net price range in euros
PRODUCTS = [("interactive_display", "display", 3200, 5200), ("ops_pc", "display", 600, 900),
            ("document_camera", "display", 250, 450), ("laptop", "mobile", 450, 950),
            ("tablet", "mobile", 300, 700), ("desktop", "work_equipment", 600, 1100),
            ("access_point", "wlan", 300, 600), ("switch", "network", 900, 2500)]
ROOMS_PER_SCHOOL = 40


def prepare(url: str, schools: int, per_school: int) -> int:
    """Migrate and bulk-insert the carrier, schools, rooms, grants and devices; returns the device count."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from fleet import create_app
    from inventory.db import db
    from inventory.models import Carrier, Device, Room, School
    from provisioning.models import Grant, Purchase, PurchaseLine, grant_schools

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    rng = random.Random(60_800)
    with app.app_context():
        upgrade()
        db.session.add(Carrier(name="Landkreis Bench", state="BB", funding={},
                               budgets={"dp2019": f"{schools * 150_000}.00"}))
        db.session.execute(insert(School), [
            {"id": n, "code": f"school-{n:02d}", "name": f"Schule {n}", "number": f"{100000 + n}",
             "type": "vocational" if n % 6 == 0 else "general", "concept_date": date(2019, 3, 1),
             "network_since": date(2018, 8, 1), "discovery": {}} for n in range(1, schools + 1)])
        db.session.execute(insert(Room), [
            {"id": (n - 1) * ROOMS_PER_SCHOOL + r, "school_id": n, "code": f"R{r:03d}", "name": f"Raum {r}",
             "kind": "admin" if r == ROOMS_PER_SCHOOL else "classroom", "items": {}}
            for n in range(1, schools + 1) for r in range(1, ROOMS_PER_SCHOOL + 1)])
        grants = [{"id": n, "ref": f"DP-2020-{n:04d}", "programme": "dp2019", "decided": date(2020, 9, 1),
                   "amount": Decimal("150000.00"), "rate": Decimal("0.90"), "project_end": date(2024, 12, 31)}
                  for n in range(1, schools + 1)]
        grants.append({"id": schools + 1, "ref": "DP-2020-SOFORT", "programme": "dp2019-sofort",
                       "decided": date(2020, 8, 14), "amount": Decimal("400000.00"), "rate": Decimal("0.90"),
                       "project_end": date(2021, 12, 31)})
        db.session.execute(insert(Grant), grants)
        db.session.execute(insert(grant_schools), [{"grant_id": n, "school_id": n} for n in range(1, schools + 1)]
                           + [{"grant_id": schools + 1, "school_id": n} for n in range(1, schools + 1)])
        rows, purchases, lines, n = [], {}, [], 0
        for school in range(1, schools + 1):
            for index in range(per_school):
                n += 1
                kind, category, low, high = PRODUCTS[index % len(PRODUCTS)]
                lot = index // 50  # one invoice per 50 devices of a school
                loan = kind == "tablet" and index % 16 < 8
                net = Decimal(rng.randrange(low * 100, high * 100)) / 100
                day = date(2020, 10, 1) + timedelta(days=lot * 37 + school)
                ordered = index >= per_school - 20  # the last lot is on order: no invoice yet
                rows.append({
                    "id": n, "school_id": school, "room_id": (school - 1) * ROOMS_PER_SCHOOL + 1 + index % 40,
                    "kind": kind, "status": "retired" if index % 199 == 0 else "ordered" if ordered else "active",
                    "vendor": "Lenovo", "model": f"Modell {kind}", "serial": f"FB{n:08d}",
                    "asset_tag": None if index % 97 == 0 else f"INV-{n:06d}",
                    "supplier": f"Lieferant {lot % 5}", "invoice": None if ordered else f"RE-{school:02d}-{lot:03d}",
                    "purchase_date": None if ordered else day, "price_net": net,
                    "price_gross": (net * Decimal("1.19")).quantize(Decimal("0.01")),
                    "grant_ref": "DP-2020-SOFORT" if loan else f"DP-2020-{school:04d}", "funding_category": category,
                    "commissioned_on": None if ordered else day + timedelta(days=21), "unseen_runs": 0})
                if not ordered:  # the invoice, paid a month later; the first lots reimbursed by the Land
                    key = rows[-1]["invoice"]
                    if key not in purchases:
                        purchases[key] = {"id": len(purchases) + 1, "supplier": rows[-1]["supplier"],
                                          "invoice_number": key, "invoice_date": day,
                                          "paid_date": day + timedelta(days=30) if lot < 14 else None,
                                          "reimbursed_date": day + timedelta(days=120) if lot < 8 else None}
                    lines.append({"purchase_id": purchases[key]["id"], "position": index % 50 + 1, "device_id": n,
                                  "category": category, "net": net, "gross": rows[-1]["price_gross"]})
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(Device), rows[start:start + 5000])
        db.session.execute(insert(Purchase), list(purchases.values()))
        for start in range(0, len(lines), 5000):
            db.session.execute(insert(PurchaseLine), lines[start:start + 5000])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        db.engine.dispose()
    return len(rows)


def measure(url: str, repeat: int) -> dict:
    """Best-of-repeat seconds for the JSON report and the XLSX workbook, with what they contained."""
    from fleet import create_app
    from inventory.db import db
    from provisioning import report, report_files

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    times = {"json": [], "xlsx": [], "grant_json": []}
    with app.app_context():
        for _ in range(repeat):
            started = time.perf_counter()
            built = report.build_report(date.today())
            text = json.dumps(report.report_dict(built), ensure_ascii=False)
            times["json"].append(time.perf_counter() - started)
            db.session.rollback()
            started = time.perf_counter()
            built = report.build_report(date.today())
            data = report_files.write_xlsx(built)
            times["xlsx"].append(time.perf_counter() - started)
            db.session.rollback()
            started = time.perf_counter()
            report.report_dict(report.build_report(date.today(), "DP-2020-0001"))
            times["grant_json"].append(time.perf_counter() - started)
            db.session.rollback()
        total = built.total()
        result = {name: min(values) for name, values in times.items()}
        result.update(devices=total.devices, net=str(total.net), gross=str(total.gross),
                      requested_now=str(total.requested_now), findings=len(built.findings),
                      receipts=len(built.receipts), json_bytes=len(text.encode()), xlsx_bytes=len(data))
        db.engine.dispose()
    return result


def run(kind: str, args) -> dict:
    with scratch_database(kind, "fleet-bench-funding") as (url, _workdir):
        started = time.perf_counter()
        count = prepare(url, args.schools, args.devices_per_school)
        print(f"[{kind}] loaded {count} devices at {args.schools} schools in {time.perf_counter() - started:.1f} s",
              flush=True)
        return measure(url, args.repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=60)
    parser.add_argument("--devices-per-school", type=int, default=800)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    if "postgresql" in kinds and not postgres_reachable():
        print(f"[postgresql] not reachable at {PG_URL}: skipped", flush=True)
        kinds.remove("postgresql")
    failed = False
    for kind in kinds:
        result = run(kind, args)
        ok_json, ok_xlsx = result["json"] <= TARGET_JSON_S, result["xlsx"] <= TARGET_XLSX_S
        failed |= not (ok_json and ok_xlsx)
        print(f"[{kind}] {result['devices']} devices, net {result['net']} €, gross {result['gross']} €, "
              f"requested now {result['requested_now']} €, {result['receipts']} receipts, "
              f"{result['findings']} findings")
        print(f"[{kind}] JSON report  {result['json']:.3f} s (target {TARGET_JSON_S} s, "
              f"{result['json'] / TARGET_JSON_S:.0%} of it) {'ok' if ok_json else 'MISSED'}; "
              f"{result['json_bytes'] / 1024:.0f} KiB")
        print(f"[{kind}] XLSX workbook {result['xlsx']:.3f} s (target {TARGET_XLSX_S} s, "
              f"{result['xlsx'] / TARGET_XLSX_S:.0%} of it) {'ok' if ok_xlsx else 'MISSED'}; "
              f"{result['xlsx_bytes'] / 1024:.0f} KiB")
        print(f"[{kind}] JSON report of one grant {result['grant_json']:.3f} s")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
