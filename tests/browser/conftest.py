"""Browser tests: the demo carrier served on loopback by a real HTTP server, driven with Playwright in Debian's
Chromium (never a downloaded browser). A failing test leaves a screenshot in test-output/screenshots/."""

import os
import shutil
import threading
from datetime import date
from pathlib import Path
from typing import NamedTuple

import pytest
from sqlalchemy import select, text
from werkzeug.serving import make_server

from fleet import create_app
from inventory.db import db as _db
from discovery.models import Finding
from inventory.models import Device, Room

from ..conftest import ROOT, TEST_DATABASE_URL, _normalise

CHROMIUM = os.environ.get("FLEET_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-output" / "screenshots"
PASSWORD = "browser-test-password"
TODAY = date(2026, 11, 24)


class Sample(NamedTuple):
    id: int
    serial: str
    hostname: str


class NewFinding(NamedTuple):
    id: int
    mac: str
    detail: str
    room: str


class Served(NamedTuple):
    base: str
    display: Sample
    finding: NewFinding

    def __str__(self) -> str:
        return self.base


@pytest.fixture(scope="module")
def server(app, tmp_path_factory):
    """The demo carrier (fleet, discovery history, invoices) with users admin and viewer, served on 127.0.0.1;
    yields its base URL and a sample device. On PostgreSQL it shares the test database and empties it afterwards."""
    from discovery.demo import seed_history
    from inventory.demo_load import load_demo
    from inventory.users import create_user
    from provisioning.demo import record_invoices

    if TEST_DATABASE_URL.startswith("sqlite"):
        url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'fleet.sqlite'}"
    else:
        url = _normalise(TEST_DATABASE_URL)
    served = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "browser-test",
                         "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                         "SCHOOLS": str(ROOT / "schools.yaml")})
    with served.app_context():
        _db.create_all()
        load_demo(ROOT / "schools.yaml")
        seed_history(TODAY)
        record_invoices(TODAY)
        create_user("admin", PASSWORD, "admin", name="Ada Admin")
        create_user("leser", PASSWORD, "viewer")
        display = _db.session.scalars(select(Device).where(Device.kind == "interactive_display",
                                                          Device.status == "active", Device.hostname.is_not(None))
                                      .order_by(Device.id).limit(1)).one()
        sample = Sample(display.id, display.serial, display.hostname)
        new = _db.session.scalars(select(Finding).where(Finding.kind == "new", Finding.status == "open")
                                  .order_by(Finding.id).limit(1)).one()
        room = _db.session.scalars(select(Room).where(Room.school_id == new.school_id).order_by(Room.code)).first()
        finding = NewFinding(new.id, new.seen["mac"], new.detail, room.code)
        _db.session.remove()
    http = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{http.server_port}"
        yield Served(base, sample, finding)
    finally:
        http.shutdown()
        thread.join(timeout=10)
        with served.app_context():
            _empty(_db)
            _db.engine.dispose()


def _empty(db) -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as connection:
        if db.engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless; a clear error when it is not installed."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists() or not shutil.which(CHROMIUM):
        pytest.fail(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)", pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser page (no cookies) at tablet-friendly desktop width; screenshot on failure."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{request.node.name}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot of the failing page: {path}")
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report


def sign_in(page, base: str, username: str = "admin") -> None:
    """Sign in through the form, as a person would."""
    page.goto(f"{base}/login")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{base}/")
