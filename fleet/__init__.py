"""Schulflotte: the Flask application factory."""

from pathlib import Path

from flask import Flask

from inventory.db import db

from .jsonprovider import OrjsonProvider


class FleetFlask(Flask):
    json_provider_class = OrjsonProvider


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application; starts no scheduler and opens no socket."""
    app = FleetFlask(__name__, instance_relative_config=True)
    app.config.from_object("fleet.config.Defaults")
    app.config.from_prefixed_env("FLEET")
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app)
    _tune_engine(app)

    from . import models_loaded  # noqa: F401  (registers every table on db.metadata)
    from .api import register_api
    from .cli import register_cli
    from .errors import register_error_handlers
    from .extensions import csrf, migrate
    from .ui import register_ui

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    register_error_handlers(app)
    register_api(app)
    register_cli(app)
    csrf.init_app(app)
    for blueprint in app.blueprints.values():
        # Bearer tokens, not cookies, authenticate the API: a forged cross-site request carries no token.
        if (blueprint.url_prefix or "").startswith("/api/"):
            csrf.exempt(blueprint)

    @app.get("/api/v1/")
    def service_description():
        return {"service": "Schulflotte", "api": "/api/v1", "openapi": "/api/v1/openapi.json", "ui": "/"}

    register_ui(app)
    return app


def database_url(app: Flask) -> str:
    """FLEET_DATABASE_URL, else a SQLite file in the instance folder."""
    url = app.config.get("DATABASE_URL")
    if url:
        # Plain postgresql:// URLs mean psycopg 3, the driver we ship.
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    return "sqlite:///" + str(Path(app.instance_path) / "fleet.sqlite")


def _tune_engine(app: Flask) -> None:
    """Foreign keys and a busy timeout on SQLite, so it behaves like the production database."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        # Copies, never the class-level defaults: another app in the same process may use PostgreSQL.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"timeout": 30, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
