"""Admin pages: users, API tokens and the schools.yaml sync, through the real forms with CSRF on; admins only."""

import re
import shutil

import pytest
from sqlalchemy import func, select

from inventory.models import ApiToken, AuditEvent, School, User
from inventory.schoolsfile import load_declaration
from inventory.schoolsync import sync_declaration
from inventory.users import create_user

from .test_ui_auth import (PASSWORD, BrowserClient, csrf_token, post_form, post_login, sign_in, text)
from ..conftest import ROOT

NEW_PASSWORD = "ganz-neues-geheimnis"


@pytest.fixture
def client(app, db):
    return BrowserClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def anna(db):
    return create_user("anna", PASSWORD, "admin", name="Anna Beispiel")


@pytest.fixture
def schools(db, make_school):
    return make_school(code="gs-linden"), make_school(code="os-nord")


def other_client(app):
    return BrowserClient(app, app.response_class, use_cookies=True)


def events(db, object_type, action):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == object_type,
                                                            AuditEvent.action == action)))


def user(db, username) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def create_bert(client, **fields):
    data = {"username": "bert", "name": "Bert Muster", "email": "bert@example.org", "role": "support",
            "schools": ["os-nord"], "password": PASSWORD, "password_again": PASSWORD, **fields}
    return post_form(client, "/admin/users/new", "/admin/users/new", data)


# --- users --------------------------------------------------------------------------------------------------------


def test_an_admin_creates_a_user_who_can_then_sign_in(app, client, anna, schools, db):
    sign_in(client)
    response = create_bert(client)
    assert response.status_code == 302
    bert = user(db, "bert")
    assert bert.role == "support" and bert.school_codes == ["os-nord"] and bert.email == "bert@example.org"
    assert events(db, "user", "create")[-1].actor == "user:anna"
    page = text(client.get(response.headers["Location"]))
    assert "Der Benutzer bert wurde angelegt" in page
    assert post_login(other_client(app), "bert", PASSWORD).status_code == 302


def test_mismatched_passwords_and_a_taken_name_are_shown_at_the_field(client, anna, schools, db):
    sign_in(client)
    response = create_bert(client, password_again="etwas-anderes-1")
    assert response.status_code == 422 and "Die beiden Passwörter stimmen nicht überein." in text(response)
    taken = create_bert(client, username="anna")
    assert taken.status_code == 422 and "Dieser Benutzername ist schon vergeben." in text(taken)
    admin_with_school = create_bert(client, role="admin")
    assert "Ein Administrator sieht alle Schulen" in text(admin_with_school)
    assert user(db, "bert") is None


def test_an_admin_changes_role_and_schools(app, client, anna, schools, db):
    bert = create_user("bert", PASSWORD, "viewer", ["gs-linden"])
    sign_in(client)
    url = f"/admin/users/{bert.id}"
    page = text(client.get(url))
    assert '<option selected value="gs-linden">' in page
    response = post_form(client, url, url, {"edit-role": "support", "edit-schools": ["os-nord"],
                                            "edit-name": "Bert", "edit-email": ""}, "edit-csrf_token")
    assert response.status_code == 302
    bert = user(db, "bert")
    assert bert.role == "support" and bert.school_codes == ["os-nord"] and bert.name == "Bert"
    (event,) = events(db, "user", "update")
    assert event.changes["role"] == ["viewer", "support"] and event.changes["schools"] == [["gs-linden"], ["os-nord"]]


def test_an_admin_cannot_demote_or_disable_themselves(client, anna, db):
    sign_in(client)
    url = f"/admin/users/{anna.id}"
    response = post_form(client, url, url, {"edit-role": "viewer"}, "edit-csrf_token")
    assert response.status_code == 422 and "nicht selbst entziehen" in text(response)
    page = text(client.get(url))
    assert "Sie können sich nicht selbst deaktivieren" in page and 'name="active-confirm"' not in page
    token = csrf_token(page, "edit-csrf_token")
    response = client.post(f"{url}/active", data={"active-csrf_token": token, "active-confirm": "y"})
    assert response.status_code == 422 and user(db, "anna").active and user(db, "anna").role == "admin"


def test_a_new_password_replaces_the_old_one(app, client, anna, db):
    bert = create_user("bert", PASSWORD, "viewer")
    sign_in(client)
    url = f"/admin/users/{bert.id}"
    response = post_form(client, url, f"{url}/password", {"password-password": NEW_PASSWORD,
                                                          "password-password_again": NEW_PASSWORD},
                         "password-csrf_token")
    assert response.status_code == 302
    assert post_login(other_client(app), "bert", PASSWORD).status_code == 401
    assert post_login(other_client(app), "bert", NEW_PASSWORD).status_code == 302
    assert events(db, "user", "set_password")


def test_disabling_needs_the_tick_and_stops_sign_in(app, client, anna, db):
    bert = create_user("bert", PASSWORD, "viewer")
    sign_in(client)
    url = f"/admin/users/{bert.id}"
    unconfirmed = post_form(client, url, f"{url}/active", {}, "active-csrf_token")
    assert unconfirmed.status_code == 422 and user(db, "bert").active
    response = post_form(client, url, f"{url}/active", {"active-confirm": "y"}, "active-csrf_token")
    assert response.status_code == 302 and not user(db, "bert").active
    assert "deaktiviert" in text(client.get(url))
    assert post_login(other_client(app), "bert", PASSWORD).status_code == 401
    assert post_form(client, url, f"{url}/active", {}, "active-csrf_token").status_code == 302
    assert user(db, "bert").active and post_login(other_client(app), "bert", PASSWORD).status_code == 302


# --- tokens -------------------------------------------------------------------------------------------------------


def create_token_form(client, **fields):
    return post_form(client, "/admin/tokens", "/admin/tokens", {"name": "import", "role": "viewer", **fields})


def test_a_new_token_is_shown_once_and_works(client, anna, schools, db):
    sign_in(client)
    response = create_token_form(client)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    plain = re.search(r'value="(sft_[^"]+)"', text(response)).group(1)
    assert "nur auf dieser Seite angezeigt" in text(response)
    listing = text(client.get("/admin/tokens"))
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == "import"))
    assert plain not in listing and f"<code>{token.prefix}…</code>" in listing
    assert plain.startswith(token.prefix)
    answer = client.get("/api/v1/schools", headers={"Authorization": f"Bearer {plain}"})
    assert answer.status_code == 200 and "gs-linden" in text(answer)


def test_an_agent_token_without_one_school_is_refused_in_words(client, anna, schools, db):
    sign_in(client)
    response = create_token_form(client, role="agent")
    assert response.status_code == 422 and "Ein Agenten-Token braucht genau eine Schule." in text(response)
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_revoking_asks_first_and_then_the_token_is_refused(client, anna, schools, db, token_for):
    headers = token_for("viewer")
    token = db.session.scalar(select(ApiToken))
    assert client.get("/api/v1/schools", headers=headers).status_code == 200
    sign_in(client)
    url = f"/admin/tokens/{token.id}/revoke"
    assert "Token widerrufen" in text(client.get(url))
    assert post_form(client, url, url, {}).status_code == 422
    assert client.get("/api/v1/schools", headers=headers).status_code == 200
    assert post_form(client, url, url, {"confirm": "y"}).status_code == 302
    assert client.get("/api/v1/schools", headers=headers).status_code == 401
    assert events(db, "api_token", "revoke")
    assert "widerrufen" in text(client.get("/admin/tokens"))


# --- schools.yaml -------------------------------------------------------------------------------------------------


SECRETS = {"FLEET_SNMP_COMMUNITY": "geheim-community-1", "FLEET_SNMP_V3_AUTH": "geheim-auth-2",
           "FLEET_SNMP_V3_PRIV": "geheim-priv-3", "FLEET_SNMP_NEW": "geheim-neu-4"}


@pytest.fixture
def schools_file(app, tmp_path, db, monkeypatch):
    """The shipped schools.yaml, synced, as a copy the test may change; app config SCHOOLS points at it."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "schools.yaml"
    shutil.copy(ROOT / "schools.yaml", path)
    sync_declaration(load_declaration(path))
    before = app.config["SCHOOLS"]
    app.config["SCHOOLS"] = str(path)
    yield path
    app.config["SCHOOLS"] = before


def first_school_name(path) -> tuple[str, str]:
    match = re.search(r"^\s*-?\s*name:\s*(.+)$", path.read_text(encoding="utf-8").split("schools:", 1)[1], re.M)
    return match.group(1).strip().strip("\"'"), match.group(0)


def test_the_preview_lists_changes_and_apply_makes_them(client, anna, schools_file, db):
    name, line = first_school_name(schools_file)
    schools_file.write_text(schools_file.read_text(encoding="utf-8").replace(line, line.replace(name, "Neuer Name")),
                            encoding="utf-8")
    sign_in(client)
    page = text(client.get("/admin/schools-sync"))
    assert str(schools_file) in page and 'id="sync-changes"' in page and "Neuer Name" in page
    assert db.session.scalar(select(func.count()).where(School.name == "Neuer Name")) == 0
    assert post_form(client, "/admin/schools-sync", "/admin/schools-sync", {}).status_code == 422
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(School.name == "Neuer Name")) == 0
    response = post_form(client, "/admin/schools-sync", "/admin/schools-sync", {"confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(School.name == "Neuer Name")) == 1
    after = text(client.get("/admin/schools-sync"))
    assert "schools.yaml wurde übernommen: 1 Änderung." in after and 'id="sync-none"' in after


def test_an_invalid_file_shows_its_errors_with_lines(client, anna, schools_file, db):
    schools_file.write_text("carrier:\n  name: Stadt\nschools: [\n", encoding="utf-8")
    sign_in(client)
    page = text(client.get("/admin/schools-sync"))
    assert 'id="sync-errors"' in page and f"{schools_file}:" in page and "Traceback" not in page
    assert "sync-changes" not in page


def test_a_missing_file_is_named(app, client, anna, tmp_path, db):
    app.config["SCHOOLS"], before = str(tmp_path / "fehlt.yaml"), app.config["SCHOOLS"]
    try:
        sign_in(client)
        page = text(client.get("/admin/schools-sync"))
    finally:
        app.config["SCHOOLS"] = before
    assert "Die Datei existiert nicht." in page and "fehlt.yaml" in page


def test_secrets_in_the_file_are_never_resolved_on_the_page(client, anna, schools_file, db):
    content = schools_file.read_text(encoding="utf-8")
    schools_file.write_text(content.replace("${FLEET_SNMP_COMMUNITY}", "${FLEET_SNMP_NEW}", 1), encoding="utf-8")
    sign_in(client)
    page = text(client.get("/admin/schools-sync"))
    assert 'id="sync-changes"' in page and "FLEET_SNMP_NEW" in page
    assert not [value for value in SECRETS.values() if value in page]


# --- who may ------------------------------------------------------------------------------------------------------


ADMIN_PAGES = ["/admin", "/admin/users/new", "/admin/users/{anna}", "/admin/tokens", "/admin/tokens/{token}/revoke",
               "/admin/schools-sync"]
ADMIN_POSTS = ["/admin/users/new", "/admin/users/{anna}", "/admin/users/{anna}/password", "/admin/users/{anna}/active",
               "/admin/tokens", "/admin/tokens/{token}/revoke", "/admin/schools-sync"]


@pytest.mark.parametrize("role", ["support", "finance", "viewer"])
def test_other_roles_get_403_everywhere_and_nothing_changes(client, anna, db, role, token_for):
    token_for("viewer")
    token = db.session.scalar(select(ApiToken))
    create_user("bert", PASSWORD, role)
    sign_in(client, "bert")
    csrf = csrf_token(text(client.get("/")), "logout-csrf_token")
    ids = {"anna": anna.id, "token": token.id}
    for url in ADMIN_PAGES:
        assert client.get(url.format(**ids)).status_code == 403, url
    count = db.session.scalar(select(func.count()).select_from(AuditEvent))
    for url in ADMIN_POSTS:
        response = client.post(url.format(**ids), data={"csrf_token": csrf, "confirm": "y", "active-confirm": "y",
                                                        "username": "evil", "role": "admin", "password": PASSWORD,
                                                        "password_again": PASSWORD})
        assert response.status_code in (400, 403), url
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == count
    assert user(db, "evil") is None and user(db, "anna").active and token.revoked_at is None
    assert "/admin" not in text(client.get("/"))


def test_a_post_without_csrf_token_is_refused(client, anna, db):
    bert = create_user("bert", PASSWORD, "viewer")
    sign_in(client)
    response = client.post(f"/admin/users/{bert.id}/active", data={"active-confirm": "y"})
    assert response.status_code == 400 and user(db, "bert").active
    response = client.post("/admin/tokens", data={"role": "admin", "name": "x"})
    assert response.status_code == 400 and db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_the_admin_pages_speak_german_and_english(client, anna, db):
    sign_in(client)
    assert "<h1>API-Tokens</h1>" in text(client.get("/admin/tokens"))
    assert "Neuer Benutzer" in text(client.get("/admin"))
    post_form(client, "/", "/language", {"language-locale": "en", "language-next": "/"}, "language-csrf_token")
    assert "<h1>API tokens</h1>" in text(client.get("/admin/tokens"))
    assert "New user" in text(client.get("/admin"))
