"""Etiketten: the sheet holds exactly the chosen devices, each with a QR code of its page, at the right places."""

import re

import pytest
import segno

from fleet.ui.asset_labels import qr_svg
from inventory.models import Carrier
from inventory.users import create_user

from .test_ui_auth import PASSWORD, BrowserClient, post_form, sign_in, text


@pytest.fixture
def client(app, db):
    return BrowserClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def fleet(db, make_school, make_device):
    """gs-linden: 3 laptops and a display in A101, one laptop without asset tag; os-nord: 2 laptops."""
    db.session.add(Carrier(name="Stadt Musterstadt", state="NW"))
    linden = make_school(code="gs-linden", rooms=("A101", "A102"))
    nord = make_school(code="os-nord", rooms=("B1",))
    made = {}
    for n in range(1, 4):
        made[f"L-{n}"] = make_device(linden, kind="laptop", room="A101", asset_tag=f"INV-L{n}", serial=f"SL{n}",
                                     vendor="Lenovo", model="ThinkPad L13")
    made["L-D"] = make_device(linden, kind="interactive_display", room="A101", asset_tag="INV-LD", serial="SLD")
    made["L-none"] = make_device(linden, kind="laptop", room="A102", serial="SERIAL-NO-TAG")
    for n in range(1, 3):
        made[f"N-{n}"] = make_device(nord, kind="laptop", room="B1", asset_tag=f"INV-N{n}", serial=f"SN{n}")
    db.session.commit()
    return made


@pytest.fixture
def viewer(db):
    return create_user("vera", PASSWORD, "viewer")


def labels(html: str) -> list[str]:
    """The boxes of a sheet in order: each device's asset tag, '' for an empty box."""
    boxes = re.findall(r'<div class="label( empty)?"(?: data-device="\d+")?>(.*?)(?=<div class="label[ "]|</section>)',
                       html, re.S)
    result = []
    for empty, body in boxes:
        tag = re.search(r'<p class="tag">([^<]*)</p>', body)
        result.append("" if empty else tag.group(1) if tag else "(none)")
    return result


def path_data(svg: str) -> list[str]:
    return re.findall(r' d="([^"]+)"', svg)


def test_the_sheet_holds_exactly_the_filtered_devices(client, fleet, viewer):
    sign_in(client, "vera")
    html = text(client.get("/labels/sheet?school=gs-linden&kind=laptop&room=A101"))
    assert sorted(labels(html)) == ["INV-L1", "INV-L2", "INV-L3"]
    assert "INV-LD" not in html and "INV-N1" not in html
    assert html.count("<svg") == 3
    assert "Stadt Musterstadt" in html and "Schule" in html and "ThinkPad L13" in html and "SL2" in html


def test_each_qr_code_encodes_the_device_page(client, fleet, viewer):
    sign_in(client, "vera")
    device = fleet["L-2"]
    html = text(client.get(f"/labels/sheet?ids={device.id}"))
    (svg,) = re.findall(r"<svg.*?</svg>", html, re.S)
    url = f"http://localhost/devices/{device.id}"
    assert path_data(svg) == path_data(segno.make(url, error="m", mask=0, micro=False).svg_inline(border=1))
    assert path_data(svg) != path_data(qr_svg(f"http://localhost/devices/{fleet['L-1'].id}"))
    assert "<img" not in html and not re.search(r'(src|href)="https?://', html)


def test_the_start_position_leaves_used_labels_empty(client, fleet, viewer):
    sign_in(client, "vera")
    html = text(client.get("/labels/sheet?school=os-nord&skip=5&format=a4-3x8"))
    assert labels(html) == ["", "", "", "", "", "INV-N1", "INV-N2"]
    assert html.count('class="sheet"') == 1


def test_thirty_labels_on_three_by_eight_take_two_pages(client, db, make_school, make_device, viewer):
    school = make_school(code="gy-ost", rooms=("C1",))
    for n in range(30):
        make_device(school, kind="tablet", asset_tag=f"T-{n:02}", serial=f"ST{n:02}")
    sign_in(client, "vera")
    html = text(client.get("/labels/sheet?school=gy-ost&format=a4-3x8"))
    assert html.count('class="sheet"') == 2 and len(labels(html)) == 30
    assert "@page { size: 210mm 297mm; margin: 0; }" in html
    assert "grid-template-columns: repeat(3, 70mm)" in html and "grid-auto-rows: 37mm" in html
    two_by_seven = text(client.get("/labels/sheet?school=gy-ost&format=a4-2x7"))
    assert two_by_seven.count('class="sheet"') == 3 and "repeat(2, 105mm)" in two_by_seven


def test_a_device_without_asset_tag_is_named_as_a_warning(client, fleet, viewer):
    sign_in(client, "vera")
    html = text(client.get("/labels/sheet?school=gs-linden&room=A102"))
    assert "1 Gerät hat keine Inventarnummer" in html and "SERIAL-NO-TAG" in html
    assert labels(html) == ["(none)"] and html.count("<svg") == 1


def test_the_choice_page_counts_the_devices_in_german_and_english(client, fleet, viewer):
    sign_in(client, "vera")
    html = text(client.get("/labels?school=gs-linden"))
    assert "<h1>Etiketten</h1>" in html and "5 Geräte passen." in html and 'data-count="5"' in html
    assert 'name="school" value="gs-linden"' in html and "INV-LD" in html and "INV-N1" not in html
    assert ">Etiketten</a>" in html  # in the navigation
    post_form(client, "/", "/language", {"language-locale": "en", "language-next": "/"}, "language-csrf_token")
    english = text(client.get("/labels?school=gs-linden"))
    assert "<h1>Labels</h1>" in english and "5 devices match." in english


def test_the_device_list_selection_is_carried_to_the_sheet(client, fleet, viewer):
    sign_in(client, "vera")
    ids = f"{fleet['N-2'].id},{fleet['L-1'].id}"
    html = text(client.get(f"/labels?ids={ids}"))
    assert f'name="ids" value="{ids}"' in html and 'data-count="2"' in html
    assert labels(text(client.get(f"/labels/sheet?ids={ids}"))) == ["INV-N2", "INV-L1"]


def test_a_school_limited_user_cannot_label_other_schools_devices(client, fleet, db):
    create_user("sam", PASSWORD, "support", ["os-nord"])
    sign_in(client, "sam")
    assert labels(text(client.get("/labels/sheet"))) == ["INV-N1", "INV-N2"]
    assert client.get("/labels/sheet?school=gs-linden").status_code == 403
    assert client.get(f"/labels/sheet?ids={fleet['L-1'].id}").status_code == 403
    assert client.get(f"/labels?ids={fleet['N-1'].id},{fleet['L-1'].id}").status_code == 403
    page = text(client.get("/labels"))
    assert 'data-count="2"' in page and "gs-linden" not in page


def test_more_than_the_cap_is_refused_with_a_message(client, fleet, viewer, monkeypatch):
    monkeypatch.setattr("fleet.ui.asset_labels.MAX_LABELS", 4)
    sign_in(client, "vera")
    response = client.get("/labels/sheet?school=gs-linden")
    assert response.status_code == 422 and "höchstens 4 Etiketten" in text(response) and "<svg" not in text(response)
    assert "höchstens 4 Etiketten" in text(client.get("/labels?school=gs-linden"))


def test_signing_in_is_required(client, fleet):
    response = client.get("/labels/sheet")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_unknown_school_is_named_not_a_crash(client, fleet, db):
    create_user("anna", PASSWORD, "admin")
    sign_in(client, "anna")
    response = client.get("/labels/sheet?school=gibt-es-nicht")
    assert response.status_code == 422 and "eine Schule, die es nicht gibt" in text(response)
    assert "eine Schule, die es nicht gibt" in text(client.get("/labels?school=gibt-es-nicht"))


def test_the_sheet_links_back_to_the_same_selection(client, fleet, viewer):
    sign_in(client, "vera")
    html = text(client.get("/labels/sheet?school=os-nord&kind=laptop&format=a4-2x7"))
    assert 'href="/labels?format=a4-2x7&amp;school=os-nord&amp;kind=laptop"' in html


def test_the_grant_filter_of_the_device_list_is_honoured(client, fleet, viewer, db):
    fleet["N-2"].grant_ref = "DP-2024-07"
    db.session.commit()
    sign_in(client, "vera")
    assert labels(text(client.get("/labels/sheet?grant=DP-2024-07"))) == ["INV-N2"]
    assert 'name="grant" value="DP-2024-07"' in text(client.get("/labels?grant=DP-2024-07"))


def test_too_many_picked_devices_are_refused_without_a_query(client, fleet, viewer, monkeypatch):
    monkeypatch.setattr("fleet.ui.asset_labels.MAX_LABELS", 2)
    sign_in(client, "vera")
    ids = ",".join(str(device.id) for device in fleet.values())
    response = client.get(f"/labels/sheet?ids={ids}")
    assert response.status_code == 422 and "7 Geräte passen" in text(response) and "<svg" not in text(response)
