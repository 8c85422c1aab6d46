"""/api/v1/tokens: admins create (shown once), list and revoke API tokens."""

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from inventory import tokens as service
from inventory.enums import Role

from . import api_blueprint
from ..auth import require

blp = api_blueprint("tokens", __name__, "tokens", "API tokens")


class TokenIn(Schema):
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    schools = fields.List(fields.String(), load_default=list)
    name = fields.String(validate=validate.Length(min=1, max=80))


class TokenOut(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    role = fields.String()
    schools = fields.List(fields.String(), attribute="school_codes")
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class NewTokenOut(TokenOut):
    token = fields.String(metadata={"description": "shown only in this response"})


@blp.route("")
class Tokens(MethodView):
    @blp.response(200, TokenOut(many=True))
    def get(self):
        """Every token (never the secret)."""
        require("admin")
        return service.list_tokens()

    @blp.arguments(TokenIn)
    @blp.response(201, NewTokenOut)
    def post(self, data):
        """Create a token; the plain token appears in this response only."""
        require("admin")
        token, plain = service.create_token(data["role"], data["schools"], data.get("name"))
        out = TokenOut().dump(token)
        out["token"] = plain
        return out


@blp.route("/<int:token_id>")
class TokenById(MethodView):
    @blp.response(200, TokenOut)
    def delete(self, token_id):
        """Revoke a token."""
        require("admin")
        return service.revoke_token(str(token_id))
