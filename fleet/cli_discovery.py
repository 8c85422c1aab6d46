"""`fleet discover SCHOOL`: one discovery run now, with a progress bar and the run's summary."""

import json
import sys

import click
from flask.cli import with_appcontext

from .cli import user_errors


class _Progress:
    """A progress bar on stderr per phase (sweep, then SNMP), so --json output on stdout stays clean."""

    LABELS = {"sweep": "sweeping addresses", "snmp": "asking SNMP"}

    def __init__(self, enabled: bool):
        self.enabled, self.phase, self.bar, self.done = enabled, None, None, 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if phase != self.phase:
            self.close()
            self.phase, self.done = phase, 0
            self.bar = click.progressbar(length=max(total, 1), label=self.LABELS.get(phase, phase), file=sys.stderr,
                                         show_pos=True)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.command("discover")
@click.argument("school")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@with_appcontext
@user_errors
def discover_command(school, as_json, quiet):
    """Run one discovery of SCHOOL now: sweep its subnets, ask SNMP, reconcile with the inventory."""
    from discovery.runs import DiscoveryFailed, discover, summary

    progress = _Progress(enabled=not quiet and not as_json)
    try:
        run = discover(school, progress=progress)
    except DiscoveryFailed as error:
        progress.close()
        click.echo(f"error: {error.message}", err=True)
        sys.exit(1)
    progress.close()
    out = summary(run)
    if as_json:
        out.pop("school"), out.pop("trigger"), out.pop("message")
        click.echo(json.dumps(out, indent=2))
        return
    counts = out["counts"]
    click.echo(f"run {run.id} of {school}: {run.status} in {out['duration_s']:.1f} s")
    click.echo(f"  {counts['probed']} probed, {counts['alive']} alive, {counts['snmp']} answered SNMP")
    click.echo(f"  {counts['matched']} matched; new findings: {counts['new']} new, {counts['moved']} moved, "
               f"{counts['missing']} missing, {counts['conflict']} conflict")
    for error in out["errors"][:10]:
        click.echo(f"  {error['ip']}: {error['message']}")
    if len(out["errors"]) > 10:
        click.echo(f"  … and {len(out['errors']) - 10} more errors (fleet discovery runs --json)")


COMMANDS = (discover_command,)
