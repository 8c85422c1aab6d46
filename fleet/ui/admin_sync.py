"""Admin: schools.yaml against the database — the file, what a sync would change now, and applying it."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from inventory.db import db
from inventory.errors import FileRejected, FleetError
from inventory.models import AuditEvent
from inventory.schoolsfile import load_declaration
from inventory.schoolsync import sync_declaration

from ..cli import schools_path
from . import bp
from .access import requires
from .admin_forms import SyncForm

# Only a sync writes these; it records no event of its own, so their newest event is the best trace of one.
SYNC_ONLY_OBJECTS = ("carrier", "profile")


@dataclass
class SyncState:
    """The file, and what a sync would do with it now: change lines, or the reasons it cannot run."""

    path: Path
    exists: bool
    modified: datetime | None
    last_change: datetime | None
    changes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _run(dry_run: bool, state: SyncState) -> SyncState:
    """Load the file and sync it; a bad file or a refused sync becomes state.errors, never a traceback."""
    try:
        state.changes = sync_declaration(load_declaration(state.path), dry_run=dry_run)
    except FileRejected as rejected:
        db.session.rollback()
        state.errors = [rejected.message, *rejected.errors]
    except FleetError as error:
        db.session.rollback()
        state.errors = [error.message]
    return state


def sync_state() -> SyncState:
    """Where schools.yaml is, when it changed, and the last trace of a sync in the audit trail."""
    path = schools_path(None).absolute()
    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC) if path.is_file() else None
    last = db.session.scalar(select(func.max(AuditEvent.at)).where(AuditEvent.object_type.in_(SYNC_ONLY_OBJECTS)))
    return SyncState(path, path.is_file(), modified, last)


def _page(state: SyncState, form: SyncForm, status: int = 200, applied: bool = False):
    return render_template("ui/admin_sync.html", state=state, form=form, applied=applied), status


@bp.get("/admin/schools-sync", endpoint="admin_sync")
@requires("admin")
def sync_page():
    """The file's state and a dry run: what a sync would change now, or why it cannot."""
    state = sync_state()
    if state.exists:
        _run(True, state)
    return _page(state, SyncForm(formdata=None))


@bp.post("/admin/schools-sync", endpoint="admin_sync_apply")
@requires("admin")
def sync_apply():
    """Apply schools.yaml after confirmation: all of it, or, when it is refused, nothing."""
    form = SyncForm()
    state = sync_state()
    if not form.validate_on_submit() or not state.exists:
        if state.exists:
            _run(True, state)
        return _page(state, form, 422)
    _run(False, state)
    if state.errors:
        return _page(state, form, 422)
    if state.changes:
        flash(ngettext("schools.yaml was applied: %(num)s change.", "schools.yaml was applied: %(num)s changes.",
                       len(state.changes)), "success")
    else:
        flash(_("schools.yaml and the database agree: nothing was changed."), "success")
    return redirect(url_for("ui.admin_sync"))
