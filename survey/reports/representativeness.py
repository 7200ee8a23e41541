"""Representativeness: a unit × sector calibration margin and a sensitivity figure.

Where units imported unit × sector volumes, ``sector_margin`` builds a second
raking margin beside the desk × month post-strata; ``sensitivity`` gives the
overall index under simpler weightings, so a report states how much its
figure depends on the weights.  docs/method.md, "Representativeness".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis import ConvergenceError, analyze
from analysis.cell_table import COUNT
from questionnaires.model import Questionnaire
from survey.reports.frame import Labels
from survey.reports.notes import Note
from survey.reports.weighting import design_strata

UNIT_SECTOR = "unit_sector"  # the frame column of the sector margin
REST = "_REST"  # a unit's responses without a sector, or of a sector without a volume


@dataclass
class SectorMargin:
    """The unit × sector margin raked to beside the desk × month post-strata.

    ``table``: ``unit_sector`` ("unit|sector", "unit|_REST"), ``volume``;
    ``column``: the category of every frame row; ``units``: the units whose
    sector volumes were used; ``n_rest``: their counted responses outside it.
    """

    table: pd.DataFrame
    column: pd.Series
    units: tuple[str, ...]
    n_rest: int


@dataclass(frozen=True)
class Sensitivity:
    """The overall index as reported and under simpler weightings, same responses.

    ``cells_only``: desk × month weights without the sector margin (None when no
    sector margin was used).  ``difference``: the largest distance from the
    reported index, in share points.
    """

    weighted: float | None
    unweighted: float | None
    cells_only: float | None = None

    @property
    def difference(self) -> float | None:
        others = [v for v in (self.unweighted, self.cells_only) if v is not None]
        if self.weighted is None or not others:
            return None
        return max(abs(v - self.weighted) for v in others)

    def as_json(self) -> dict:
        return {
            "weighted": self.weighted,
            "unweighted": self.unweighted,
            "cells_only": self.cells_only,
            "difference": self.difference,
        }


def sector_margin(
    frame: pd.DataFrame, table: pd.DataFrame, volumes: pd.DataFrame
) -> SectorMargin | None:
    """The unit × sector margin, or None where no unit has sector volumes to use.

    ``frame``: the tidy frame with its ``cell``; ``table``: the post-strata
    (``collapse``); ``volumes``: ``inputs.sector_volumes``.  The two sources need
    not add up to the same totals, so a unit's sector volumes (over the months it
    has counted responses in) only give shares, within each group of its desks
    that share sectors (desks and sectors linked by a response, ``_components``):
    the group keeps the total the desk × month weights give its responses, and
    the sectors share it in proportion to their volumes.  (Scaling over the whole
    unit instead would ask a sector served by one desk for another total than
    the desk's, which no weights can meet.)  Responses without a sector or of a
    sector without a volume keep their post-stratified total ("unit|_REST").
    A unit without a group of two sectors or more is one category, which the
    desk × month margin already fixes.
    """
    if volumes.empty:
        return None
    flagged = (
        frame["excluded"].astype(bool) if "excluded" in frame else pd.Series(False, frame.index)
    )
    counted = frame.loc[~flagged]
    if counted.empty:
        return None
    cells = counted["cell"].astype(str)
    population = table.set_index("cell")["volume"]
    # Respondents per row: 1, or a cell table's count (analysis.cell_table).
    n = counted[COUNT].astype(float) if COUNT in counted else pd.Series(1.0, counted.index)
    # w0: the row's respondents' total post-stratified weight.
    w0 = cells.map(population / n.groupby(cells).sum()).astype(float) * n
    units = counted["unit"].astype(str)
    desks = counted["desk"].astype(str)
    sectors = counted["sector"].astype(str)
    months = pd.to_datetime(counted["day"]).dt.strftime("%Y-%m")
    seen = set(zip(units, months, strict=True))
    keep = [(u, m) in seen for u, m in zip(volumes["unit"], volumes["month"], strict=True)]
    shares = volumes.loc[keep].groupby(["unit", "sector"])["volume"].sum()
    shares = shares[shares > 0]
    known = pd.Series(
        [(u, s) in shares.index for u, s in zip(units, sectors, strict=True)], index=counted.index
    )
    groups = _components(units[known], desks[known], sectors[known])
    per_group = sectors[known].groupby(groups).nunique()
    used = sorted({g.split("|")[0] for g, k in per_group.items() if k >= 2})
    if not used:
        return None
    known &= units.isin(used)
    category = (units + "|" + sectors).where(known, units + "|" + REST)
    totals: dict[str, float] = {}
    for unit, w_unit in w0.groupby(units):
        rest = w0[(units == unit) & ~known]
        if unit not in used or len(rest):
            totals[f"{unit}|{REST}"] = float(rest.sum()) if unit in used else float(w_unit.sum())
    for _group, rows in counted.loc[known].groupby(groups[known]):
        unit = str(rows["unit"].iat[0])
        present = sorted(set(rows["sector"].astype(str)))
        vol = shares.loc[[(unit, s) for s in present]].to_numpy(dtype=float)
        group_total = float(w0[rows.index].sum())
        for sector, v in zip(present, vol, strict=True):
            totals[f"{unit}|{sector}"] = group_total * v / vol.sum()
    column = pd.Series("excluded", index=frame.index, dtype=object)
    column[counted.index] = category
    return SectorMargin(
        table=pd.DataFrame({UNIT_SECTOR: list(totals), "volume": list(totals.values())}),
        column=column,
        units=tuple(used),
        n_rest=int(n[~known & units.isin(used)].sum()),
    )


def _components(units: pd.Series, desks: pd.Series, sectors: pd.Series) -> pd.Series:
    """Per row, its group within the unit: desks linked through the sectors they answer in.

    Labels "unit|n"; a sector lies in one group only, so its margin category
    ("unit|sector") is the group's.
    """
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(x: tuple[str, str]) -> tuple[str, str]:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for unit, desk, sector in set(zip(units, desks, sectors, strict=True)):
        a, b = find(("d", f"{unit}|{desk}")), find(("s", f"{unit}|{sector}"))
        if a != b:
            parent[b] = a
    roots: dict[tuple[str, str], str] = {}
    labels = []
    for unit, desk in zip(units, desks, strict=True):
        root = find(("d", f"{unit}|{desk}"))
        labels.append(roots.setdefault(root, f"{unit}|{len(roots)}"))
    return pd.Series(labels, index=units.index, dtype=object)


def converging(
    frame: pd.DataFrame,
    questionnaire: Questionnaire,
    table: pd.DataFrame | None,
    margin: SectorMargin | None,
    labels: Labels,
) -> tuple[SectorMargin | None, list[Note]]:
    """The sector margin if raking to it converges, else None and a note saying so.

    The check is an overall-only ``analyze`` (no breakdowns): cheap, and it
    leaves the report's own call unchanged.
    """
    if margin is None:
        return None, []
    units = ", ".join(labels.units.get(u) or u for u in margin.units)
    try:
        analyze(
            frame,
            questionnaire,
            volumes=table,
            margins=[margin.table],
            strata=design_strata(table),
        )
    except ConvergenceError:
        return None, [Note("sector_margin_failed", {"units": units})]
    return margin, [Note("sector_margin", {"units": units, "n": margin.n_rest})]


def sensitivity(
    frame: pd.DataFrame,
    questionnaire: Questionnaire,
    result: dict,
    table: pd.DataFrame | None,
    margin: SectorMargin | None,
    domain: pd.Series | None = None,
) -> Sensitivity | None:
    """The overall index unweighted and, with a sector margin, on desk × month alone.

    Same responses and the same domain (a sector selection) as the report; only
    the overall index (no breakdowns), so each costs one cheap ``analyze``.
    """
    if table is None:  # already unweighted: nothing to compare
        return None

    def overall(drop: list[str], **weighting: Any) -> float | None:
        # analyze refuses columns it is not told to use (a mistyped item, usually).
        rows = frame.drop(columns=drop, errors="ignore")
        out = analyze(rows, questionnaire, domain=domain, **weighting)
        return out["overall"]["estimate"]

    cells_only = (
        overall([UNIT_SECTOR], volumes=table, strata=design_strata(table))
        if margin is not None
        else None
    )
    return Sensitivity(result["overall"]["estimate"], overall(["cell", UNIT_SECTOR]), cells_only)
