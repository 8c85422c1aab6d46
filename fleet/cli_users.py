"""`fleet users`: the people who sign in to the web UI."""

import json
import sys

import click
from flask.cli import with_appcontext

from inventory.errors import InvalidInput

from .cli import user_errors

UI_ROLES = ("admin", "support", "finance", "viewer")


@click.group("users")
def users_group():
    """Web UI users."""


def _read_password(from_stdin: bool) -> str:
    """The new password: the first line of standard input, or typed twice without echo."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InvalidInput("--password-stdin: standard input held no password")
        return password
    return click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password", err=True)


@users_group.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(UI_ROLES))
@click.option("--school", "schools", multiple=True, metavar="CODE",
              help="Limit the user to this school (repeatable; not for admins).")
@click.option("--name", help="Full name, shown in the web UI.")
@click.option("--email")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@with_appcontext
@user_errors
def users_create(username, role, schools, name, email, password_stdin):
    """Create a user who signs in to the web UI; asks for the password twice."""
    from inventory.users import create_user

    user = create_user(username, _read_password(password_stdin), role, list(schools), name, email)
    limited = f", {', '.join(user.school_codes)}" if user.school_codes else ""
    click.echo(f"user {user.id} '{user.username}' ({user.role}{limited}) created")


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
@user_errors
def users_list(as_json):
    """List users (never their passwords)."""
    from inventory.users import list_users

    rows = [{"id": u.id, "username": u.username, "name": u.name, "email": u.email, "role": u.role,
             "schools": u.school_codes, "active": u.active,
             "locked_until": u.locked_until.isoformat() if u.locked_until else None,
             "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None} for u in list_users()]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        state = "active" if row["active"] else "disabled"
        click.echo(f"{row['id']:>4}  {row['username']:<20} {row['role']:<8} {state:<8} {row['name'] or ''}  "
                   f"{' '.join(row['schools'])}".rstrip())


@users_group.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@with_appcontext
@user_errors
def users_set_password(username, password_stdin):
    """Give a user a new password (asked twice); lifts a lockout."""
    from inventory.users import get_user, set_password

    get_user(username)  # an unknown name fails before anyone types a password
    user = set_password(username, _read_password(password_stdin))
    click.echo(f"password of '{user.username}' changed")


@users_group.command("disable")
@click.argument("username")
@with_appcontext
@user_errors
def users_disable(username):
    """Stop a user signing in; their open sessions end with the next request."""
    from inventory.users import set_active

    user = set_active(username, False)
    click.echo(f"user '{user.username}' is disabled")


@users_group.command("enable")
@click.argument("username")
@with_appcontext
@user_errors
def users_enable(username):
    """Let a disabled user sign in again."""
    from inventory.users import set_active

    user = set_active(username, True)
    click.echo(f"user '{user.username}' is enabled")


COMMANDS = (users_group,)
