"""`survey volumes import FILE [--dry-run]`: transaction volumes from the command line.

The same parsing and checks as the staff upload page; the operator acts with
full rights (like `survey user create`).  Any error: all of them on stderr,
exit status 2, nothing written.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from survey import clock
from survey.cli.common import fail, transaction
from survey.config import settings


def describe(issue) -> str:
    """An ``Issue`` in English: the staff page's words (``survey.messages.volumes``)."""
    from survey.messages import english
    from survey.messages import volumes as volume_words

    return english(volume_words.describe, issue)


@click.group("volumes")
def volumes() -> None:
    """Transaction volumes (số lượng hồ sơ) from the one-stop software."""


@volumes.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
@with_appcontext
def import_volumes(file: Path, dry_run: bool) -> None:
    """Import FILE (CSV or XLSX): desk,month,count or unit,sector,month,count.

    Rows for a desk (or unit and sector) and month already stored are replaced.
    """
    from survey.services import volumes as svc
    from survey.services.access import SystemActor

    data = file.read_bytes()
    today = clock.local_today(settings().TIMEZONE)
    actor = SystemActor()
    with transaction() as session:
        _parsed, plan = svc.prepare(session, actor, data, today)
        if not plan.ok:  # rolled back: nothing imported
            fail(
                f"{len(plan.issues)} problem(s); nothing imported",
                details=[f"{file.name}: {describe(issue)}" for issue in plan.issues],
            )
        if not dry_run:
            result = svc.apply(session, actor, plan, svc.display_name(file.name))
    summary = f"{len(plan.rows)} rows: {plan.new} new, {plan.replaced} replace existing"
    if dry_run:
        click.echo(f"dry run: {summary}; nothing written")
        return
    click.echo(
        f"imported {result['rows']} rows: {result['new']} new, {result['replaced']} replaced"
    )
