"""The `fleet` command line: thin commands over the services."""

import functools
import getpass
import json
import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.exc import OperationalError, ProgrammingError

from inventory import audit
from inventory.db import db
from inventory.errors import FileRejected, FleetError


DEMO_USER = "admin"
SHIPPED_SCHOOLS = Path(__file__).resolve().parent.parent / "schools.yaml"


def user_errors(func):
    """Turn domain errors into one clear line on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            with audit.acting_as(f"cli:{_user()}"):
                return func(*args, **kwargs)
        except FileRejected as error:
            db.session.rollback()
            for line in error.errors:
                click.echo(line, err=True)
            click.echo(f"error: {error.message}", err=True)
            sys.exit(1)
        except FleetError as error:
            db.session.rollback()
            click.echo(f"error: {error.message}", err=True)
            sys.exit(1)
        except (OperationalError, ProgrammingError) as error:
            # A database that is missing, unreachable or not migrated is a setup mistake, not a bug.
            first_line = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
            click.echo(f"error: the database at {_safe_url()} is not ready ({first_line}); "
                       f"check FLEET_DATABASE_URL and run `fleet init`", err=True)
            sys.exit(1)
    return wrapper


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def schools_path(path: str | None) -> Path:
    """The schools.yaml to use: the argument, FLEET_SCHOOLS, or ./schools.yaml."""
    return Path(path or current_app.config.get("SCHOOLS") or "schools.yaml")


@click.command("init")
@with_appcontext
@user_errors
def init_command():
    """Create or upgrade the database (alembic upgrade head)."""
    from flask_migrate import upgrade
    upgrade()
    click.echo(f"database ready: {_safe_url()}")


def _run_server(host: str, port: int) -> None:
    """The development server; Flask refuses app.run() under its own CLI unless told this is deliberate."""
    os.environ.pop("FLASK_RUN_FROM_CLI", None)
    current_app.run(host=host, port=port, use_reloader=False)


def _safe_url() -> str:
    return db.engine.url.render_as_string(hide_password=True)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve_command(host, port):
    """Run the web service (development server; use gunicorn in production)."""
    _run_server(host, port)


@click.command("demo")
@click.option("--serve", "serve_after", is_flag=True, help="Start the web service afterwards.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
@user_errors
def demo_command(serve_after, host, port):
    """Load schools.yaml and a generated demo fleet into the database; print an admin token and a web UI user."""
    import secrets

    from flask_migrate import upgrade

    from discovery.demo import seed_history
    from inventory.demo_load import load_demo
    from inventory.devices import local_today
    from inventory.tokens import create_token
    from inventory.users import create_user, list_users
    from provisioning.demo import record_invoices

    upgrade()
    path = schools_path(None)
    if not path.exists() and not current_app.config.get("SCHOOLS") and SHIPPED_SCHOOLS.exists():
        path = SHIPPED_SCHOOLS  # the demo carrier shipped beside the source, wherever the command is run from
    summary = load_demo(path)
    click.echo(summary)
    click.echo(seed_history(zone=current_app.config.get("TIMEZONE")))
    click.echo(record_invoices(local_today()))
    if any(user.username == DEMO_USER for user in list_users()):
        click.echo(f"web UI user '{DEMO_USER}' exists already (fleet users set-password {DEMO_USER})")
    else:
        password = secrets.token_urlsafe(12)
        create_user(DEMO_USER, password, "admin", name="Demo Admin")
        click.echo(f"web UI user '{DEMO_USER}', password (shown once): {password}")
    _token, plain = create_token("admin", name=None)
    click.echo(f"admin API token (shown once): {plain}")
    if serve_after:
        click.echo(f"serving on http://{host}:{port}/ (web UI) and http://{host}:{port}/api/v1/")
        _run_server(host, port)


@click.group("schools")
def schools_group():
    """The schools declared in schools.yaml."""


@schools_group.command("sync")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Show what would change, change nothing.")
@with_appcontext
@user_errors
def schools_sync(file, dry_run):
    """Apply schools.yaml to the database and print what changed."""
    from inventory.schoolsfile import load_declaration
    from inventory.schoolsync import sync_declaration

    declaration = load_declaration(schools_path(file))
    changes = sync_declaration(declaration, dry_run=dry_run)
    for line in changes:
        click.echo(line)
    if not changes:
        click.echo("schools.yaml and the database agree: nothing to change")
    elif dry_run:
        click.echo(f"{len(changes)} change(s) found (dry run: nothing written)")
    else:
        click.echo(f"{len(changes)} change(s) applied")


@click.group("import")
def import_group():
    """Load data from files."""


@import_group.command("devices")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "linuxmuster"]), help="Default: from the file name.")
@click.option("--school", help="School code for rows without one (required for linuxmuster files).")
@click.option("--dry-run", is_flag=True, help="Show what would be created or updated; write nothing.")
@click.option("--create-rooms", is_flag=True, help="Create rooms the file names that do not exist yet.")
@with_appcontext
@user_errors
def import_devices(file, fmt, school, dry_run, create_rooms):
    """Import devices from CSV, XLSX or a linuxmuster.net devices.csv; all or nothing."""
    from inventory.importer import import_file

    path = Path(file)
    if not path.is_file():
        raise FleetError(f"{file}: no such file")
    result = import_file(path.read_bytes(), path.name, fmt=fmt, school=school, dry_run=dry_run,
                         create_rooms=create_rooms)
    for line in result.lines:
        click.echo(line)
    click.echo(result.summary(dry_run))


@import_group.command("purchases")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), help="Default: from the file name.")
@click.option("--dry-run", is_flag=True, help="Show what would be recorded; write nothing.")
@with_appcontext
@user_errors
def import_purchases(file, fmt, dry_run):
    """Record invoices from CSV or XLSX, one row per invoiced device; all or nothing, re-importable."""
    from provisioning.purchase_files import read_invoices
    from provisioning.purchases import file_label, import_invoices

    path = Path(file)
    if not path.is_file():
        raise FleetError(f"{file}: no such file")
    records = read_invoices(path.read_bytes(), path.name, fmt)
    click.echo(import_invoices(records, file_label(path.name), dry_run=dry_run).summary(dry_run))


@click.group("export")
def export_group():
    """Write data to files."""


@export_group.command("devices")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "linuxmuster"]), default="csv", show_default=True)
@click.option("--school", help="Only this school (required for linuxmuster).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="File to write; default standard output.")
@with_appcontext
@user_errors
def export_devices(fmt, school, output):
    """Export devices in a format the import reads back."""
    from inventory.exporter import export_devices as export

    data = export(fmt, school)
    if output:
        Path(output).write_bytes(data)
        click.echo(f"wrote {output}", err=True)
    elif fmt == "xlsx":
        raise FleetError("XLSX is binary: give -o FILE")
    else:
        sys.stdout.buffer.write(data)


@click.group("tokens")
def tokens_group():
    """API tokens."""


@tokens_group.command("create")
@click.option("--role", required=True, type=click.Choice(["admin", "support", "finance", "agent"]))
@click.option("--school", "schools", multiple=True, help="Limit to this school (repeatable; agents need one).")
@click.option("--name", help="A name to recognise the token by.")
@with_appcontext
@user_errors
def tokens_create(role, schools, name):
    """Create a token and print it once."""
    from inventory.tokens import create_token

    token, plain = create_token(role, list(schools), name)
    click.echo(f"token {token.id} '{token.name}' ({role}{', ' + ', '.join(schools) if schools else ''}):",
               err=True)
    click.echo(plain)


@tokens_group.command("revoke")
@click.argument("token")
@with_appcontext
@user_errors
def tokens_revoke(token):
    """Revoke a token by id, name or prefix."""
    from inventory.tokens import revoke_token

    from inventory.tokens import find_token

    was_revoked = find_token(token).revoked_at is not None
    revoked = revoke_token(token)
    click.echo(f"token {revoked.id} '{revoked.name}' {'was already' if was_revoked else 'is now'} revoked")


@tokens_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def tokens_list(as_json):
    """List tokens (never their secrets)."""
    from inventory.tokens import list_tokens

    rows = [{"id": t.id, "name": t.name, "prefix": t.prefix, "role": t.role, "schools": t.school_codes,
             "revoked": t.revoked_at is not None} for t in list_tokens()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        state = "revoked" if row["revoked"] else "active"
        click.echo(f"{row['id']:>4}  {row['prefix']}…  {row['role']:<8} {state:<8} {row['name']}  "
                   f"{' '.join(row['schools'])}")


COMMANDS = (init_command, serve_command, demo_command, schools_group, import_group, export_group, tokens_group)


def register_cli(app: Flask) -> None:
    """Attach the commands to the app, so `flask --app fleet` offers them too."""
    from . import cli_agent, cli_discovery, cli_findings, cli_report, cli_rollout, cli_scheduler, cli_users

    for command in COMMANDS + cli_discovery.COMMANDS + cli_findings.COMMANDS + cli_scheduler.COMMANDS \
            + cli_agent.COMMANDS + cli_rollout.COMMANDS + cli_report.COMMANDS + cli_users.COMMANDS:
        app.cli.add_command(command)


def main() -> None:
    """Entry point of the `fleet` console script."""
    from . import create_app

    group = FlaskGroup(create_app=create_app, add_default_commands=False, add_version_option=False,
                       load_dotenv=False, help="Schulflotte: school fleet inventory, discovery and funding.")
    # The on-site agent needs no database: found on the group itself, it runs without the app being created.
    from .cli_agent import COMMANDS as AGENT_COMMANDS
    for command in AGENT_COMMANDS:
        group.add_command(command)
    group(prog_name="fleet")
