"""`fleet report funding`: the funding report for the proof of use as XLSX, CSV (the Geräteliste) or JSON."""

import json
import sys
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext

from .cli import user_errors

FORMATS = ("xlsx", "csv", "json")


@click.group("report")
def report_group():
    """Reports for the carrier's administration."""


@report_group.command("funding")
@click.option("--grant", metavar="REF", help="Only this grant (its Aktenzeichen); default: every grant.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="xlsx (default; Übersicht, Belegliste, Geräteliste, Regelprüfung), csv (the Geräteliste) or json; "
                   "default from the file name, else xlsx.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file; default: foerderbericht-<grant|alle>.<format>; '-' for stdout.")
@with_appcontext
@user_errors
def report_funding(grant, fmt, output):
    """The funding report: per grant approved, committed, invoiced, paid and remaining, the device list and the rule
    findings. No payment dates are recorded yet: invoiced devices count as paid, already reimbursed is 0."""
    from provisioning import report as service
    from provisioning import report_files

    if fmt is None:
        suffix = Path(output).suffix.lstrip(".").lower() if output and output != "-" else ""
        fmt = suffix if suffix in FORMATS else "xlsx"
    report = service.build_report(date.today(), grant)
    if fmt == "json":
        data = (json.dumps(service.report_dict(report), indent=2, ensure_ascii=False) + "\n").encode()
    else:
        data = report_files.write_xlsx(report) if fmt == "xlsx" else report_files.write_csv(report)
    if output == "-":
        sys.stdout.buffer.write(data)
        return
    path = Path(output or f"foerderbericht-{_file_part(grant)}.{fmt}")
    try:
        path.write_bytes(data)
    except OSError as error:
        raise click.ClickException(f"cannot write {path}: {error.strerror}") from None
    total = report.total()
    requested = sum((figures.requested_now for figures in report.grants), service.ZERO)
    click.echo(f"{path}: {len(report.grants)} grant(s), {total.devices} device(s), net {service.money(total.net)} €, "
               f"gross {service.money(total.gross)} €, requested now {service.money(requested)} €, "
               f"{len(report.findings)} rule finding(s)")


def _file_part(grant: str | None) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in grant) if grant else "alle"


COMMANDS = (report_group,)
