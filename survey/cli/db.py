"""`survey db upgrade`: create or upgrade the schema (Alembic)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from survey.web_db import get_db


@click.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema to the latest revision."""
    from survey.migrate import upgrade

    upgrade(get_db().url, revision)
    click.echo(f"database at {revision}: {_safe_url(get_db().url)}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
