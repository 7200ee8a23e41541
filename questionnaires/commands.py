"""``survey questionnaire ...`` commands (click only; the web app attaches the group).

Errors go to stderr, one per line, with exit status 2 like the rest of the
``survey`` CLI, so the commands work in scripts and CI as well as at a terminal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NoReturn

import click

from .errors import QuestionnaireError, QuestionnaireNotFound
from .loader import FileResult, find, load_dir, load_file, parse_key, scan_dir, to_dict
from .model import LOCALES, Questionnaire
from .outline import render_outline

_dir_option = click.option(
    "--dir",
    "directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder of definition files (default: the shipped questionnaires).",
)
_lang_option = click.option(
    "--lang", type=click.Choice(LOCALES), default="vi", show_default=True, help="Text language."
)


def _fail(problems: list[str]) -> NoReturn:
    for message in problems:
        click.echo(message, err=True)
    raise click.exceptions.Exit(2)


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _summary(q: Questionnaire) -> dict[str, Any]:
    return {
        "id": q.id,
        "version": q.version,
        "title": dict(q.title),
        "criteria_count": len(q.criteria),
        "item_count": len(q.items()),  # criterion items only, as the composite uses
    }


questionnaire_group = click.Group(
    "questionnaire", help="Questionnaire definitions: check, list and show them."
)


@questionnaire_group.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate_command(paths: tuple[Path, ...]) -> None:
    """Check definition files (or folders of them) and report every problem."""
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            results = scan_dir(path)
            if not results:
                problems.append(f"{path}: no .toml files")
        else:
            try:
                results = [FileResult(path, load_file(path))]
            except QuestionnaireError as exc:
                problems.extend(exc.problems)
                continue
        for result in results:
            problems.extend(result.problems)
            q = result.questionnaire
            if q is not None:
                click.echo(
                    f"OK {result.path} ({q.key}: {len(q.criteria)} criteria, "
                    f"{len(q.items())} items)"
                )
    if problems:
        _fail(problems)


@questionnaire_group.command("list")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@_lang_option
@_dir_option
def list_command(fmt: str, lang: str, directory: Path | None) -> None:
    """List the questionnaire versions in the folder."""
    try:
        questionnaires = load_dir(directory)
    except QuestionnaireError as exc:
        _fail(exc.problems)
    rows = [_summary(q) for q in questionnaires]
    if fmt == "json":
        _echo_json(rows)
        return
    header = ("ID", "VERSION", "CRITERIA", "ITEMS", "TITLE")
    table = [header] + [
        (
            r["id"],
            str(r["version"]),
            str(r["criteria_count"]),
            str(r["item_count"]),
            r["title"][lang],
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]))


@questionnaire_group.command("show")
@click.argument("key", metavar="ID[@VERSION]")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@_lang_option
@_dir_option
def show_command(key: str, fmt: str, lang: str, directory: Path | None) -> None:
    """Show one questionnaire (the latest version unless @VERSION is given)."""
    try:
        qid, version = parse_key(key)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="ID[@VERSION]") from None
    try:
        q = find(qid, version, directory)
    except QuestionnaireError as exc:
        _fail(exc.problems)
    except QuestionnaireNotFound as exc:
        _fail([f"error: {exc}"])
    if fmt == "json":
        _echo_json(to_dict(q))
    else:
        click.echo(render_outline(q, lang))
