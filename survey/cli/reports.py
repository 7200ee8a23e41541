"""`survey report`: the report of a unit and period as JSON, Excel, CSV, PDF or DOCX.

Invalid input (unknown codes, bad dates, a missing output directory) exits
with status 2 and a message, and writes nothing; the file is written next to
its target and renamed only once complete.  Large selections show a progress
bar (on standard error) while the responses are read.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from survey import config
from survey.cli.common import fail as _fail
from survey.cli.common import output_option
from survey.files import write_atomically
from survey.messages import english
from survey.messages import selection as selection_words

# Below this many responses a report takes about a second: no progress bar.
PROGRESS_FROM = 5000

OPTION = {
    "unit": "--unit",
    "desk": "--desk",
    "sector": "--sector",
    "group": "--sector-group",
    "from": "--from",
    "to": "--to",
    "q": "--questionnaire",
}


def codebook_path(output: Path) -> Path:
    """data.csv -> data.codebook.csv, next to it."""
    return output.with_name(f"{output.stem}.codebook{output.suffix or '.csv'}")


@click.command("report")
@click.option(
    "--unit", "unit_code", required=True, help="Unit code: its whole subtree is reported."
)
@click.option("--from", "start", metavar="DATE", help="First day (default: 1 January).")
@click.option(
    "--to", "end", metavar="DATE", help="Last day (default: end of the last complete month)."
)
@click.option("--desk", "desk_code", help="Only this desk (code).")
@click.option("--sector", "sector_code", help="Only this sector (code).")
@click.option("--sector-group", "group_code", help="Only this sector group (code).")
@click.option(
    "--questionnaire",
    "questionnaire_key",
    metavar="ID[@VERSION]",
    help="Count only this questionnaire version (default: every form answered, together).",
)
@click.option(
    "--format",
    "fmt",
    required=True,
    type=click.Choice(["json", "xlsx", "csv", "pdf", "docx"]),
    help="json: the analysis; xlsx: tables; csv: response data (+ .codebook.csv); "
    "pdf: the signed report (NĐ 30/2020 format); docx: the same report, to edit.",
)
@click.option(
    "--csv-dialect",
    "csv_dialect",
    type=click.Choice(["rfc", "vn"]),
    help="csv only: rfc = RFC 4180 with a BOM (the default); vn = ';' and decimal comma, "
    "for Excel in vi-VN.",
)
@output_option
@with_appcontext
def report(
    unit_code: str,
    start: str | None,
    end: str | None,
    desk_code: str | None,
    sector_code: str | None,
    group_code: str | None,
    questionnaire_key: str | None,
    fmt: str,
    csv_dialect: str | None,
    output: Path,
) -> None:
    """Report of a unit's subtree for a period (dates YYYY-MM-DD or DD/MM/YYYY)."""
    from survey.clock import local_today
    from survey.reports import csv_export, export
    from survey.reports import fmt as f
    from survey.reports.build import build_for
    from survey.reports.selection import SelectionError, count_responses, parse_day, resolve
    from survey.reports.texts import shown_interval, verdict_label
    from survey.services.access import SystemActor

    if csv_dialect is not None and fmt != "csv":
        _fail("--csv-dialect: only with --format csv")
    csv_dialect = csv_dialect or "rfc"
    if not output.parent.is_dir():
        _fail(f"output directory {str(output.parent)!r} does not exist")
    today = local_today(config.settings().TIMEZONE)
    database = current_app.extensions["survey.db"]
    with database.session() as session:
        try:
            sel = resolve(
                session,
                SystemActor(),
                today=today,
                unit=unit_code,
                start=parse_day(start, "from"),
                end=parse_day(end, "to"),
                desk=desk_code,
                sector=sector_code,
                group=group_code,
                questionnaire=questionnaire_key,
                action="results.export",
            )
        except SelectionError as exc:
            text = english(selection_words.text, exc.code, value=exc.value)
            _fail(f"{OPTION.get(exc.field, exc.field)}: {text}")
        total = count_responses(session, sel)
        label = f"reading {total} responses"
        with click.progressbar(
            length=total, label=label, file=sys.stderr if total >= PROGRESS_FROM else _Null()
        ) as bar:
            if fmt == "csv":
                pieces = csv_export.rows(session, sel, bar.update, dialect=csv_dialect)
                write_atomically(output, (t.encode("utf-8") for t in pieces))
                book = codebook_path(output)
                text = csv_export.codebook(session, sel, dialect=csv_dialect)
                write_atomically(book, [text.encode("utf-8")])
                click.echo(f"wrote {output} ({total} responses) and its codebook {book}")
                return
            built = build_for(session, sel, progress=bar.update)
        payload = export.render(session, built, fmt)
        write_atomically(output, [payload])
    o = built.overall
    click.echo(
        f"wrote {output}: {sel.unit.code} {sel.start:%d/%m/%Y}-{sel.end:%d/%m/%Y}, "
        f"{built.result['n_responses']} responses ({built.result['n_excluded']} excluded), "
        f"overall {f.pct(o['estimate'])} [{f.interval(*shown_interval(o))}]"
        + (f", {verdict_label(o['verdict'])}" if o["verdict"] else "")
    )


class _Null:
    """A sink for the progress bar of small exports (nothing is shown)."""

    def write(self, _text: str) -> int:
        return 0

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False
