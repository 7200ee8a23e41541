"""`survey desks list|set-sectors`: desks with their unit, survey URL, state,
responses and sectors; which sectors a desk serves."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from survey.cli.common import echo_table, fail, refused, transaction, unit_subtree
from survey.config import settings


@click.group("desks")
def desks_group() -> None:
    """Desks (quầy) and their survey URLs."""


@desks_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--unit", "unit_code", help="Only this unit's subtree.")
@with_appcontext
def desks_list(fmt: str, unit_code: str | None) -> None:
    """List desks with unit, survey URL, state, response count and sectors."""
    from survey.services.desks import list_desks

    with transaction() as session:
        rows = list_desks(session, settings().BASE_URL, unit_subtree(session, unit_code))
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    header = ("code", "unit", "active", "responses", "sectors", "name", "url")
    table = [header] + [
        (
            r["code"],
            r["unit"],
            "yes" if r["active"] else "no",
            str(r["responses"]),
            ",".join(r["sectors"]) or "-",
            r["name"],
            r["url"],
        )
        for r in rows
    ]
    echo_table(table)


def _org_error(exc: Exception) -> str:
    from survey.messages import english
    from survey.messages import org as org_words

    return english(org_words.text, exc.code, value=exc.value)  # type: ignore[attr-defined]


@desks_group.command("set-sectors")
@click.argument("code")
@click.argument("sectors", nargs=-1)
@click.option("--none", "clear", is_flag=True, help="Clear the desk's sectors.")
@with_appcontext
def desks_set_sectors(code: str, sectors: tuple[str, ...], clear: bool) -> None:
    """Set the sectors (lĩnh vực) desk CODE serves: SECTOR codes, replacing the old ones.

    One sector gives every QR response of the desk that sector; several make
    the survey page ask which one.  Clearing needs --none (a forgotten
    argument never clears them).
    """
    from sqlalchemy import select

    from survey.models import Desk
    from survey.services.access import SystemActor
    from survey.services.codes import normalise
    from survey.services.org import OrgError
    from survey.services.org.desks import set_sectors

    if clear == bool(sectors):
        fail("give SECTOR codes, or --none to clear the desk's sectors (not both)")
    with transaction() as session, refused(OrgError, message=_org_error):
        desk = session.scalar(select(Desk).where(Desk.code == normalise(code)))
        if desk is None:
            fail(f"unknown desk code {code!r}")
        changed = set_sectors(session, SystemActor(), desk, sectors)
        desk_code, now = desk.code, [s.code for s in desk.sectors]
    served = ", ".join(now) or "no sector"
    click.echo(f"desk {desk_code}: {served}" + ("" if changed else " (unchanged)"))
