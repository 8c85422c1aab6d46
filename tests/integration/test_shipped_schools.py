"""The schools.yaml shipped at the repository root is valid and loads."""

from pathlib import Path

from inventory.demo_load import DEMO_ENVIRONMENT
from inventory.schoolsfile import load_declaration

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_schools_yaml_validates():
    declaration = load_declaration(ROOT / "schools.yaml", environ=DEMO_ENVIRONMENT)
    assert len(declaration.schools) == 6
    assert {school.type for school in declaration.schools} == {"general", "vocational"}
    assert all(20 <= len(school.rooms) <= 60 for school in declaration.schools)
