"""Admin: API tokens, listed by prefix, created (the secret shown once, in that response only) and revoked."""

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _

from inventory.db import db
from inventory.errors import FleetError
from inventory.models import ApiToken
from inventory.tokens import create_token, list_tokens, revoke_token

from . import bp
from .access import requires
from .admin import school_choices, show_errors
from .admin_forms import TOKEN_ROLES, RevokeForm, TokenCreateForm


def _page(form: TokenCreateForm, errors: list[str] | None = None, status: int = 200):
    return render_template("ui/admin_tokens.html", tokens=list_tokens(), form=form, errors=errors or [],
                           roles=TOKEN_ROLES), status


@bp.get("/admin/tokens", endpoint="admin_tokens")
@requires("admin")
def tokens_page():
    """Every token with its role, schools, prefix and use; a form for a new one."""
    form = TokenCreateForm(formdata=None)
    form.schools.choices = school_choices()
    return _page(form)


@bp.post("/admin/tokens", endpoint="admin_token_new")
@requires("admin")
def new_token():
    """Create a token and show its secret in this response only, which no cache keeps."""
    form = TokenCreateForm()
    form.schools.choices = school_choices()
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        token, plain = create_token(form.role.data, form.schools.data, form.name.data or None)
    except FleetError as error:
        db.session.rollback()
        return _page(form, show_errors(form, error), 422)
    response = make_response(render_template("ui/admin_token_created.html", token=token, plain=plain,
                                             roles=TOKEN_ROLES))
    response.headers["Cache-Control"] = "no-store"
    return response


def _token(token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        abort(404)
    return token


@bp.route("/admin/tokens/<int:token_id>/revoke", methods=["GET", "POST"], endpoint="admin_token_revoke")
@requires("admin")
def revoke(token_id: int):
    """Ask, then revoke: programs using the token are refused from then on."""
    token = _token(token_id)
    form = RevokeForm()
    if form.validate_on_submit():
        revoke_token(str(token.id))
        flash(_("The token %(name)s was revoked.", name=token.name), "success")
        return redirect(url_for("ui.admin_tokens"))
    status = 422 if form.is_submitted() else 200
    return render_template("ui/admin_token_revoke.html", token=token, form=form, roles=TOKEN_ROLES), status
