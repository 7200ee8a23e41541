"""`survey demo`: load the demo province."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from survey.cli.common import transaction
from survey.config import settings


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Load only when there are no units yet.")
@with_appcontext
def demo(if_empty: bool) -> None:
    """Load the demo province (idempotent: a second run adds nothing)."""
    from sqlalchemy import func, select

    from survey.models import Unit
    from survey.services.demo import demo_desk_url, load_demo

    with transaction() as session:
        if if_empty and session.scalar(select(func.count()).select_from(Unit)):
            click.echo("database already has data; demo not loaded")
            return
        added = load_demo(session)
    click.echo("demo loaded: " + ", ".join(f"{k} +{v}" for k, v in added.items()))
    click.echo(f"demo desk survey: {demo_desk_url(settings().BASE_URL)}")
