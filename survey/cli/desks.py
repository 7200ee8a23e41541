"""`survey desks list`: desks with their unit, survey URL, state and responses."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from survey.cli.common import echo_table, transaction, unit_subtree
from survey.config import settings


@click.group("desks")
def desks_group() -> None:
    """Desks (quầy) and their survey URLs."""


@desks_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--unit", "unit_code", help="Only this unit's subtree.")
@with_appcontext
def desks_list(fmt: str, unit_code: str | None) -> None:
    """List desks with unit, survey URL, state and response count."""
    from survey.services.desks import list_desks

    with transaction() as session:
        rows = list_desks(session, settings().BASE_URL, unit_subtree(session, unit_code))
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    header = ("code", "unit", "active", "responses", "name", "url")
    table = [header] + [
        (
            r["code"],
            r["unit"],
            "yes" if r["active"] else "no",
            str(r["responses"]),
            r["name"],
            r["url"],
        )
        for r in rows
    ]
    echo_table(table)
