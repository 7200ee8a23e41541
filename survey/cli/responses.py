"""`survey responses import`: paper forms and historical data from a tidy CSV;
`survey responses rollup`: the closed months' summaries reports read."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from survey.cli.common import fail, transaction

# RowIssue.code -> English (the CLI speaks English, as its other errors do).
WORDS = {
    "file_missing": "file not found: {value}",
    "not_utf8": "{value} is not UTF-8 text (save it from Excel as 'CSV UTF-8')",
    "bad_csv": "cannot read the CSV: {value}",
    "empty_file": "{value} is empty",
    "no_rows": "the file has no response rows",
    "bad_channel": "channel {value!r} is not one of import, paper",
    "forbidden": "{value} may not import responses (admins and unit managers only)",
    "duplicate_column": "column given twice",
    "unknown_column": "not a column of the tidy format nor an item of {value}",
    "missing_column": "missing (every item of {value} needs its column, empty cells allowed)",
    "empty": "empty",
    "unknown_desk": "unknown desk code {value!r}",
    "out_of_scope": "desk {value} is outside the operator's units",
    "bad_day": "{value!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)",
    "future_day": "{value} is in the future",
    "unknown_sector": "unknown sector code {value!r}",
    "bad_value": "{value!r} is not an answer (1..5, NA or empty)",
    "na_not_allowed": "NA (không áp dụng) is not allowed for this item",
    "comment_too_long": "comment of {value} characters (at most 2000)",
    "response_id_too_long": "response_id {value!r} is longer than 57 characters",
    "duplicate_response_id": "response_id repeated (first at row {first})",
}


def describe(issue) -> str:
    """``row 3 (line 4), column TC1: ...``: rows count data rows, lines include the header."""
    value = issue.value
    params = {"value": value}
    if issue.code == "duplicate_response_id":
        value, _, first = value.rpartition("@")
        params = {"value": value, "first": first}
    words = WORDS.get(issue.code, issue.code).format(**params)
    where = []
    if issue.row:
        where.append(f"row {issue.row} (line {issue.row + 1})")
    elif issue.column and not issue.column.startswith("--"):
        where.append("header")
    if issue.column:
        where.append(issue.column if issue.column.startswith("--") else f"column {issue.column}")
    return f"{', '.join(where)}: {words}" if where else words


@click.group("responses")
def responses_group() -> None:
    """Citizen responses: bulk import of paper forms and historical data, report summaries."""


@responses_group.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--questionnaire", "key", required=True, help="Published form, ID or ID@VERSION.")
@click.option(
    "--channel",
    type=click.Choice(["import", "paper"]),
    default="import",
    show_default=True,
    help="paper: forms typed in from paper; import: historical data.",
)
@click.option("--dry-run", is_flag=True, help="Check every row and count; write nothing.")
@click.option("--as", "username", help="Act as this staff account (its units only).")
@click.option(
    "--no-rollup",
    is_flag=True,
    help="Leave the closed months written into to the worker's next summary round.",
)
@with_appcontext
def responses_import(
    path: Path, key: str, channel: str, dry_run: bool, username: str | None, no_rollup: bool
):
    """Import responses from a tidy CSV (the format `survey analyze` reads).

    Columns: desk, day (YYYY-MM-DD or DD/MM/YYYY), optional sector, one column
    per item code (1..5, NA or empty), optional comment, optional
    response_id (re-importing the same file then skips what is stored).
    A file with any bad row writes nothing.
    """
    from survey.cli.targets import _actor
    from survey.config import settings
    from survey.services import response_import as ri

    try:
        header, rows = ri.read_csv(path)
    except ri.ImportRefused as exc:
        fail(describe(exc.issues[0]))
    tty = sys.stdout.isatty()
    with transaction() as session:
        version = ri.resolve_questionnaire(session, key)
        if version is None:
            fail(f"--questionnaire: {key!r} is not a published questionnaire")
        actor = _actor(session, username)
        bar = click.progressbar(length=len(rows), label="writing") if tty and not dry_run else None
        try:
            result = ri.import_responses(
                session,
                header,
                rows,
                version=version,
                channel=channel,
                actor=actor,
                timezone=settings().TIMEZONE,
                dry_run=dry_run,
                source=path.name,
                progress=bar.update if bar else None,
            )
        except ri.ImportRefused as exc:
            n = len(exc.issues)
            fail(
                f"{n} problem{'s' if n > 1 else ''} found; nothing was imported"
                + (" (only the first are shown)" if n >= ri.MAX_ISSUES else ""),
                details=[describe(i) for i in exc.issues],
            )
        finally:
            if bar:
                bar.render_finish()
        if dry_run:
            session.rollback()
    verb = "would import" if dry_run else "imported"
    click.echo(
        f"{verb} {result.imported} responses ({result.answers} answers, "
        f"{result.comments} comments) at {len(result.desks)} desks, channel {channel}"
        + (f"; {result.skipped} already stored, skipped" if result.skipped else "")
    )
    if not dry_run and result.dropped and not no_rollup:
        # The summaries the file made stale were dropped with the import; build
        # them again now rather than at the worker's next round.
        _refresh(quiet=not tty, only=result.dropped)


def _refresh(quiet: bool = False, only=None) -> list:
    from survey.config import settings
    from survey.reports import rollup

    def said(month, n: int) -> None:
        if not quiet:
            click.echo(f"summarised {month:%m/%Y}: {n} responses", err=True)

    with transaction() as session:
        built = rollup.refresh(session, settings().TIMEZONE, only=only, progress=said)
    return built


@responses_group.command("rollup")
@click.option("--rebuild", is_flag=True, help="Drop every summary first and build them all again.")
@with_appcontext
def responses_rollup(rebuild: bool) -> None:
    """Summarise the closed months for reports (the worker does it every 5 minutes).

    A month is closed 10 minutes after its last day ends (Vietnam time). A
    report reads the summaries of the closed months it covers whole and the
    responses of its other days: the same numbers, at a cost that grows with
    desks and days instead of responses.
    """
    from survey.models import RollupMonth
    from survey.services import rollup

    if rebuild:
        with transaction() as session:
            rollup.invalidate(session, list(session.scalars(select(RollupMonth.month))))
    built = _refresh()
    click.echo(f"summarised {len(built)} month{'s' if len(built) != 1 else ''}")
