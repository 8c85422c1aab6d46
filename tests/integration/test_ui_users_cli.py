"""`fleet users`: create, list, set-password, disable and enable, with one line on stderr for a user error."""

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from inventory.models import User
from inventory.users import LoginFailed, authenticate

from ..helpers import fleet

PASSWORD = "richtig-geheim"


def user(db, username="anna") -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def test_create_asks_for_the_password_twice_without_echo(runner, db, make_school):
    make_school(code="gs-linden")
    result = runner.invoke(args=["users", "create", "anna", "--role", "support", "--school", "gs-linden",
                                 "--name", "Anna Beispiel", "--email", "anna@example.org"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert "Repeat the password" in result.stderr
    created = user(db)
    assert result.stdout == f"user {created.id} 'anna' (support, gs-linden) created\n"
    assert check_password_hash(created.password_hash, PASSWORD)
    assert (created.name, created.email, created.school_codes) == ("Anna Beispiel", "anna@example.org", ["gs-linden"])


def test_two_different_passwords_are_asked_again(runner, db):
    result = runner.invoke(args=["users", "create", "anna", "--role", "viewer"],
                           input=f"{PASSWORD}\nanderes-passwort\n{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.stderr
    assert check_password_hash(user(db).password_hash, PASSWORD)


def test_create_reads_the_password_from_stdin_for_scripts(runner, db):
    result = runner.invoke(args=["users", "create", "anna", "--role", "finance", "--password-stdin"],
                           input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Password" not in result.stderr
    assert authenticate("anna", PASSWORD, datetime.now(UTC)).role == "finance"


@pytest.mark.parametrize("args, password, message", [
    (["--role", "viewer"], "kurz", "error: the password needs at least 10 characters\n"),
    (["--role", "support", "--school", "gibtsnicht"], PASSWORD, "error: unknown school 'gibtsnicht'\n"),
    (["--role", "admin", "--school", "gs-linden"], PASSWORD, "error: an admin sees every school; give no school\n"),
])
def test_a_user_error_is_one_line_and_exit_1(runner, db, make_school, args, password, message):
    make_school(code="gs-linden")
    result = runner.invoke(args=["users", "create", "anna", *args, "--password-stdin"], input=f"{password}\n")
    assert result.exit_code == 1
    assert result.stderr == message
    assert "Traceback" not in result.output
    assert user(db) is None


def test_a_taken_username_is_refused(runner, db):
    runner.invoke(args=["users", "create", "anna", "--role", "viewer", "--password-stdin"], input=f"{PASSWORD}\n")
    result = runner.invoke(args=["users", "create", "anna", "--role", "viewer", "--password-stdin"],
                           input=f"{PASSWORD}\n")
    assert (result.exit_code, result.stderr) == (1, "error: a user named 'anna' already exists\n")


def test_the_agent_role_is_not_offered(runner, db):
    result = runner.invoke(args=["users", "create", "anna", "--role", "agent", "--password-stdin"],
                           input=f"{PASSWORD}\n")
    assert result.exit_code == 2 and "'agent' is not one of" in result.stderr


def test_list_shows_users_without_secrets(runner, db):
    runner.invoke(args=["users", "create", "anna", "--role", "viewer", "--password-stdin", "--name", "Anna"],
                  input=f"{PASSWORD}\n")
    listed = fleet(runner, "users", "list")
    assert "anna" in listed.stdout and "viewer" in listed.stdout and "active" in listed.stdout
    rows = json.loads(fleet(runner, "users", "list", "--json").stdout)
    assert [(row["username"], row["role"], row["active"]) for row in rows] == [("anna", "viewer", True)]
    assert "password" not in listed.stdout and "scrypt" not in listed.stdout and "hash" not in str(rows)


def test_set_password_replaces_it(runner, db):
    runner.invoke(args=["users", "create", "anna", "--role", "viewer", "--password-stdin"], input=f"{PASSWORD}\n")
    result = runner.invoke(args=["users", "set-password", "anna"], input="ein-neues-passwort\nein-neues-passwort\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == "password of 'anna' changed\n"
    assert check_password_hash(user(db).password_hash, "ein-neues-passwort")


def test_set_password_of_an_unknown_user_fails_before_asking(runner, db):
    result = runner.invoke(args=["users", "set-password", "bernd"], input="")
    assert (result.exit_code, result.stderr) == (1, "error: no user 'bernd'\n")


def test_disable_and_enable(runner, db):
    runner.invoke(args=["users", "create", "anna", "--role", "viewer", "--password-stdin"], input=f"{PASSWORD}\n")
    assert fleet(runner, "users", "disable", "anna").stdout == "user 'anna' is disabled\n"
    with pytest.raises(LoginFailed):
        authenticate("anna", PASSWORD, datetime.now(UTC))
    assert fleet(runner, "users", "enable", "anna").stdout == "user 'anna' is enabled\n"
    assert authenticate("anna", PASSWORD, datetime.now(UTC)).username == "anna"
    missing = fleet(runner, "users", "disable", "bernd")
    assert (missing.exit_code, missing.stderr) == (1, "error: no user 'bernd'\n")


def test_writes_from_the_command_line_name_the_cli_as_actor(runner, db):
    from inventory.models import AuditEvent

    runner.invoke(args=["users", "create", "anna", "--role", "viewer", "--password-stdin"], input=f"{PASSWORD}\n")
    actor = db.session.scalar(select(AuditEvent.actor).where(AuditEvent.object_type == "user"))
    assert actor.startswith("cli:")
