"""A throw-away database for a benchmark: a SQLite file in a temp folder, or a fresh PostgreSQL database."""

import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

PG_URL = os.environ.get("FLEET_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def scratch_database(kind: str, prefix: str):
    """Yield (url, workdir) of an empty database of kind 'sqlite' or 'postgresql'; removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    admin = name = None
    try:
        if kind == "sqlite":
            url = f"sqlite:///{workdir / 'bench.sqlite'}"
        else:
            from sqlalchemy import create_engine, text
            name = f"{prefix.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
            admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            url = PG_URL.rsplit("/", 1)[0] + "/" + name
        yield url, workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def postgres_reachable() -> bool:
    """Whether the benchmark's PostgreSQL answers within two seconds."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError
    engine = create_engine(PG_URL, connect_args={"connect_timeout": 2})
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        return True
    except OperationalError:
        return False
    finally:
        engine.dispose()
