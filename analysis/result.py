"""The result dictionary (JSON-ready) and its text and Excel renderings."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from questionnaires.model import Questionnaire

from .estimators import Structure
from .intervals import Inference, score_interval
from .notes import SINGLE_PSU_NO_SE, english
from .verdict import (
    CHUA_DU,
    direction,
    more_needed,
    p_value,
    plausible_more,
    too_small,
    verdict,
)

VERDICT_LABELS = {"dat": "Đạt", "khong_dat": "Không đạt", "chua_du_can_cu": "Chưa đủ căn cứ"}


@dataclass
class Context:
    struct: Structure
    questionnaire: Questionnaire
    level: float
    interval: str
    target: float | None

    @property
    def part(self) -> str:
        """Which ratio variable is the index: top-two-box share or 0..1 score."""
        return "share" if self.struct.aggregation == "top_two_box" else "score"

    @property
    def scale_range(self) -> tuple[int, int]:
        values = self.questionnaire.scale.values
        return min(values), max(values)


@dataclass(frozen=True)
class Basis:
    """What a domain's estimates rest on: its PSUs, strata, days and transactions."""

    n_psu: int
    n_strata: int
    thin_strata: int  # strata of the domain with too few PSUs (verdict.MIN_PSUS_PER_STRATUM)
    n_days: int | None  # survey days with responses (None without a day column)
    population: float | None  # transactions behind the domain, when known
    # The period is over: no further response can come, so none is counted.
    closed: bool = False


def _num(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def stat(inf: Inference, target: float | None, basis: Basis) -> dict[str, Any]:
    """S: estimate, interval, design effect and verdict of one share.

    Below the minimum design (``too_small`` lists why) the verdict is "chưa đủ căn
    cứ" and no further responses are counted; the interval stays in the numbers
    for the record, but ``adequate`` False tells every display not to show it.
    """
    reasons = too_small(inf.n, inf.df, basis.n_strata, basis.thin_strata)
    if any(n["code"] == SINGLE_PSU_NO_SE for n in inf.notes) and SINGLE_PSU_NO_SE not in reasons:
        reasons.append(SINGLE_PSU_NO_SE)
    more = more_needed(inf, target)
    if reasons:
        judged, more = (CHUA_DU if target is not None else None), None
    else:
        judged = verdict(inf, target)
        more = None if basis.closed and more else plausible_more(more, inf.n, basis.population)
    return {
        "estimate": _num(inf.estimate),
        "se": _num(inf.se),
        "ci_low": _num(inf.ci_low),
        "ci_high": _num(inf.ci_high),
        "df": inf.df,
        # The df of the interval's quantiles (Satterthwaite, at most df).
        "df_interval": _num(inf.df_used),
        "n": int(inf.n),
        "n_eff": _num(inf.n_eff),
        # Items: p (1 - p) / SE^2 based; composites: deff_composite against the SRS
        # variance of the composite score (intervals.infer); the other one is None.
        "deff": _num(inf.deff),
        "deff_composite": _num(inf.deff_composite),
        "target": target,
        "verdict": judged,
        "p_value": _num(p_value(inf, target)),
        "more_needed": more,
        "more_needed_direction": direction(inf, target) if more else None,
        "adequate": not reasons,
        "too_small": reasons,
        "notes": inf.notes,
    }


def _scores(ctx: Context, inf: Inference) -> dict[str, Any]:
    lo, hi = ctx.scale_range
    return {
        "mean_score": {k: _num(v) for k, v in score_interval(inf, lo, hi).items()},
        "score_100": {k: _num(v) for k, v in score_interval(inf, 0, 100).items()},
    }


def whole_sample(
    ctx: Context, named: dict[str, Inference], na_counts, blank_counts, basis: Basis
) -> dict:
    s, q, part, t, b = ctx.struct, ctx.questionnaire, ctx.part, ctx.target, basis
    out: dict[str, Any] = {"overall": stat(named[f"overall:{part}"], t, b)}
    out.update(_scores(ctx, named["overall:score"]))
    if q.overall_item is not None:
        j = s.overall_index
        out["overall_item"] = {
            "code": q.overall_item.code,
            **stat(named[f"overall_item:{part}"], t, b),
            "n_na": int(na_counts[j]),
            "n_blank": int(blank_counts[j]),
            **_scores(ctx, named["overall_item:score"]),
        }
    else:
        out["overall_item"] = None
    out["criteria"] = [
        {
            "code": c.code,
            "name": dict(c.name),
            "weight": c.weight,
            **stat(named[f"criterion:{c.code}:{part}"], t, b),
            **_scores(ctx, named[f"criterion:{c.code}:score"]),
        }
        for c in q.criteria
    ]
    pos = {code: j for j, code in enumerate(s.item_codes)}
    out["items"] = [
        {
            "code": it.code,
            "criterion": c.code,
            "weight": it.weight,
            **stat(named[f"item:{it.code}:{part}"], t, b),
            "n_na": int(na_counts[pos[it.code]]),
            "n_blank": int(blank_counts[pos[it.code]]),
            "mean_score": _scores(ctx, named[f"item:{it.code}:score"])["mean_score"],
        }
        for c in q.criteria
        for it in c.items
    ]
    return out


def group_entry(
    ctx: Context,
    key: str,
    n: int,
    named: dict[str, Inference],
    target: float | None,
    basis: Basis,
) -> dict:
    part = ctx.part
    return {
        "key": key,
        "n": n,
        "n_psu": basis.n_psu,
        "n_days": basis.n_days,
        "overall": stat(named[f"overall:{part}"], target, basis),
        **_scores(ctx, named["overall:score"]),
        "criteria": [
            {"code": c.code, **stat(named[f"criterion:{c.code}:{part}"], target, basis)}
            for c in ctx.questionnaire.criteria
        ],
    }


# --- text -------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.1f}%"


_DIRECTIONS = {"to_confirm_pass": "to confirm Đạt", "to_confirm_fail": "to confirm Không đạt"}


def _basis(s: dict) -> str:
    """Why an estimate is below the minimum design, in English ("" when it is not)."""
    return "; ".join(english(r) for r in s["too_small"])


def _row(name: str, s: dict) -> list[str]:
    shown = s["adequate"] and s["ci_low"] is not None
    ci = f"[{_pct(s['ci_low'])}, {_pct(s['ci_high'])}]" if shown else ""
    p = "" if s["p_value"] is None or not s["adequate"] else f"{s['p_value']:.3g}"
    more = ""
    if s["more_needed"]:
        more = f"{s['more_needed']} {_DIRECTIONS.get(s['more_needed_direction'], '')}".strip()
    d = s["deff"] if s.get("deff") is not None else s.get("deff_composite")
    deff = "" if d is None else f"{d:.2f}"
    return [
        name,
        str(s["n"]),
        _pct(s["estimate"]),
        ci,
        deff,
        VERDICT_LABELS.get(s["verdict"], ""),
        p,
        more,
        _basis(s),
    ]


def _table(rows: list[list[str]]) -> str:
    header = ["", "n", "estimate", "CI", "deff", "verdict", "p", "more", "too small"]
    rows = [header, *rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for k, r in enumerate(rows):
        cells = [r[0].ljust(widths[0])] + [c.rjust(widths[i]) for i, c in enumerate(r) if i]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def to_text(result: dict) -> str:
    d = result["design"]
    ms = result["mean_score"]["estimate"]
    head = [
        f"Questionnaire {result['questionnaire']}: {result['n_responses']} responses "
        f"({result['n_excluded']} excluded); method {result['method']}, "
        f"{d['interval']} {100 * result['level']:g}% intervals ({d['df_rule']} df), "
        f"design df {d['df']}",
        f"Design: {d['n_strata']} strata, {d['n_psu']} PSUs ({d['lonely_psu_strata']} "
        f"single-PSU strata), weighting {d['weighting']}, Kish deff {d['kish_deff']:.3f}",
    ]
    if ms is not None:
        head.append(f"Mean score {ms:.2f} / {result['score_100']['estimate']:.1f} of 100")
    rows = [_row("Overall index", result["overall"])]
    rows += [_row(f"  {c['code']}", c) for c in result["criteria"]]
    if result["overall_item"]:
        rows.append(_row(f"Overall item {result['overall_item']['code']}", result["overall_item"]))
    parts = [
        "\n".join(head),
        _table(rows),
        "Items",
        _table([_row(i["code"], i) for i in result["items"]]),
    ]
    for col, entries in result["groups"].items():
        parts.append(f"By {col}")
        parts.append(_table([_row(e["key"], e["overall"]) for e in entries]))
        parts.append(_versus_line(entries))
    notes = [english(n) for n in d["notes"]]
    if any(not s["adequate"] for s in _all_stats(result)):
        notes.append(
            "no verdict (Chưa đủ căn cứ), interval or count of further responses is given "
            "below the minimum design: see the 'too small' column"
        )
    if notes:
        parts.append("Notes:\n" + "\n".join(f"- {n}" for n in notes))
    return "\n\n".join(parts) + "\n"


def _versus_line(entries: list[dict]) -> str:
    """Which values differ from the overall index (analysis.compare, Holm-adjusted)."""
    flagged = [
        f"{e['key']} {e['vs_overall']['direction']}"
        for e in entries
        if (e.get("vs_overall") or {}).get("significant")
    ]
    compared = sum(1 for e in entries if e.get("vs_overall") is not None)
    return (
        f"Different from the overall index (two-sided, Holm-adjusted over {compared} "
        f"compared): {', '.join(flagged) or 'none'}"
    )


def _all_stats(result: dict):
    yield result["overall"]
    yield from result["criteria"]
    yield from result["items"]
    for entries in result["groups"].values():
        for e in entries:
            yield e["overall"]


# --- xlsx -------------------------------------------------------------------

_COLUMNS = [
    ("estimate", "0.0%"),
    ("ci_low", "0.0%"),
    ("ci_high", "0.0%"),
    ("se", "0.0000"),
    ("n", "0"),
    ("n_eff", "0.0"),
    ("deff", "0.00"),
    ("deff_composite", "0.00"),
    ("df", "0"),
    ("target", "0.0%"),
    ("verdict", None),
    ("p_value", "0.0000"),
    ("more_needed", "0"),
    ("more_needed_direction", None),
    ("too_small", None),
]


# survey/text.py's rule (analysis may not import survey; a test keeps the two
# equal): group keys come from the input CSV, and a control character there
# would make openpyxl refuse the file or write a broken one.
_NOT_IN_FILES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _clean(value):
    return _NOT_IN_FILES.sub("", value) if isinstance(value, str) else value


def _xlsx_value(s: dict, column: str):
    if column == "verdict":
        return VERDICT_LABELS.get(s["verdict"], s["verdict"])
    if column == "too_small":
        return _basis(s) or None
    if column == "more_needed_direction":
        return _DIRECTIONS.get(s[column])
    return s[column]


def to_xlsx(result: dict, path) -> None:
    """Write the result to an Excel workbook with real numbers and percent formats."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    bold = Font(bold=True)

    def sheet_rows(sheet, first: str, rows: list[tuple[str, dict]]):
        sheet.append([first] + [c for c, _ in _COLUMNS])
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        for name, s in rows:
            values = [_xlsx_value(s, c) for c, _ in _COLUMNS]
            sheet.append([_clean(name), *values])
            for cell, (_, fmt) in zip(sheet[sheet.max_row][1:], _COLUMNS, strict=True):
                if fmt:
                    cell.number_format = fmt
        sheet.column_dimensions["A"].width = 24

    rows = [("Overall index", result["overall"])]
    rows += [(c["code"], c) for c in result["criteria"]]
    if result["overall_item"]:
        rows.append((result["overall_item"]["code"], result["overall_item"]))
    sheet_rows(ws, "Estimate", rows)
    ws.append([])
    ws.append(["Questionnaire", result["questionnaire"]])
    ws.append(["Responses", result["n_responses"]])
    ws.append(["Excluded", result["n_excluded"]])
    ws.append(["Method", result["method"]])
    ws.append(["Level", result["level"]])
    ws.cell(ws.max_row, 2).number_format = "0%"
    ws.append(["Mean score (1-5)", result["mean_score"]["estimate"]])
    ws.cell(ws.max_row, 2).number_format = "0.00"
    ws.append(["Kish deff", result["design"]["kish_deff"]])
    ws.cell(ws.max_row, 2).number_format = "0.000"
    sheet_rows(wb.create_sheet("Items"), "Item", [(i["code"], i) for i in result["items"]])
    for col, entries in result["groups"].items():
        sheet_rows(
            wb.create_sheet(f"By {col}"[:31]), col, [(e["key"], e["overall"]) for e in entries]
        )
    notes = wb.create_sheet("Notes")
    for n in result["design"]["notes"]:
        notes.append([_clean(english(n))])
    wb.save(path)
