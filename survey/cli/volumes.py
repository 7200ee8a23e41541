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

ENGLISH = {
    "empty": "the file is empty",
    "encoding": "the CSV file is not UTF-8; save it as UTF-8",
    "unreadable": "cannot read the file; give a UTF-8 CSV or an XLSX file",
    "encrypted": "the XLSX file is password-protected; save it without a password",
    "xls_or_encrypted": (
        "the file is an Excel 97-2003 workbook (.xls) or a password-protected one; "
        "save it as .xlsx without a password, or as CSV"
    ),
    "xlsx_too_large": (
        "the XLSX file unpacks to too much data (at most {max_mib} MiB) or is packed "
        "abnormally; delete unneeded columns, split it or save it as CSV"
    ),
    "too_many_rows": "too many rows; split the file",
    "no_rows": "the file has no data rows",
    "ambiguous_columns": (
        "the header has both desk and unit/sector columns; use desk,month,count "
        "or unit,sector,month,count"
    ),
    "missing_column": "missing column",
    "duplicate_column": "column appears twice",
    "required": "empty cell",
    "bad_month": "month {value!r} is not YYYY-MM",
    "future_month": "month {value!r} is in the future",
    "not_integer": "count {value!r} is not a whole number",
    "negative": "count {value!r} is negative",
    "too_large": "count {value!r} is too large",
    "duplicate_row": "duplicates row {other_row} (same code and month)",
    "bad_code": "code {value!r} is not valid",
    "unknown_desk": "no desk with code {value!r}",
    "desk_out_of_scope": "desk {value!r} is outside the allowed units",
    "unknown_unit": "no unit with code {value!r}",
    "unit_out_of_scope": "unit {value!r} is outside the allowed units",
    "unknown_sector": "no sector with code {value!r}",
    "volume_out_of_scope": (
        "the stored count of desk {value!r} for this month was imported under a unit "
        "outside the allowed units (the desk has moved)"
    ),
}


def describe(issue) -> str:
    from survey.services.volumes import MAX_XLSX_UNPACKED

    text = ENGLISH.get(issue.code, issue.code).format(
        value=issue.value, other_row=issue.other_row, max_mib=MAX_XLSX_UNPACKED // 2**20
    )
    where = []
    if issue.row is not None:
        where.append(f"row {issue.row}")
    if issue.column:
        where.append(f"column {issue.column}")
    return f"{', '.join(where)}: {text}" if where else text


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
