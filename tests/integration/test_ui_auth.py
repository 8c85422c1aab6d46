"""Signing in to the web UI through the real form, with CSRF on: failures, the lockout, next=, sign-out, languages."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask import g, render_template_string
from flask.testing import FlaskClient
from flask_login import login_user
from flask_babel import format_date, format_time
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from fleet.auth import Caller, Forbidden, require
from fleet.ui.access import SignedIn, may, ui_require

from inventory.models import User
from inventory.users import MAX_FAILED_LOGINS, create_user, set_active, set_password

PASSWORD = "richtig-geheim"
WRONG = "Unbekannter Benutzername oder falsches Passwort."


def csrf_token(html: str, name: str = "csrf_token") -> str:
    """The CSRF token of the form field called name on a page."""
    match = re.search(rf'name="{re.escape(name)}" type="hidden" value="([^"]+)"', html)
    assert match, f"no {name} on the page"
    return match.group(1)


def text(response) -> str:
    return response.get_data(as_text=True)


def post_login(client, username, password, next_=None):
    """Fill in and send the sign-in form as a browser does."""
    page = client.get("/login" + (f"?next={next_}" if next_ else ""))
    data = {"csrf_token": csrf_token(text(page)), "username": username, "password": password}
    if next_ is not None:
        data["next"] = next_
    return client.post("/login", data=data)


def sign_in(client, username="anna", password=PASSWORD):
    response = post_login(client, username, password)
    assert response.status_code == 302, text(response)
    return response


def post_form(client, page_url, action, fields, token_name="csrf_token"):
    """Send a form found on page_url with its CSRF token."""
    token = csrf_token(text(client.get(page_url)), token_name)
    return client.post(action, data={token_name: token, **fields})


def alert(response) -> str:
    match = re.search(r'role="alert"[^>]*>([^<]*)<', text(response))
    return match.group(1).strip() if match else ""


class BrowserClient(FlaskClient):
    """Each request in an app context of its own, as in production: the db fixture keeps one open for the test,
    and Flask would otherwise share it (and its g: the CSRF token, the signed-in user) between requests."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app, db):
    return BrowserClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def anna(db):
    return create_user("anna", PASSWORD, "admin", name="Anna Beispiel")


def test_the_app_under_test_checks_csrf(app):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True


def test_the_sign_in_page_is_german_with_labelled_fields(client):
    html = text(client.get("/login"))
    assert '<html lang="de">' in html
    assert '<label for="username">Benutzername</label>' in html and 'id="username"' in html
    assert '<label for="password">Passwort</label>' in html and 'type="password"' in html
    assert '<main id="main"' in html and 'href="#main"' in html


def test_signing_in_leads_to_the_overview(client, anna):
    response = sign_in(client)
    assert response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200 and "<h1>Übersicht</h1>" in text(page)
    assert "Anna Beispiel" in text(page)


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(client, anna):
    wrong = post_login(client, "anna", "falsches-passwort")
    unknown = post_login(client, "bernd", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert alert(wrong) == alert(unknown) == WRONG
    assert client.get("/").status_code == 302


def test_empty_fields_are_named_next_to_the_field(client, anna):
    response = post_login(client, "", "")
    assert response.status_code == 200
    assert 'aria-invalid="true"' in text(response) and "Bitte den Benutzernamen eingeben." in text(response)


def test_a_form_without_its_csrf_token_is_refused(client, anna):
    response = client.post("/login", data={"username": "anna", "password": PASSWORD})
    assert response.status_code == 400
    assert "Ungültige Anfrage" in text(response)
    assert client.get("/").status_code == 302


def test_a_forged_csrf_token_is_refused(client, anna):
    response = client.post("/login", data={"csrf_token": "forged", "username": "anna", "password": PASSWORD})
    assert response.status_code == 400


def test_the_fifth_failure_locks_the_form_and_says_until_when(app, client, anna, db):
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert alert(post_login(client, "anna", "falsches-passwort")) == WRONG
    fifth = post_login(client, "anna", "falsches-passwort")
    db.session.expire_all()
    until = db.session.scalar(select(User.locked_until))
    assert until is not None
    with app.test_request_context():
        shown = f"{format_date(until, 'medium')} {format_time(until, 'short')}"  # German, Berlin time
    assert alert(fifth) == f"Zu viele fehlgeschlagene Anmeldungen: Dieses Konto ist bis {shown} gesperrt."
    right = post_login(client, "anna", PASSWORD)
    assert right.status_code == 401 and "gesperrt" in alert(right)
    assert client.get("/").status_code == 302


def test_the_lock_runs_out(client, anna, db):
    for _ in range(MAX_FAILED_LOGINS):
        post_login(client, "anna", "falsches-passwort")
    user = db.session.scalar(select(User))
    user.locked_until = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    assert post_login(client, "anna", PASSWORD).status_code == 302


def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(client, anna):
    response = client.get("/admin?tab=users")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/admin?tab%3Dusers"
    back = post_login(client, "anna", PASSWORD, next_="/admin?tab=users")
    assert back.headers["Location"] == "/admin?tab=users"


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "http:/evil.example", "javascript:alert(1)",
    "evil.example", "/%0d%0aSet-Cookie:x", " //evil.example",
])
def test_next_only_leads_to_a_page_of_this_site(client, anna, target):
    response = post_login(client, "anna", PASSWORD, next_=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location in ("/", target) and not location.startswith(("//", "/\\", "http", "javascript"))
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        assert location == "/"


def test_sign_out_is_a_post_with_a_token(client, anna):
    sign_in(client)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    response = post_form(client, "/", "/logout", {}, "logout-csrf_token")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_the_language_switch_turns_the_page_english_and_is_remembered(client, anna, db, app):
    sign_in(client)
    assert "<h1>Übersicht</h1>" in text(client.get("/"))
    response = post_form(client, "/", "/language", {"language-locale": "en", "language-next": "/"},
                         "language-csrf_token")
    assert response.headers["Location"] == "/"
    page = text(client.get("/"))
    assert "<h1>Overview</h1>" in page and '<html lang="en">' in page and "Übersicht" not in page
    db.session.expire_all()
    assert db.session.scalar(select(User.locale)) == "en"
    other = BrowserClient(app, app.response_class, use_cookies=True)
    sign_in(other)
    assert "<h1>Overview</h1>" in text(other.get("/"))


def test_the_language_can_be_switched_before_signing_in(client):
    response = post_form(client, "/login", "/language", {"language-locale": "en", "language-next": "/login"},
                         "language-csrf_token")
    assert response.headers["Location"] == "/login"
    assert '<label for="username">Username</label>' in text(client.get("/login"))


def test_an_unknown_language_changes_nothing(client):
    post_form(client, "/login", "/language", {"language-locale": "fr"}, "language-csrf_token")
    assert "Benutzername" in text(client.get("/login"))


def test_accept_language_does_not_override_the_german_default(client):
    assert "Benutzername" in text(client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}))


@pytest.mark.parametrize("role", ["viewer", "support", "finance"])
def test_only_an_admin_reaches_admin(client, db, role):
    create_user("carla", PASSWORD, role)
    sign_in(client, "carla")
    response = client.get("/admin")
    assert response.status_code == 403
    assert "Zugriff verweigert" in text(response) and "erlaubt diese Seite nicht" in text(response)
    assert 'href="/admin"' not in text(client.get("/"))


def test_the_forbidden_page_speaks_the_chosen_language(client, db):
    create_user("carla", PASSWORD, "viewer")
    sign_in(client, "carla")
    post_form(client, "/", "/language", {"language-locale": "en"}, "language-csrf_token")
    response = client.get("/admin")
    assert response.status_code == 403 and "Access denied" in text(response)


def test_an_admin_sees_the_users_with_their_last_sign_in(client, anna, db):
    create_user("carla", PASSWORD, "viewer")
    sign_in(client)
    page = text(client.get("/admin"))
    row = re.search(r'<tr data-user="anna">(.*?)</tr>', page, re.S).group(1)
    assert "Administration" in row and "aktiv" in row
    assert re.search(r"<time datetime=[^>]+>\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}</time>", row)
    assert "nie" in re.search(r'<tr data-user="carla">(.*?)</tr>', page, re.S).group(1)


def test_a_disabled_user_is_signed_out_with_the_next_request(client, anna, db):
    create_user("carla", PASSWORD, "viewer")
    sign_in(client, "carla")
    assert client.get("/").status_code == 200
    set_active("carla", False)
    assert client.get("/").status_code == 302


def test_a_new_password_ends_the_sessions_of_the_old_one(client, anna):
    sign_in(client)
    set_password("anna", "ein-neues-passwort")
    assert client.get("/").status_code == 302


def test_the_api_takes_json_without_a_csrf_token(client, admin, make_school):
    make_school(code="gs-linden")
    response = client.post("/api/v1/devices", headers=admin, json={"school": "gs-linden", "kind": "laptop"})
    assert response.status_code == 201


def test_the_service_description_moved_to_the_api_root(client):
    assert client.get("/api/v1/").json == {"service": "Schulflotte", "api": "/api/v1",
                                          "openapi": "/api/v1/openapi.json", "ui": "/"}


@pytest.mark.parametrize("locale, amount, day, moment", [
    ("de", "1.234,50\xa0€", "24.11.2026", "24.11.2026 20:05"),
    ("en", "€1,234.50", "Nov 24, 2026", "Nov 24, 2026 8:05\u202fPM"),
])
def test_euro_amounts_and_dates_follow_the_locale(app, locale, amount, day, moment):
    with app.test_request_context():
        from flask import session
        session["locale"] = locale
        rendered = render_template_string("{{ a|euro }}|{{ d|day }}|{{ t|moment }}", a=Decimal("1234.50"),
                                          d=datetime(2026, 11, 24).date(),
                                          t=datetime(2026, 11, 24, 19, 5, tzinfo=UTC))  # 20:05 in Berlin
    assert rendered == f"{amount}|{day}|{moment}"


# --- the role checks mirror the API's ------------------------------------------------------------------------------


def as_user(role, schools=()):
    return SignedIn(1, "carla", None, role, None, tuple(schools), "1.x")


@pytest.mark.parametrize("role", ["admin", "support", "finance", "viewer"])
@pytest.mark.parametrize("action", ["read", "write", "admin", "funding", "observe"])
@pytest.mark.parametrize("school", [None, "gs-linden", "os-nord"])
def test_ui_require_allows_what_the_api_allows_the_same_role(app, role, action, school):
    schools = ("gs-linden",) if role != "admin" else ()
    with app.test_request_context():
        g.token = Caller(1, "t", role, schools)
        try:
            require(action, school)
            api_allows = True
        except Forbidden:
            api_allows = False
        login_user(as_user(role, schools))
        try:
            ui_require(action, school)
            ui_allows = True
        except HTTPException as error:
            assert error.code == 403
            ui_allows = False
        assert ui_allows == api_allows == may(action, school)


def test_the_forbidden_reason_names_the_schools_in_the_users_language(app):
    with app.test_request_context():
        login_user(as_user("support", ("gs-linden",)))
        with pytest.raises(HTTPException) as refused:
            ui_require("write", "os-nord")
    assert refused.value.code == 403
    assert refused.value.description == "Sie sind auf die Schulen gs-linden beschränkt."


def test_every_api_write_is_left_to_its_bearer_token(app, client):
    writes = [(re.sub(r"<(?:int:)?\w+>", "1", rule.rule), method) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/") for method in rule.methods & {"POST", "PUT", "PATCH", "DELETE"}]
    assert len(writes) > 5
    for url, method in writes:
        # without a token the API answers 401; a CSRF check in its way would have answered 400 first
        assert client.open(url, method=method, json={}).status_code == 401, (method, url)
