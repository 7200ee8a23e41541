"""``analyze`` and ``plan`` click commands (attached to the ``survey`` CLI group).

Bad input exits with status 2 and a message naming the column, row or desk.
"""

from __future__ import annotations

import importlib
import json
import sys

import click

from .engine import BY_CHOICES, DF_RULES, METHODS
from .intervals import INTERVALS

INPUT_ERROR = 2


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(INPUT_ERROR)


def _questionnaire(key: str | None, path: str | None):
    # Imported lazily: the loader reads TOML files and is not needed for `plan`.
    loader = importlib.import_module("questionnaires.loader")
    if path:
        return loader.load_file(path)
    if not key:
        _fail("give --questionnaire ID[@VERSION] or --questionnaire-file PATH")
    qid, version = loader.parse_key(key)
    return loader.find(qid, version)


@click.command("analyze")
@click.option(
    "--responses",
    "responses_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="CSV, one row per response (response_id, unit, desk, sector, day, items).",
)
@click.option(
    "--questionnaire",
    "questionnaire_key",
    metavar="ID[@VERSION]",
    help="Questionnaire id, latest version unless @VERSION is given.",
)
@click.option(
    "--questionnaire-file",
    type=click.Path(dir_okay=False),
    help="A questionnaire TOML file instead of --questionnaire.",
)
@click.option(
    "--volumes",
    "volumes_path",
    type=click.Path(dir_okay=False),
    help="CSV desk,volume (or cell columns + volume): post-stratify to these counts.",
)
@click.option(
    "--rake",
    "rake_paths",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Further margin CSV (columns + volume); with several margins weights are raked.",
)
@click.option(
    "--trim",
    "trim_factor",
    type=float,
    help="Keep weights within median / F .. F x median, margins met (bounded raking).",
)
@click.option("--target", type=float, help="Target share, e.g. 0.85, for the verdicts.")
@click.option("--level", type=float, default=0.95, show_default=True)
@click.option("--method", type=click.Choice(METHODS), default="linearization", show_default=True)
@click.option("--interval", type=click.Choice(INTERVALS), default="logit", show_default=True)
@click.option(
    "--replicates", type=int, default=500, show_default=True, help="Bootstrap replicates."
)
@click.option(
    "--df",
    "df_rule",
    type=click.Choice(DF_RULES),
    default="satterthwaite",
    show_default=True,
    help="Interval df: Satterthwaite (linearisation only) or PSUs - strata (R's degf).",
)
@click.option("--seed", type=int, help="Bootstrap seed (reported in the output).")
@click.option("--by", multiple=True, type=click.Choice(BY_CHOICES), help="Breakdown (repeatable).")
@click.option("--include-flagged", is_flag=True, help="Keep responses flagged as excluded.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "text", "xlsx"]),
    default="text",
    show_default=True,
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file.")
def analyze(
    responses_path,
    questionnaire_key,
    questionnaire_file,
    volumes_path,
    rake_paths,
    trim_factor,
    target,
    level,
    method,
    interval,
    replicates,
    seed,
    by,
    include_flagged,
    df_rule,
    fmt,
    output,
):
    """Satisfaction indices with confidence intervals and verdicts."""
    from questionnaires.errors import QuestionnaireError, QuestionnaireNotFound

    from . import engine, io
    from .errors import AnalysisInputError, ConvergenceError
    from .result import to_text, to_xlsx

    if fmt == "xlsx" and not output:
        _fail("--format xlsx needs -o FILE.xlsx")
    try:
        q = _questionnaire(questionnaire_key, questionnaire_file)
        responses = io.read_responses(responses_path)
        volumes = io.read_volumes(volumes_path) if volumes_path else None
        margins = [io.read_volumes(p) for p in rake_paths]
        if margins and volumes is None:
            volumes, margins = margins[0], margins[1:]
        result = engine.analyze(
            responses,
            q,
            volumes,
            margins=margins,
            trim_factor=trim_factor,
            target=target,
            level=level,
            method=method,
            interval=interval,
            replicates=replicates,
            seed=seed,
            by=by,
            include_flagged=include_flagged,
            df_rule=df_rule,
        )
    except (
        AnalysisInputError,
        ConvergenceError,
        QuestionnaireError,
        QuestionnaireNotFound,
        ValueError,
        OSError,
    ) as exc:
        _fail(str(exc))
    if fmt == "xlsx":
        to_xlsx(result, output)
        return
    text = (
        json.dumps(result, ensure_ascii=False, indent=2) + "\n"
        if fmt == "json"
        else (to_text(result))
    )
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        click.echo(text, nl=False)


@click.command("plan")
@click.option("--target", type=float, required=True, help="Target share, e.g. 0.85.")
@click.option("--expected", type=float, required=True, help="Expected share, e.g. 0.88.")
@click.option(
    "--alpha",
    type=float,
    default=0.05,
    show_default=True,
    help="1 - the interval's level (0.05: the reports' 95% interval).",
)
@click.option(
    "--one-sided",
    is_flag=True,
    help="Plan a one-sided test at level alpha instead of the reports' rule (fewer "
    "responses, less than the stated power for a report's verdict).",
)
@click.option("--power", type=float, default=0.8, show_default=True)
@click.option("--deff", type=float, default=1.0, show_default=True, help="Design effect.")
@click.option(
    "--format", "fmt", type=click.Choice(["json", "text"]), default="text", show_default=True
)
def plan(target, expected, alpha, one_sided, power, deff, fmt):
    """Responses needed for a verdict against a target.

    By default by the reports' rule: "Đạt" needs the two-sided (1 - alpha)
    interval entirely above the target, "Không đạt" entirely below it; the plan
    gives that the stated power if the true share is the expected one.
    """
    from .planner import sample_size

    sides = 1 if one_sided else 2
    try:
        res = sample_size(target, expected, alpha=alpha, power=power, deff=deff, sides=sides)
    except ValueError as exc:
        _fail(str(exc))
    above = res["direction"] == "above"
    if one_sided:
        rule = (
            f"one-sided test at level {alpha:g}, i.e. the {'lower' if above else 'upper'} "
            f"{100 * (1 - alpha):g}% confidence bound {'above' if above else 'below'} the "
            "target; not the reports' two-sided rule"
        )
    else:
        rule = (
            f"the two-sided {100 * (1 - alpha):g}% confidence interval lies entirely "
            f"{'above' if above else 'below'} the target, as a report's verdict requires"
        )
    res["rule"] = rule
    if fmt == "json":
        click.echo(json.dumps(res, indent=2))
        return
    click.echo(
        f"{res['n']} responses to show {100 * expected:g}% {'>' if above else '<'} "
        f"{100 * target:g}% (decision rule: {rule}; power {100 * power:g}%; "
        f"{res['n_srs']} before the design effect {deff:g})"
    )


@click.group()
def cli() -> None:
    """Standalone entry point: python -m analysis analyze|plan."""


cli.add_command(analyze)
cli.add_command(plan)
