"""Web UI users: creation rules, hashed passwords, the lockout after repeated failures, and the audit trail."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from inventory.errors import Conflict, InvalidInput, NotFound, UnknownSchool
from inventory.models import AuditEvent, User
from inventory.users import (LOCKOUT, MAX_FAILED_LOGINS, AccountLocked, LoginFailed, authenticate, create_user,
                             list_users, set_active, set_locale, set_password)

PASSWORD = "richtig-geheim"
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def events(db, action=None):
    query = select(AuditEvent).where(AuditEvent.object_type == "user").order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def fail(times, start=T0, username="anna"):
    """times wrong passwords, a second apart; the one that locks the account says so."""
    for n in range(times):
        with pytest.raises((LoginFailed, AccountLocked)) as failed:
            authenticate(username, "falsches-passwort", start + timedelta(seconds=n))
    return failed.value


# --- create -------------------------------------------------------------------------------------------------------


def test_a_new_user_has_a_hashed_password_and_their_schools(db, make_school):
    make_school(code="gs-linden")
    user = create_user("anna", PASSWORD, "support", ["gs-linden"], name="Anna Beispiel", email="anna@example.org")
    assert user.school_codes == ["gs-linden"]
    assert user.active and user.failed_logins == 0 and user.locked_until is None
    assert user.password_hash != PASSWORD and user.password_hash.startswith(("scrypt:", "pbkdf2:"))
    assert [u.username for u in list_users()] == ["anna"]


def test_the_audit_of_a_new_user_holds_neither_password_nor_hash(db):
    user = create_user("anna", PASSWORD, "viewer")
    (event,) = events(db, "create")
    assert event.object_id == user.id and event.changes["role"] == [None, "viewer"]
    assert PASSWORD not in str(event.changes) and user.password_hash not in str(event.changes)


def test_a_password_shorter_than_ten_characters_is_refused(db):
    with pytest.raises(InvalidInput, match="at least 10 characters"):
        create_user("anna", "123456789", "viewer")
    create_user("anna", "1234567890", "viewer")


@pytest.mark.parametrize("role", ["agent", "root", ""])
def test_only_the_roles_of_the_web_ui_may_be_given(db, role):
    with pytest.raises(InvalidInput, match="unknown role"):
        create_user("anna", PASSWORD, role)


def test_an_unknown_school_is_refused(db):
    with pytest.raises(UnknownSchool):
        create_user("anna", PASSWORD, "support", ["gibtsnicht"])
    assert db.session.scalar(select(User)) is None


def test_a_username_is_taken_once(db):
    create_user("anna", PASSWORD, "viewer")
    with pytest.raises(Conflict, match="already exists"):
        create_user("anna", PASSWORD, "finance")


def test_an_admin_is_not_limited_to_schools(db, make_school):
    make_school(code="gs-linden")
    with pytest.raises(InvalidInput, match="every school"):
        create_user("anna", PASSWORD, "admin", ["gs-linden"])


# --- authenticate and the lockout ----------------------------------------------------------------------------------


def test_the_right_password_signs_in_and_notes_when(db):
    create_user("anna", PASSWORD, "viewer")
    user = authenticate("anna", PASSWORD, T0)
    assert user.username == "anna" and user.last_login_at == T0
    assert events(db, "login")[0].changes == {"last_login_at": [None, T0.isoformat()]}


def test_an_unknown_user_and_a_wrong_password_fail_alike(db):
    create_user("anna", PASSWORD, "viewer")
    with pytest.raises(LoginFailed) as unknown:
        authenticate("bernd", PASSWORD, T0)
    with pytest.raises(LoginFailed) as wrong:
        authenticate("anna", "falsches-passwort", T0)
    assert unknown.value.message == wrong.value.message


def test_four_failures_leave_the_account_open(db):
    create_user("anna", PASSWORD, "viewer")
    assert isinstance(fail(MAX_FAILED_LOGINS - 1), LoginFailed)
    assert authenticate("anna", PASSWORD, T0 + timedelta(minutes=1)).failed_logins == 0


def test_the_fifth_failure_locks_for_fifteen_minutes(db):
    create_user("anna", PASSWORD, "viewer")
    fifth = fail(MAX_FAILED_LOGINS)
    user = db.session.scalar(select(User))
    assert isinstance(fifth, AccountLocked) and fifth.until == user.locked_until
    assert user.failed_logins == 5
    assert user.locked_until == T0 + timedelta(seconds=4) + LOCKOUT == T0 + timedelta(minutes=15, seconds=4)
    assert events(db, "login_failed")[-1].changes["locked_until"][1] == user.locked_until.isoformat()


def test_a_locked_account_refuses_even_the_right_password(db):
    create_user("anna", PASSWORD, "viewer")
    fail(MAX_FAILED_LOGINS)
    until = db.session.scalar(select(User.locked_until))
    with pytest.raises(AccountLocked) as locked:
        authenticate("anna", PASSWORD, until - timedelta(seconds=1))
    assert locked.value.until == until


def test_attempts_while_locked_do_not_extend_the_lock(db):
    create_user("anna", PASSWORD, "viewer")
    fail(MAX_FAILED_LOGINS)
    until = db.session.scalar(select(User.locked_until))
    for minute in range(1, 15):
        with pytest.raises(AccountLocked):
            authenticate("anna", "falsches-passwort", T0 + timedelta(minutes=minute))
    user = db.session.scalar(select(User))
    assert user.locked_until == until and user.failed_logins == MAX_FAILED_LOGINS


def test_the_right_password_works_again_when_the_lock_has_run_out(db):
    create_user("anna", PASSWORD, "viewer")
    fail(MAX_FAILED_LOGINS)
    until = db.session.scalar(select(User.locked_until))
    user = authenticate("anna", PASSWORD, until)
    assert user.failed_logins == 0 and user.locked_until is None and user.last_login_at == until


def test_after_the_lock_the_count_starts_again(db):
    create_user("anna", PASSWORD, "viewer")
    fail(MAX_FAILED_LOGINS)
    after = db.session.scalar(select(User.locked_until)) + timedelta(seconds=1)
    fail(1, start=after)
    user = db.session.scalar(select(User))
    assert user.failed_logins == 1 and user.locked_until is None
    fail(MAX_FAILED_LOGINS - 1, start=after + timedelta(minutes=1))
    assert db.session.scalar(select(User.locked_until)) is not None


def test_a_success_resets_the_count(db):
    create_user("anna", PASSWORD, "viewer")
    fail(MAX_FAILED_LOGINS - 1)
    authenticate("anna", PASSWORD, T0 + timedelta(minutes=1))
    fail(MAX_FAILED_LOGINS - 1, start=T0 + timedelta(minutes=2))
    assert db.session.scalar(select(User.locked_until)) is None


def test_a_disabled_user_cannot_sign_in(db):
    create_user("anna", PASSWORD, "viewer")
    set_active("anna", False)
    with pytest.raises(LoginFailed):
        authenticate("anna", PASSWORD, T0)
    set_active("anna", True)
    assert authenticate("anna", PASSWORD, T0).username == "anna"
    assert [event.changes for event in events(db) if event.action in ("disable", "enable")] == [
        {"active": [True, False]}, {"active": [False, True]}]


# --- set_password, set_active, set_locale --------------------------------------------------------------------------


def test_a_new_password_replaces_the_old_and_lifts_the_lock(db):
    create_user("anna", PASSWORD, "viewer")
    fail(MAX_FAILED_LOGINS)
    set_password("anna", "ein-neues-passwort")
    with pytest.raises(LoginFailed):
        authenticate("anna", PASSWORD, T0 + timedelta(minutes=1))
    assert authenticate("anna", "ein-neues-passwort", T0 + timedelta(minutes=2)).username == "anna"
    (event,) = events(db, "set_password")
    assert "ein-neues-passwort" not in str(event.changes) and event.changes["locked_until"][1] is None


def test_set_password_checks_the_length_and_the_user(db):
    create_user("anna", PASSWORD, "viewer")
    with pytest.raises(InvalidInput):
        set_password("anna", "kurz")
    with pytest.raises(NotFound, match="no user 'bernd'"):
        set_password("bernd", "lang-genug-123")


def test_setting_the_state_a_user_has_leaves_no_event(db):
    create_user("anna", PASSWORD, "viewer")
    set_active("anna", True)
    assert not events(db, "enable")


def test_the_language_is_remembered_and_checked(db):
    user = create_user("anna", PASSWORD, "viewer")
    set_locale(user, "en")
    assert db.session.scalar(select(User.locale)) == "en"
    with pytest.raises(InvalidInput):
        set_locale(user, "fr")


def test_passwords_are_hashed_with_scrypt_unless_another_method_is_configured(app):
    from inventory.users import _hash

    assert _hash("ein-langes-passwort").startswith("scrypt:")  # no app: the default
    with app.app_context():
        assert app.config["PASSWORD_HASH_METHOD"] == "pbkdf2:sha256:1000"
        assert _hash("ein-langes-passwort").startswith("pbkdf2:sha256:1000$")
