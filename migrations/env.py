"""Alembic environment: runs inside the Flask app, against the app's engine and metadata."""

from alembic import context
from flask import current_app

from inventory.db import db

config = context.config


def run_migrations_offline() -> None:
    """Emit SQL without a connection (flask db upgrade --sql)."""
    context.configure(url=db.engine.url.render_as_string(hide_password=False),
                      target_metadata=db.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate over the app's own engine."""
    options = current_app.extensions["migrate"].configure_args
    with db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=db.metadata,
                          **{"compare_type": True, "render_as_batch": True, **options})
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
