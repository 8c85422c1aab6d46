"""One error shape for every failure: {"error", "message", "fields"}."""

from flask import Flask, jsonify
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from inventory.errors import FleetError


def error_response(name: str, message: str, status: int, fields: dict | None = None, headers=None):
    """The JSON body and status every API error uses."""
    response = jsonify({"error": name, "message": message, "fields": fields or {}})
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _flatten_messages(messages: dict) -> dict:
    """webargs nests messages by location ({"json": {...}}); users only care about the field."""
    fields: dict = {}
    for location, by_field in messages.items():
        if isinstance(by_field, dict):
            for field, problems in by_field.items():
                fields[field] = problems
        else:
            fields[location] = by_field
    return fields


class FleetApi(Api):
    """flask-smorest's Api with our error shape for HTTP errors and validation failures."""

    def handle_http_exception(self, error: HTTPException):
        data = getattr(error, "data", None) or {}
        if error.code == 422 and "messages" in data:
            fields = _flatten_messages(data["messages"])
            if "_schema" in fields and fields["_schema"] == ["Invalid input type."]:
                return error_response("InvalidInput", "the request body must be a JSON object", 422)
            names = ", ".join(sorted(fields))
            return error_response("ValidationError", f"invalid fields: {names}", 422, fields)
        if error.code == 400 and "Invalid JSON body" in str(data.get("messages", "")):
            return error_response("BadRequest", "the request body is not valid JSON", 400)
        name = type(error).__name__
        message = data.get("message") or error.description or name
        return error_response(name, message, error.code or 500, data.get("fields"), data.get("headers"))


def register_error_handlers(app: Flask) -> None:
    """Map domain errors and stray HTTP errors to the one shape."""

    @app.errorhandler(FleetError)
    def _fleet_error(error: FleetError):
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        return error_response(error.name, error.message, error.status, error.fields, headers)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        return error_response(type(error).__name__, error.description or "", error.code or 500)
