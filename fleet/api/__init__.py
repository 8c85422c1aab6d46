"""The REST API under /api/v1."""

from flask import Flask, request
from flask_smorest import Blueprint

from inventory.errors import FleetError

from ..auth import load_token, reset_actor
from ..errors import FleetApi


class NotJson(FleetError):
    status = 400


def require_json() -> None:
    """before_request: a write with a body that is not declared JSON gets a clear 400, not missing fields."""
    if request.method in ("POST", "PUT", "PATCH") and request.get_data(cache=True) and not request.is_json:
        raise NotJson("send the body as JSON with 'Content-Type: application/json'")


def api_blueprint(name: str, import_name: str, path: str, description: str, json_body: bool = True) -> Blueprint:
    """A blueprint under /api/v1 whose every request needs a bearer token (and JSON bodies, unless told)."""
    blp = Blueprint(name, import_name, url_prefix=f"/api/v1/{path}", description=description)
    blp.before_request(load_token)
    if json_body:
        blp.before_request(require_json)
    blp.teardown_request(reset_actor)
    return blp


def register_api(app: Flask) -> FleetApi:
    """Create the API for this app and register every blueprint."""
    from . import (devices, discovery, funding, grants_write, observations, purchases, rollout, schools, tokens,
                   transfers)

    api = FleetApi(app)
    for module in (schools, devices, transfers, tokens, discovery, observations, rollout, funding, grants_write,
                   purchases):
        api.register_blueprint(module.blp)
    api.register_blueprint(purchases.files)
    return api
