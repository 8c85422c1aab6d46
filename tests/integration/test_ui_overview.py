"""The Übersicht: per school the numbers a supporter acts on, as the database holds them, for the right schools."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from discovery.models import DiscoveryRun, Finding
from fleet.ui.charts import progress_bar
from inventory.models import Device, Profile
from inventory.users import create_user

from .test_ui_auth import PASSWORD, BrowserClient, post_form, sign_in, text

NOW = datetime.now(UTC)
KLASSENRAUM = {"interactive_display": 1, "laptop": 2}


def card(page: str, code: str) -> str:
    """The part of the page about one school."""
    match = re.search(rf'<li class="card[^"]*" id="school-{re.escape(code)}".*?</li>', page, re.S)
    assert match, f"no card for {code}"
    return match.group(0)


def counts(html: str) -> dict[str, int]:
    return {name: int(value.replace(".", "").replace(",", ""))
            for name, value in re.findall(r'data-count="([\w-]+)">([\d.,]+)<', html)}


@pytest.fixture
def client(app, db):
    return BrowserClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def carrier(db, make_school, make_device):
    """Two schools: gs-linden with devices, a display park, runs and findings; os-nord with one laptop."""
    linden = make_school(code="gs-linden", rooms=("A101", "A102"))
    nord = make_school(code="os-nord", rooms=("B1",))
    profile = Profile(code="klassenraum", label="Klassenraum", items=KLASSENRAUM)
    for room in linden.rooms:
        room.profile = profile
    db.session.commit()

    def device(school, **fields):
        seen = fields.pop("seen", None)
        made = make_device(school, **fields)
        if seen is not None:
            made.last_seen_at = seen
            db.session.commit()
        return made

    device(linden, kind="interactive_display", room="A101", seen=NOW - timedelta(days=1))  # online
    device(linden, kind="interactive_display", room="A102", seen=NOW - timedelta(days=40))  # not seen lately
    device(linden, kind="interactive_display", status="loaned")  # in service, never seen
    device(linden, kind="interactive_display", status="missing")
    device(linden, kind="interactive_display", status="ordered")  # not on a wall yet: none of the three
    device(linden, kind="interactive_display", status="retired", seen=NOW)
    device(linden, kind="laptop", room="A101", seen=NOW - timedelta(days=2))
    device(linden, kind="laptop", room="A101")
    device(linden, kind="laptop", room="A102", status="repair")
    device(linden, kind="laptop", status="in_stock")
    device(nord, kind="laptop")

    old = DiscoveryRun(school_id=linden.id, trigger="schedule", status="succeeded", started_at=NOW - timedelta(days=2),
                       finished_at=NOW - timedelta(days=2), counts={"alive": 99})
    last = DiscoveryRun(school_id=linden.id, trigger="manual", status="succeeded",
                        started_at=datetime(2026, 11, 23, 6, 30, tzinfo=UTC),
                        finished_at=datetime(2026, 11, 23, 6, 31, tzinfo=UTC),
                        counts={"alive": 41, "matched": 37, "new": 3, "missing": 1})
    failed = DiscoveryRun(school_id=nord.id, trigger="agent", status="failed", started_at=NOW - timedelta(hours=1),
                          finished_at=NOW, message="subnet unreachable")
    db.session.add_all([old, last, failed])
    db.session.flush()
    db.session.add_all([Finding(school_id=linden.id, kind=kind, key=f"k{n}", status=status, detail="-",
                                first_run_id=last.id, last_run_id=last.id)
                        for n, (kind, status) in enumerate([("new", "open"), ("new", "open"), ("missing", "open"),
                                                            ("new", "ignored"), ("moved", "accepted")])])
    db.session.commit()
    return linden, nord


def test_an_admin_sees_every_school_with_the_databases_numbers(client, db, carrier):
    linden, nord = carrier
    create_user("anna", PASSWORD, "admin")
    sign_in(client)
    page = text(client.get("/"))
    shown = counts(card(page, "gs-linden"))

    by_status = dict(db.session.execute(select(Device.status, func.count()).where(
        Device.school_id == linden.id, Device.status != "retired").group_by(Device.status)).all())
    assert {key.removeprefix("devices-"): value for key, value in shown.items()
            if key.startswith("devices-") and key != "devices-total"} == by_status
    assert shown["devices-total"] == sum(by_status.values()) == 9
    assert (shown["displays-online"], shown["displays-not_seen"], shown["displays-missing"]) == (1, 2, 1)
    open_findings = db.session.scalar(select(func.count()).select_from(Finding).where(
        Finding.school_id == linden.id, Finding.status == "open"))
    assert shown["findings-open"] == open_findings == 3
    assert counts(card(page, "os-nord")) == {"devices-total": 1, "devices-active": 1, "displays-online": 0,
                                             "displays-not_seen": 0, "displays-missing": 0, "findings-open": 0}


def test_the_rollout_bar_shows_required_present_and_verified(client, carrier):
    create_user("anna", PASSWORD, "admin")
    sign_in(client)
    linden = card(text(client.get("/")), "gs-linden")
    # Two rooms each need a display and two laptops: A101 has its display and both laptops (one seen lately),
    # A102 a display not seen lately; the laptop in repair is not present.
    assert 'data-rollout="6/4/2"' in linden
    assert "4 von 6 Geräten vorhanden, 2 bestätigt" in linden
    assert '<svg class="progress" role="img"' in linden and "<title>4 von 6 Geräten vorhanden" in linden
    assert 'data-rollout="0/0/0"' in card(text(client.get("/")), "os-nord")


def test_the_last_run_is_shown_with_its_outcome_and_local_time(client, carrier):
    create_user("anna", PASSWORD, "admin")
    sign_in(client)
    page = text(client.get("/"))
    linden = card(page, "gs-linden")
    assert 'data-run="succeeded"' in linden
    assert ">23.11.2026 07:30</time>" in linden  # 06:30 UTC is 07:30 in Berlin in November
    assert "41 Hosts antworteten, 37 bekannt, 3 neu, 1 vermisst." in linden
    nord = card(page, "os-nord")
    assert 'data-run="failed"' in nord and "subnet unreachable" in nord
    assert 'class="card attention"' in nord


def test_a_support_user_sees_only_their_schools(client, carrier):
    create_user("sven", PASSWORD, "support", ["os-nord"])
    sign_in(client, "sven")
    page = text(client.get("/"))
    assert 'id="school-os-nord"' in page and "gs-linden" not in page


def test_a_user_without_schools_sees_every_school(client, carrier):
    create_user("vera", PASSWORD, "viewer")
    sign_in(client, "vera")
    page = text(client.get("/"))
    assert 'id="school-gs-linden"' in page and 'id="school-os-nord"' in page


def test_the_overview_in_english(client, carrier):
    create_user("erin", PASSWORD, "finance", [])
    sign_in(client, "erin")
    post_form(client, "/", "/language", {"language-locale": "en"}, "language-csrf_token")
    linden = card(text(client.get("/")), "gs-linden")
    assert ">Nov 23, 2026 7:30\u202fAM</time>" in linden
    assert "4 of 6 devices present, 2 verified" in linden and "Interactive displays" in linden


def test_without_schools_the_overview_says_so(client, db):
    create_user("anna", PASSWORD, "admin")
    sign_in(client)
    assert "Es gibt noch keine Schulen anzuzeigen." in text(client.get("/"))


# --- the bar itself ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("required, present, verified, widths", [
    (4, 2, 1, (100, 50)),
    (4, 6, 5, (200, 200)),  # a surplus fills the bar, no more
    (0, 3, 3, (0, 0)),
    (3, 1, 0, (67, 0)),
])
def test_the_progress_bar_scales_present_and_verified_to_the_required(required, present, verified, widths):
    svg = str(progress_bar(required, present, verified, "x", width=200))
    assert re.findall(r'class="progress-(?:present|verified)" x="0" y="0" width="(\d+)"', svg) == [
        str(width) for width in widths]


def test_the_progress_bar_label_is_escaped_and_read_out():
    svg = str(progress_bar(2, 1, 1, "<b>1 von 2</b>"))
    assert svg.startswith('<svg class="progress" role="img"') and "<title>&lt;b&gt;1 von 2&lt;/b&gt;</title>" in svg
