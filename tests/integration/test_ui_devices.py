"""The device pages: the filtered, sorted, paged list with its exports, one device, changing and retiring it."""

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from inventory.models import AuditEvent, Carrier, Device
from inventory.users import create_user
from provisioning.models import Grant

from .test_ui_auth import PASSWORD, BrowserClient, csrf_token, post_form, sign_in, text


@pytest.fixture
def client(app, db):
    return BrowserClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def schools(make_school):
    return make_school(code="gs-linden", rooms=("A101", "A102")), make_school(code="os-nord", rooms=("B1",))


def shown_ids(html: str) -> list[int]:
    """The device ids of the list's rows, in the order shown."""
    return [int(n) for n in re.findall(r'<tr data-device="(\d+)">', html)]


def field_errors(html: str, field: str) -> str:
    match = re.search(rf'<ul class="field-errors" id="{field}-errors">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


def history_events(db, device_id: int) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "device", AuditEvent.object_id == device_id).order_by(AuditEvent.id)))


def reload(db, device_id: int) -> Device:
    db.session.expire_all()
    return db.session.get(Device, device_id)


def admin_signed_in(client):
    create_user("anna", PASSWORD, "admin")
    sign_in(client)


def test_sixty_devices_in_pages_of_25_the_second_page_shows_rows_26_to_50(client, schools, make_device):
    linden, _nord = schools
    made = [make_device(linden, serial=f"SN{n:03d}") for n in range(1, 61)]
    admin_signed_in(client)

    page = text(client.get("/devices?per_page=25&page=2&sort=serial"))

    assert shown_ids(page) == [device.id for device in made[25:50]]
    assert "26–50 von 60" in page and "Seite 2 von 3" in page
    assert 'rel="next"' in page and "page=3" in page
    assert shown_ids(text(client.get("/devices?per_page=25&page=9&sort=serial"))) == [d.id for d in made[50:]]


def test_filters_by_school_room_kind_status_and_grant_combine(client, schools, make_device):
    linden, nord = schools
    display = make_device(linden, kind="interactive_display", room="A101", serial="D1")
    make_device(linden, kind="interactive_display", room="A102", serial="D2")
    loaned = make_device(linden, kind="laptop", status="loaned", grant="DP-1", serial="L1")
    nord_display = make_device(nord, kind="interactive_display", room="B1", serial="D3")
    admin_signed_in(client)

    assert shown_ids(text(client.get("/devices?school=gs-linden&room=A101&kind=interactive_display"))) == [display.id]
    assert shown_ids(text(client.get("/devices?status=loaned"))) == [loaned.id]
    assert shown_ids(text(client.get("/devices?grant=DP-1"))) == [loaned.id]
    several = text(client.get("/devices?status=loaned&status=active&room=A101,B1&sort=serial"))
    assert shown_ids(several) == [display.id, nord_display.id]
    assert len(shown_ids(text(client.get("/devices?kind=interactive_display")))) == 3
    page = text(client.get("/devices?school=gs-linden"))
    assert len(shown_ids(page)) == 3
    assert '<option value="A101">A101 – Raum A101</option>' in page  # one school chosen: its rooms to pick from


def test_a_header_sorts_and_a_second_click_reverses(client, schools, make_device):
    linden, _nord = schools
    middle, last, first = (make_device(linden, serial=serial) for serial in ("SN-B", "SN-C", "SN-A"))
    admin_signed_in(client)

    page = text(client.get("/devices"))
    link = re.search(r'<th scope="col" aria-sort="none">\s*<a href="([^"]+)">Seriennummer</a>', page)
    ascending = text(client.get(link.group(1).replace("&amp;", "&")))
    assert shown_ids(ascending) == [first.id, middle.id, last.id]
    again = re.search(r'aria-sort="ascending">\s*<a href="([^"]+)">Seriennummer</a>', ascending)
    assert shown_ids(text(client.get(again.group(1).replace("&amp;", "&")))) == [last.id, middle.id, first.id]


def test_the_search_finds_a_device_by_serial_and_by_mac(client, schools, make_device):
    linden, _nord = schools
    wanted = make_device(linden, serial="XK-4711", interfaces=[{"mac": "aa:bb:cc:00:47:11", "kind": "wlan"}])
    make_device(linden, serial="OTHER-1", interfaces=[{"mac": "aa:bb:cc:00:00:01"}])
    admin_signed_in(client)

    assert shown_ids(text(client.get("/devices?q=xk-47"))) == [wanted.id]
    assert shown_ids(text(client.get("/devices?q=00:47:11"))) == [wanted.id]
    assert shown_ids(text(client.get("/devices?q=nothing-like-it"))) == []


def test_a_supporter_limited_to_one_school_sees_and_changes_only_its_devices(client, db, schools, make_device):
    linden, nord = schools
    own = make_device(linden, serial="OWN")
    other = make_device(nord, serial="OTHER", hostname="nord-pc")
    create_user("sam", PASSWORD, "support", schools=["gs-linden"])
    sign_in(client, "sam")

    assert shown_ids(text(client.get("/devices"))) == [own.id]
    assert shown_ids(text(client.get("/devices?school=os-nord"))) == [own.id]
    assert 'value="os-nord"' not in text(client.get("/devices"))
    assert client.get(f"/devices/{other.id}").status_code == 403
    assert client.get(f"/devices/{other.id}/edit").status_code == 403
    token = csrf_token(text(client.get(f"/devices/{own.id}/edit")))
    response = client.post(f"/devices/{other.id}/edit", data={"csrf_token": token, "hostname": "taken-over",
                                                               "status": "active", "room": ""})
    assert response.status_code == 403
    assert reload(db, other.id).hostname == "nord-pc"
    assert client.post(f"/devices/{other.id}/retire", data={"csrf_token": token, "reason": "x"}).status_code == 403
    assert reload(db, other.id).status == "active"
    assert client.get(f"/devices/{own.id}").status_code == 200
    exported = client.get("/devices/export.csv?school=os-nord").get_data().decode("utf-8-sig")
    assert [row["serial"] for row in csv.DictReader(io.StringIO(exported), delimiter=";")] == ["OWN"]
    assert client.get("/devices/999999").status_code == 404


def test_a_finance_user_may_read_a_device_but_not_change_it(client, schools, make_device):
    linden, _nord = schools
    device = make_device(linden)
    create_user("fiona", PASSWORD, "finance")
    sign_in(client, "fiona")

    page = text(client.get(f"/devices/{device.id}"))
    assert "Gerät bearbeiten" not in page
    assert client.get(f"/devices/{device.id}/edit").status_code == 403
    assert client.get(f"/devices/{device.id}/retire").status_code == 403


def test_the_csv_export_holds_exactly_the_filtered_devices(client, schools, make_device):
    linden, nord = schools
    laptops = {make_device(linden, kind="laptop", serial=f"LAP{n}").serial for n in range(3)}
    make_device(linden, kind="interactive_display", serial="DISP")
    make_device(nord, kind="laptop", serial="NORD-LAP")
    admin_signed_in(client)

    page = text(client.get("/devices?school=gs-linden&kind=laptop"))
    link = re.search(r'href="(/devices/export\.csv[^"]*)"', page).group(1).replace("&amp;", "&")
    response = client.get(link)

    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=";"))
    assert {row["serial"] for row in rows} == laptops
    assert {row["school"] for row in rows} == {"gs-linden"}
    xlsx = client.get(link.replace("export.csv", "export.xlsx"))
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"
    assert 'href="/labels?school=gs-linden&amp;kind=laptop"' in page


def test_editing_saves_records_the_user_and_shows_the_change_in_the_history(client, db, schools, make_device):
    linden, _nord = schools
    device = make_device(linden, hostname="old-name", serial="SN1")
    admin_signed_in(client)

    response = post_form(client, f"/devices/{device.id}/edit", f"/devices/{device.id}/edit", {
        "room": "A102", "status": "repair", "hostname": "new-name", "serial": "SN1", "asset_tag": "INV-9",
        "vendor": "", "model": "", "borrower": "", "warranty_end": "2029-03-31", "commissioned": "", "notes": ""})

    assert response.status_code == 302 and response.location.endswith(f"/devices/{device.id}")
    changed = reload(db, device.id)
    assert (changed.hostname, changed.room.code, changed.status, changed.asset_tag, changed.warranty_end) == (
        "new-name", "A102", "repair", "INV-9", date(2029, 3, 31))
    event = history_events(db, device.id)[-1]
    assert event.actor == "user:anna" and event.action == "update"
    assert event.changes["hostname"] == ["old-name", "new-name"]
    page = text(client.get(f"/devices/{device.id}"))
    assert "Das Gerät wurde gespeichert." in page
    history = re.sub(r"\s+", " ", page[page.index('id="history"'):])
    assert "user:anna" in history and '<span class="old">old-name</span> → <span class="new">new-name</span>' in history
    assert "Hostname" in history and "in Reparatur" in history  # the status in words, not its code


def test_a_duplicate_serial_is_shown_next_to_the_field_and_changes_nothing(client, db, schools, make_device):
    linden, _nord = schools
    make_device(linden, serial="TAKEN")
    device = make_device(linden, serial="MINE", hostname="mine")
    before = len(history_events(db, device.id))
    admin_signed_in(client)

    response = post_form(client, f"/devices/{device.id}/edit", f"/devices/{device.id}/edit", {
        "room": "", "status": "active", "hostname": "renamed", "serial": "TAKEN"})

    assert response.status_code == 422
    assert "Ein anderes Gerät, das nicht ausgemustert ist, hat bereits diese Seriennummer." in field_errors(
        text(response), "serial")
    assert (reload(db, device.id).serial, reload(db, device.id).hostname) == ("MINE", "mine")
    assert len(history_events(db, device.id)) == before


def test_a_bad_host_name_is_refused_in_german(client, db, schools, make_device):
    linden, _nord = schools
    device = make_device(linden, hostname="fine")
    admin_signed_in(client)

    response = post_form(client, f"/devices/{device.id}/edit", f"/devices/{device.id}/edit",
                         {"room": "", "status": "active", "hostname": "not a host!"})

    assert response.status_code == 422 and "höchstens 63 Zeichen" in field_errors(text(response), "hostname")
    assert reload(db, device.id).hostname == "fine"


@pytest.fixture
def funded(db, schools, make_device):
    """A laptop bought with a grant whose earmark runs until 2029-12-31."""
    linden, _nord = schools
    db.session.add(Carrier(name="Stadt Lindenau", state="BB", funding={}, budgets={}))
    db.session.add(Grant(ref="DP-RUNNING", programme="dp2019", decided=date(2019, 9, 1), amount=Decimal("1000.00"),
                         rate=Decimal("0.90"), project_end=date(2024, 12, 31), schools=[linden]))
    db.session.commit()
    return make_device(linden, grant="DP-RUNNING", purchase_date=date(2021, 3, 1), price_gross=Decimal("1190.00"))


def test_retiring_a_funded_device_needs_a_reason_and_then_works(client, db, funded):
    admin_signed_in(client)
    url = f"/devices/{funded.id}/retire"

    page = text(client.get(url))
    assert "31.12.2029" in page and "Rückforderung" in page
    refused = post_form(client, url, url, {"reason": ""})
    assert refused.status_code == 422
    assert "Zweckbindung" in field_errors(text(refused), "reason")
    assert reload(db, funded.id).status == "active"

    done = post_form(client, url, url, {"reason": "Wasserschaden"})
    assert done.status_code == 302
    assert reload(db, funded.id).status == "retired"
    event = history_events(db, funded.id)[-1]
    assert event.changes["retire_reason"] == [None, "Wasserschaden"] and event.actor == "user:anna"
    assert "Das Gerät wurde ausgemustert." in text(client.get(done.location))


def test_the_device_page_shows_funding_interfaces_and_the_earmark(client, funded, make_device, db):
    funded.last_seen_at, funded.last_seen_where = funded.created_at, "sw-a 1/0/7"
    db.session.commit()
    part = make_device(funded.school, kind="ops_pc", parent_id=funded.id, interfaces=[{"mac": "aa:bb:cc:dd:ee:01"}])
    admin_signed_in(client)

    page = text(client.get(f"/devices/{funded.id}"))
    assert "DP-RUNNING" in page and "1.190,00\xa0€" in page and "31.12.2029" in page and "sw-a 1/0/7" in page
    assert f'href="/devices/{part.id}"' in page
    assert "aa:bb:cc:dd:ee:01" in text(client.get(f"/devices/{part.id}"))


def test_the_pages_speak_german_and_english(client, schools, make_device):
    linden, _nord = schools
    device = make_device(linden)
    admin_signed_in(client)
    assert "<h1>Geräte</h1>" in text(client.get("/devices"))
    assert "nie" in text(client.get("/devices"))

    post_form(client, "/devices", "/language", {"language-locale": "en"}, "language-csrf_token")

    assert "<h1>Devices</h1>" in text(client.get("/devices"))
    assert "History" in text(client.get(f"/devices/{device.id}"))


def test_a_post_without_csrf_token_is_refused_and_changes_nothing(client, db, schools, make_device):
    linden, _nord = schools
    device = make_device(linden, hostname="kept")
    admin_signed_in(client)

    response = client.post(f"/devices/{device.id}/edit", data={"hostname": "changed", "status": "active", "room": ""})
    assert response.status_code == 400
    assert client.post(f"/devices/{device.id}/retire", data={"reason": "x"}).status_code == 400
    changed = reload(db, device.id)
    assert (changed.hostname, changed.status) == ("kept", "active")
