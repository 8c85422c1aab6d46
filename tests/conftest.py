"""Fixtures: one app per test session on FLEET_TEST_DATABASE_URL or SQLite in memory; a clean database per test."""

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from fleet import create_app
from inventory import models
from inventory.db import db as _db

ROOT = Path(__file__).resolve().parent.parent
TEST_DATABASE_URL = os.environ.get("FLEET_TEST_DATABASE_URL") or "sqlite://"


@pytest.fixture(scope="session")
def app():
    """The application, bound to the test database, with the schema created from the models."""
    application = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": _normalise(TEST_DATABASE_URL),
        "SECRET_KEY": "test",
        # scrypt costs a tenth of a second a password: the suite signs in hundreds of times
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SCHOOLS": str(ROOT / "schools.yaml"),
    })
    with application.app_context():
        _db.drop_all()
        _db.create_all()
    yield application
    with application.app_context():
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


def _normalise(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@pytest.fixture
def db(app):
    """The database, emptied after the test."""
    with app.app_context():
        yield _db
        _db.session.rollback()
        _db.session.remove()
        tables = list(reversed(_db.metadata.sorted_tables))
        if _db.engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            with _db.engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            with _db.engine.begin() as connection:
                for table in tables:
                    connection.execute(table.delete())


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def make_school(db):
    """Factory: a school with rooms and subnets."""
    counter = iter(range(1, 10_000))

    def make(code=None, rooms=("A101", "A102"), subnets=None, type="general", **extra):
        n = next(counter)
        school = models.School(code=code or f"school-{n}", name=f"Schule {n}", type=type,
                               number=f"{100000 + n}", **{"discovery": {}, **extra})
        school.subnets = [models.Subnet(cidr=c) for c in (subnets or [f"10.{n}.0.0/24"])]
        school.rooms = [models.Room(code=r, name=f"Raum {r}", kind="classroom", building=r[0], floor=1)
                        for r in rooms]
        db.session.add(school)
        db.session.commit()
        return school
    return make


@pytest.fixture
def make_device(db):
    """Factory: a device through the service, so identities and audit behave as in production."""
    from inventory.devices import register_device

    def make(school, **fields):
        data = {"school": school.code if hasattr(school, "code") else school, "kind": "laptop", **fields}
        return register_device(data)
    return make


@pytest.fixture
def token_for(db):
    """Factory: an Authorization header for a new token of a role."""
    from inventory.tokens import create_token

    def make(role="admin", schools=()):
        _token, plain = create_token(role, list(schools))
        return {"Authorization": f"Bearer {plain}"}
    return make


@pytest.fixture
def admin(token_for):
    return token_for("admin")
