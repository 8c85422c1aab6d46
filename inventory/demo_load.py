"""Load the demo carrier: schools.yaml plus a generated fleet, through the same paths a real carrier uses."""

import os
from pathlib import Path

import yaml

from .demo import generate_fleet
from .formats import Row, parse_records
from .importer import import_records
from .schoolsfile import load_declaration
from .schoolsync import sync_declaration

DEMO_ENVIRONMENT = {
    # The demo's SNMP secrets; a real installation sets these in its environment.
    "FLEET_SNMP_COMMUNITY": "public",
    "FLEET_SNMP_V3_AUTH": "demo-auth-key",
    "FLEET_SNMP_V3_PRIV": "demo-priv-key",
}


def load_demo(path: Path, environ: dict | None = None) -> str:
    """Sync schools.yaml and import the generated fleet; running it twice changes nothing."""
    env = {**DEMO_ENVIRONMENT, **(environ if environ is not None else os.environ)}
    declaration = load_declaration(path, environ=env)
    changes = sync_declaration(declaration)
    plain = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    rows = [Row(line=number, values=values) for number, values in enumerate(generate_fleet(plain), start=2)]
    result = import_records(parse_records(rows, "demo fleet"), "demo fleet")
    return (f"{path}: {len(changes)} change(s) to schools and rooms; demo fleet: "
            f"{result.created} device(s) created, {result.updated} updated, {result.unchanged} unchanged")
