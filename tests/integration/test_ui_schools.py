"""The school pages: the rollout chart per school, a school's rooms as a grid of item states, one room."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from fleet.ui.svg import RolloutBar, rollout_chart

from inventory.models import Profile
from inventory.users import create_user

from .test_ui_auth import PASSWORD, BrowserClient, post_form, sign_in, text

NOW = datetime.now(UTC)
KLASSENRAUM = {"interactive_display": 1, "document_camera": 1, "laptop": 1}


@pytest.fixture
def client(app, db):
    return BrowserClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def carrier(db, make_school, make_device):
    """gs-a: room A101 (Klassenraum) with a display seen yesterday, a document camera never seen, no laptop;
    room A102 of the same profile, empty, due last year. os-b: room B1 needs two laptops and has one, seen lately."""
    school_a = make_school(code="gs-a", rooms=("A101", "A102"))
    school_b = make_school(code="os-b", rooms=("B1",))
    klassenraum = Profile(code="klassenraum", label="Klassenraum", items=KLASSENRAUM)
    for room in school_a.rooms:
        room.profile = klassenraum
    school_a.rooms[1].target_date = date(2025, 1, 31)
    school_b.rooms[0].profile = Profile(code="laptopwagen", label="Laptopwagen", items={"laptop": 2})
    db.session.commit()
    display = make_device(school_a, kind="interactive_display", room="A101", serial="DISP-1")
    display.last_seen_at = NOW - timedelta(days=1)
    camera = make_device(school_a, kind="document_camera", room="A101", serial="CAM-1")
    make_device(school_a, kind="laptop", room="A101", status="ordered", serial="LAP-ON-ORDER")
    laptop = make_device(school_b, kind="laptop", room="B1", serial="LAP-B")
    laptop.last_seen_at = NOW - timedelta(days=2)
    db.session.commit()
    create_user("anna", PASSWORD, "admin")
    return {"display": display.id, "camera": camera.id, "laptop": laptop.id}


def room_card(page: str, code: str) -> str:
    """The part of the page about one room: from its card to the next card or the end of its group."""
    start = page.find(f'id="room-{code}"')
    assert start >= 0, f"no card for room {code}"
    start = page.rindex("<li", 0, start)
    ends = [index for index in (page.find('<li class="room-card', start + 1), page.find("</section>", start))
            if index >= 0]
    return page[start:min(ends)]


def words(html: str) -> str:
    """The text of some HTML as a reader sees it: tags dropped, white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def items(html: str) -> dict[str, tuple[str, str]]:
    """kind → (state, the words shown) of each item on a card."""
    found = re.findall(r'<li class="item item-(\w+)" data-kind="(\w+)" data-state="(\w+)">(.*?)</li>', html, re.S)
    result = {}
    for css, kind, state, inner in found:
        assert css == state
        result[kind] = (state, " ".join(re.sub(r"<[^>]+>", " ", inner).split()))
    return result


def test_the_grid_shows_each_required_item_in_its_state_with_words_and_icons(client, carrier):
    sign_in(client)
    page = text(client.get("/schools/gs-a"))

    card = room_card(page, "A101")
    assert items(card) == {
        "interactive_display": ("verified", "✓ interaktives Display: bestätigt"),
        "document_camera": ("present", "● Dokumentenkamera: vorhanden, nicht bestätigt"),
        "laptop": ("missing", "✗ Laptop: fehlt noch"),
    }
    assert 'data-phase="ordered"' in card  # the laptop is on its way, so the room is no longer just planned
    assert "Bestellt: 1 × Laptop" in words(card)
    assert 'href="/schools/gs-a/rooms/A101"' in card
    assert "Klassenraum" in card and "Gebäude A, Etage 1" in page
    # the legend names every state in words
    assert all(word in page for word in ("bestätigt", "vorhanden, nicht bestätigt", "fehlt noch"))


def test_a_room_past_its_target_date_is_marked_overdue(client, carrier):
    sign_in(client)
    page = text(client.get("/schools/gs-a"))
    late = room_card(page, "A102")
    assert "überfällig" in late and "31.01.2025" in late and 'class="room-card attention"' in late
    assert "überfällig" not in room_card(page, "A101")
    assert {state for state, _words in items(late).values()} == {"missing"}


def test_the_rollout_chart_has_one_bar_per_school_with_its_numbers(client, carrier):
    sign_in(client)
    page = text(client.get("/schools"))

    svg = re.search(r'<svg class="chart chart-rollout" role="img".*?</svg>', page, re.S).group(0)
    assert 'aria-label="Ausstattung je Schule"' in svg
    assert '<title id="rollout-chart-title">Ausstattung je Schule</title>' in svg
    assert "<desc" in svg
    bars = dict(re.findall(r'<g class="chart-row" data-school="([\w-]+)" data-counts="([\d/]+)">', svg))
    # gs-a: two rooms × 3 kinds required, display and camera present, the display verified; os-b: 2/1/1
    assert bars == {"gs-a": "6/2/1", "os-b": "2/1/1"}
    assert "6 verlangt, 2 vorhanden, 1 bestätigt" in svg and "2 verlangt, 1 vorhanden, 1 bestätigt" in svg
    assert 'href="/schools/os-b"' in page


def test_the_room_page_lists_its_devices_and_its_rollout_per_kind(client, carrier):
    sign_in(client)
    page = text(client.get("/schools/gs-a/rooms/A101"))

    assert f'href="/devices/{carrier["display"]}"' in page and f'href="/devices/{carrier["camera"]}"' in page
    assert "DISP-1" in page and "CAM-1" in page and "LAP-ON-ORDER" in page
    assert f'href="/devices/{carrier["laptop"]}"' not in page  # another school's
    rows = {kind: re.findall(r'<td class="num[^"]*">(\d+)</td>', row)
            for kind, row in re.findall(r'<tr data-kind="(\w+)">(.*?)</tr>', page, re.S)}
    # required, present, verified, missing, ordered, beyond the profile
    assert rows == {"document_camera": ["1", "1", "0", "0", "0", "0"],
                    "interactive_display": ["1", "1", "1", "0", "0", "0"],
                    "laptop": ["1", "0", "0", "1", "1", "0"]}
    assert "Profil Klassenraum" in page and "Keine: das Profil gilt unverändert." in page


def test_a_school_limited_user_may_not_see_other_schools(client, carrier):
    create_user("sven", PASSWORD, "support", ["os-b"])
    sign_in(client, "sven")

    assert client.get("/schools/gs-a").status_code == 403
    assert client.get("/schools/gs-a/rooms/A101").status_code == 403
    assert client.get("/schools/os-b").status_code == 200
    page = text(client.get("/schools"))
    assert re.findall(r'data-school="([\w-]+)" data-counts', page) == ["os-b"]
    assert "gs-a" not in page


def test_unknown_schools_and_rooms_are_not_found(client, carrier):
    sign_in(client)
    assert client.get("/schools/nowhere").status_code == 404
    missing = client.get("/schools/gs-a/rooms/Z999")
    assert missing.status_code == 404 and "keinen Raum Z999" in text(missing)


def test_the_school_pages_in_english(client, carrier):
    sign_in(client)
    post_form(client, "/schools", "/language", {"language-locale": "en"}, "language-csrf_token")
    card = room_card(text(client.get("/schools/gs-a")), "A101")
    assert items(card)["document_camera"] == ("present", "● document camera: present, not verified")
    assert "6 required, 2 present, 1 verified" in text(client.get("/schools"))


def test_the_school_pages_take_no_posts_and_the_language_switch_needs_its_token(client, carrier):
    sign_in(client)
    assert client.post("/schools/gs-a").status_code == 405
    assert client.post("/language", data={"language-locale": "en"}).status_code == 400
    assert "Schulen" in text(client.get("/schools"))  # still German


def test_the_rollout_bars_share_one_scale_and_escape_their_words():
    svg = str(rollout_chart([RolloutBar("a", "<A>", 10, 5, 2, "x"), RolloutBar("b", "B", 20, 25, 20, "y")],
                            "T", "D"))
    widths = re.findall(r'class="bar-(\w+)" x="1" y="\d+" width="([\d.]+)"', svg)
    # the largest count (25 present) spans the picture, less the outline's room
    assert widths == [("required", "287.2"), ("present", "143.6"), ("verified", "57.4"),
                      ("required", "574.4"), ("present", "718.0"), ("verified", "574.4")]
    assert "&lt;A&gt;" in svg and "<A>" not in svg
