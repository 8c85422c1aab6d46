"""`fleet discovery …`: list discovery runs and work through the review queue of findings."""

import json

import click
from flask.cli import with_appcontext

from discovery.models import FindingKind, FindingStatus, RunStatus

from .cli import user_errors

RUN_STATUSES = [status.value for status in RunStatus]
FINDING_KINDS = [kind.value for kind in FindingKind]
FINDING_STATUSES = [status.value for status in FindingStatus] + ["all"]
PAST = {"accept": "accepted", "ignore": "ignored", "link": "linked", "reopen": "reopened"}


def _table(rows: list[list], headers: list[str]) -> None:
    """Columns as wide as their widest cell, two spaces apart."""
    cells = [headers] + [["" if value is None else str(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def _when(text: str | None) -> str:
    return text[:16].replace("T", " ") if text else ""


def _clip(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _more(page, shown: int) -> None:
    if page.count > shown:
        click.echo(f"… {page.count - shown} more (raise --limit, or use the API's paging)")


@click.group("discovery")
def discovery_group():
    """Discovery runs and the review queue of findings."""


@discovery_group.command("runs")
@click.option("--school", "schools", multiple=True, help="Only this school (repeatable).")
@click.option("--status", "statuses", multiple=True, type=click.Choice(RUN_STATUSES))
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON, with their per-host errors.")
@with_appcontext
@user_errors
def runs_command(schools, statuses, limit, as_json):
    """List discovery runs, newest first."""
    from discovery import findings as service

    from .api.discovery_schemas import run_detail, run_dict

    page = service.list_runs(school=list(schools), status=list(statuses), per_page=limit)
    if as_json:
        click.echo(json.dumps([run_detail(run, service.run_findings(run.id)) for run in page.results], indent=2))
        return
    if not page.results:
        click.echo("no discovery runs")
        return
    rows = []
    for run in map(run_dict, page.results):
        counts = run["counts"]
        seconds = "" if run["duration_s"] is None else f"{run['duration_s']:.1f}"
        rows.append([run["id"], run["school"], run["trigger"], run["status"], _when(run["started_at"]), seconds,
                     counts.get("alive", ""), counts.get("matched", ""), counts.get("new", ""),
                     counts.get("moved", ""), counts.get("missing", ""), counts.get("conflict", ""),
                     run["error_count"]])
    _table(rows, ["ID", "SCHOOL", "TRIGGER", "STATUS", "STARTED (UTC)", "SECONDS", "ALIVE", "MATCHED", "NEW",
                  "MOVED", "MISSING", "CONFLICT", "ERRORS"])
    _more(page, len(rows))


@discovery_group.command("findings")
@click.option("--school", "schools", multiple=True, help="Only this school (repeatable).")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(FINDING_KINDS))
@click.option("--status", "statuses", multiple=True, type=click.Choice(FINDING_STATUSES),
              help="Default: open; 'all' for every status (repeatable).")
@click.option("--run", "run_id", type=int, help="Only findings this run raised or saw again.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
@user_errors
def findings_command(schools, kinds, statuses, run_id, limit, as_json):
    """List findings of the review queue (open ones unless --status says otherwise), newest first."""
    from discovery import findings as service

    from .api.discovery_schemas import finding_dict

    page = service.list_findings(school=list(schools), kind=list(kinds), status=list(statuses), run=run_id,
                                 per_page=limit)
    found = [finding_dict(finding) for finding in page.results]
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo(f"no {'/'.join(statuses) if statuses else 'open'} findings")
        return
    _table([[f["id"], f["school"], f["kind"], f["status"], f["device"], f["key"], _clip(f["detail"])]
            for f in found], ["ID", "SCHOOL", "KIND", "STATUS", "DEVICE", "KEY", "DETAIL"])
    _more(page, len(found))


def _act(action: str, ids: tuple[int, ...], **options) -> None:
    """One id: one action; several: all or nothing, every refusal on its own line."""
    from discovery import findings as service

    try:
        done = [service.act(action, ids[0], **options)] if len(ids) == 1 else service.bulk(action, ids, **options)
    except service.BulkRejected as error:
        for line in error.lines:
            click.echo(line, err=True)
        raise
    for finding in done:
        device = f" → device {finding.device.id} ({finding.device.label})" if finding.device else ""
        click.echo(f"finding {finding.id} {PAST[action]}: {finding.kind} {finding.key}{device}")


@discovery_group.command("accept")
@click.argument("ids", nargs=-1, required=True, type=click.IntRange(min=1))
@click.option("--room", help="Room code for the device (new, moved, changed findings).")
@with_appcontext
@user_errors
def accept_command(ids, room):
    """Accept findings: create the new device, apply the move, mark missing, or set a changed device active."""
    _act("accept", ids, room=room)


@discovery_group.command("ignore")
@click.argument("ids", nargs=-1, required=True, type=click.IntRange(min=1))
@click.option("--note", help="Why, for whoever looks next.")
@with_appcontext
@user_errors
def ignore_command(ids, note):
    """Ignore findings; later runs do not raise them again (undo with reopen)."""
    _act("ignore", ids, note=note)


@discovery_group.command("link")
@click.argument("ids", nargs=-1, required=True, type=click.IntRange(min=1))
@click.option("--device", "device_id", required=True, type=click.IntRange(min=1),
              help="The existing device the host is.")
@with_appcontext
@user_errors
def link_command(ids, device_id):
    """Link new (or conflict) findings to an existing device: it gains the seen MAC, and serial if it had none."""
    _act("link", ids, device=device_id)


@discovery_group.command("reopen")
@click.argument("ids", nargs=-1, required=True, type=click.IntRange(min=1))
@with_appcontext
@user_errors
def reopen_command(ids):
    """Reopen ignored findings."""
    _act("reopen", ids)


COMMANDS = (discovery_group,)
