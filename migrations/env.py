"""Alembic environment: the app's metadata, minus the tables Celery's embedded transport owns."""

import logging
from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context
from flask import current_app

from ppp_tracker.db import Money, Scaled, UTCDateTime

config = context.config
if config.config_file_name and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def include_object(obj, name, type_, reflected, compare_to):
    """Celery's SQLAlchemy transport and result backend keep their own tables (PITFALLS.md);
    an index of one database only (`info["dialect"]`, e.g. a trigram index) exists only there."""
    if type_ == "index" and not reflected:
        only_on = obj.info.get("dialect")
        if only_on and only_on != context.get_bind().dialect.name:
            return False
    return not (
        type_ == "table" and name and (name.startswith("kombu_") or name.startswith("celery_"))
    )


def render_item(type_, obj, autogen_context):
    """Write our column types as their plain SQL types so migrations never import the app."""
    if type_ == "type":
        if isinstance(obj, Money | Scaled):
            return "sa.BigInteger()"
        if isinstance(obj, UTCDateTime):
            return "sa.DateTime(timezone=True)"
        if isinstance(obj, sa.Enum):
            return f"sa.String(length={obj.length})"
    return False


def _configure(**kwargs):
    context.configure(
        target_metadata=target_db.metadata,
        include_object=include_object,
        render_item=render_item,
        compare_type=True,
        render_as_batch=True,
        **kwargs,
    )


def run_migrations_offline():
    _configure(url=str(target_db.engine.url), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    connectable = target_db.engine
    with connectable.connect() as connection:
        _configure(connection=connection, process_revision_directives=process_revision_directives)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
