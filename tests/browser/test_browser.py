"""What a person does in the web UI, in a real browser: sign in, switch language, find a device, review a finding,
download the proof of use."""

import re

from openpyxl import load_workbook

from .conftest import sign_in


def test_signing_in_shows_the_overview_and_signing_out_ends_it(server, page):
    page.goto(server)
    assert page.url.startswith(f"{server}/login")

    sign_in(page, server)

    assert page.get_by_role("heading", level=1).inner_text() == "Übersicht"
    assert page.get_by_text("Grundschule Am Lindenhof").is_visible()
    page.get_by_role("button", name="Abmelden").click()
    page.goto(server)
    assert page.url.startswith(f"{server}/login")


def test_a_wrong_password_is_refused_in_german(server, page):
    page.goto(f"{server}/login")
    page.get_by_label("Benutzername").fill("admin")
    page.get_by_label("Passwort").fill("not the password")
    page.locator("main").get_by_role("button", name="Anmelden").click()

    assert page.get_by_text("Unbekannter Benutzername oder falsches Passwort.").is_visible()
    assert page.url.startswith(f"{server}/login")


def test_switching_to_english_changes_the_pages_and_is_kept(server, page):
    sign_in(page, server)

    page.get_by_label("Sprache").select_option("en")
    page.get_by_role("button", name="Sprache wechseln").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Overview"
    assert re.search(r"\bDevices\b", page.locator("main").inner_text())
    page.reload()
    assert page.get_by_role("heading", level=1).inner_text() == "Overview"
    assert page.locator("html").get_attribute("lang") == "en"
