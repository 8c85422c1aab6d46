"""`fleet rollout`: per room, what its profile requires, what is there and verified, and the totals."""

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from .cli import user_errors

COLUMNS = ("required", "present", "verified", "ordered", "missing", "surplus")
KIND_WIDTH = 20


@click.command("rollout")
@click.option("--school", "schools", multiple=True, metavar="CODE", help="Only this school (repeatable).")
@click.option("--behind", is_flag=True, help="List only rooms past their target date and not complete.")
@click.option("--json", "as_json", is_flag=True, help="Print the rooms and totals as JSON (the API's shape).")
@with_appcontext
@user_errors
def rollout_command(schools, behind, as_json):
    """Rollout per room: required, present, verified and missing per device kind, phase and target; then totals.

    Present: assigned to the room and in service (active, loaned). Verified: present and seen on the network within
    FLEET_ROLLOUT_VERIFIED_DAYS days (default 14). Totals count every room of the schools, --behind or not.
    """
    from provisioning import rollouts as service

    days, zone = service.settings(current_app.config)
    report = service.room_rollout(list(schools) or None, verified_within_days=days, zone=zone)
    listed = [room for room in report.rollout.rooms if service.matches(room, "behind" if behind else None)]
    if as_json:
        click.echo(json.dumps(service.report_dict(report, listed), indent=2, ensure_ascii=False))
        return
    click.echo(f"rollout on {report.today} (verified: seen on the network within {days} days)")
    for room in listed:
        _print_room(room, report.rooms[(room.school, room.room)])
    if behind and not listed:
        click.echo("\nno room is behind its target date")
    for code, totals in report.rollout.schools.items():
        _print_totals(code, totals)
    if len(report.rollout.schools) != 1:
        _print_totals(f"carrier ({len(report.rollout.schools)} schools)", report.rollout.carrier)


def _print_room(room, info) -> None:
    profile = f" [{info.profile}]" if info.profile else ""
    target = f", target {room.target}" if room.target else ""
    state = "behind" if room.behind else "complete" if room.complete else "incomplete"
    click.echo(f"\n{room.school} {room.room} {info.name}{profile}: {room.phase or 'nothing required'}{target}, "
               f"{state}")
    if room.lines:
        _print_lines(room.lines, room.total if len(room.lines) > 1 else None)


def _print_totals(label: str, totals) -> None:
    phases = ", ".join(f"{phase} {count}" for phase, count in totals.phases.items())
    click.echo(f"\n{label}: {totals.rooms} rooms, {totals.complete} complete, {totals.behind} behind; {phases}")
    if totals.lines:
        _print_lines(totals.lines, totals.total)


def _print_lines(lines, total) -> None:
    click.echo("  " + f"{'kind':<{KIND_WIDTH}}" + "".join(f"{name:>10}" for name in COLUMNS))
    for line in (*lines, total) if total is not None else lines:
        kind = line.kind or "all kinds"
        click.echo("  " + f"{kind:<{KIND_WIDTH}}" + "".join(f"{getattr(line, name):>10}" for name in COLUMNS))


COMMANDS = (rollout_command,)
