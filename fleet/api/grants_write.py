"""/api/v1/funding/grants: create, change and delete grants (admin, finance); reading stays in funding.py.

schools.yaml stays the declaration: `fleet schools sync` overwrites a grant the file declares, and removes only grants
that came from the file; a grant created here and never declared there is left alone (see provisioning.grants).
"""

from flask.views import MethodView
from marshmallow import validate

from inventory.schoolsschema import GrantSchema
from inventory.yamlmarks import Text
from provisioning import grants as service

from . import api_blueprint
from ..auth import require
from .funding import GrantOut, grant_dict

# Its own blueprint under the same prefix, so the read views in funding.py stay untouched.
blp = api_blueprint("grants-write", __name__, "funding", "Funding: write grants (Zuwendungsbescheide)")


class GrantIn(GrantSchema):
    """A grant as schools.yaml declares one; the ref within its column's width."""

    ref = Text(required=True, validate=validate.Length(max=60))


class GrantPatch(GrantSchema):
    """Some fields of a grant; the ref is its identity (devices name it), so it cannot change."""

    class Meta:
        exclude = ("ref",)


def _may_write(schools) -> None:
    require("funding")
    for code in schools:
        require("funding", code)


@blp.route("/grants")
class GrantCreate(MethodView):
    @blp.arguments(GrantIn)
    @blp.response(201, GrantOut)
    def post(self, data):
        """Create a grant, checked as the sync checks schools.yaml; money and rate as decimal text."""
        _may_write(data["schools"])
        return grant_dict(service.create_grant(data))


@blp.route("/grants/<path:ref>")
class GrantWrite(MethodView):
    @blp.arguments(GrantPatch(partial=True))
    @blp.response(200, GrantOut)
    def patch(self, data, ref):
        """Change some fields; a grant schools.yaml declares gets them back on the next sync."""
        _may_write(service.get_grant(ref).grant.school_codes + list(data.get("schools", ())))
        return grant_dict(service.update_grant(ref, data))

    @blp.response(204)
    def delete(self, ref):
        """Delete a grant; 409 while devices name it."""
        _may_write(service.get_grant(ref).grant.school_codes)
        service.delete_grant(ref)
