"""What a person does in the web UI, in a real browser: sign in, switch language, find a device, review a finding,
download the proof of use."""

import re

from openpyxl import load_workbook

from .conftest import sign_in


def test_signing_in_shows_the_overview_and_signing_out_ends_it(server, page):
    page.goto(server.base)
    assert page.url.startswith(f"{server.base}/login")

    sign_in(page, server.base)

    assert page.get_by_role("heading", level=1).inner_text() == "Übersicht"
    assert page.get_by_text("Grundschule Am Lindenhof").is_visible()
    page.get_by_role("button", name="Abmelden").click()
    page.goto(server.base)
    assert page.url.startswith(f"{server.base}/login")


def test_a_wrong_password_is_refused_in_german(server, page):
    page.goto(f"{server.base}/login")
    page.get_by_label("Benutzername").fill("admin")
    page.get_by_label("Passwort").fill("not the password")
    page.locator("main").get_by_role("button", name="Anmelden").click()

    assert page.get_by_text("Unbekannter Benutzername oder falsches Passwort.").is_visible()
    assert page.url.startswith(f"{server.base}/login")


def test_switching_to_english_changes_the_pages_and_is_kept(server, page):
    sign_in(page, server.base, "leser")  # the choice is kept for the user: others stay in German

    page.get_by_label("Sprache").select_option("en")
    page.get_by_role("button", name="Sprache wechseln").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Overview"
    assert re.search(r"\bDevices\b", page.locator("main").inner_text())
    page.reload()
    assert page.get_by_role("heading", level=1).inner_text() == "Overview"
    assert page.locator("html").get_attribute("lang") == "en"


def test_a_supporter_finds_a_device_by_its_serial_and_opens_it(server, page):
    sign_in(page, server.base)

    page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Geräte").click()
    page.get_by_label("Suche", exact=False).fill(server.display.serial)
    page.get_by_role("button", name="Anzeigen").click()

    rows = page.locator("#devices tbody tr")
    assert rows.count() == 1
    rows.first.get_by_role("link").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith(server.display.hostname)
    assert page.url == f"{server.base}/devices/{server.display.id}"
    assert server.display.serial in page.locator("main").inner_text()


def test_finance_downloads_the_proof_of_use_workbook_and_it_opens(server, page, tmp_path):
    sign_in(page, server.base)
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Förderung").click()

    with page.expect_download() as download:
        page.get_by_role("link", name="Arbeitsmappe (XLSX), alle Bescheide").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)

    assert path.name == "foerderbericht-alle.xlsx"
    book = load_workbook(path)
    assert book.sheetnames == ["Übersicht", "Belegliste", "Geräteliste", "Regelprüfung"]
    assert book["Geräteliste"].max_row > 500


def test_a_supporter_accepts_a_new_host_into_a_room_and_finds_it_among_the_devices(server, page):
    finding = server.finding
    sign_in(page, server.base)
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Befunde").click()

    page.get_by_role("link", name=finding.detail).click()
    assert page.url == f"{server.base}/discovery/findings/{finding.id}"
    page.get_by_label("Raum").select_option(finding.room)
    page.get_by_role("button", name="Übernehmen").click()

    assert page.locator(".flash").first.inner_text()
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Geräte").click()
    page.get_by_label("Suche", exact=False).fill(finding.mac)
    page.get_by_role("button", name="Anzeigen").click()
    rows = page.locator("#devices tbody tr")
    assert rows.count() == 1
    assert f"/ {finding.room}" in rows.first.inner_text()
