"""The post-strata of a report and what they cover.

``weighting`` builds the desk × month post-strata of the counted responses
(``collapse``: a desk-month without a volume is prorated from the desk's other
months, a desk without any volume gets the mean weight, a month with
transactions but no response is absorbed by the desk's other months) and
``coverage`` states the share of transactions the responses stand for; the
notes name the desks and months treated.  docs/method.md states the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd
from sqlalchemy.orm import Session

from analysis.cell_table import COUNT
from survey.reports import inputs
from survey.reports.frame import Labels
from survey.reports.notes import Note
from survey.reports.selection import Selection


def desk_label(desk: str, desk_name: str, unit_name: str) -> str:
    """ "Quầy 1 – Hộ tịch (Phường Cam Ranh)": desk names repeat across units."""
    name = desk_name or desk
    return f"{name} ({unit_name})" if unit_name else name


@dataclass(frozen=True)
class CellTreatment:
    """How the responses of one desk were weighted (see ``collapse``).

    ``treatment``: "month" (one post-stratum per month, every month has a
    volume), "collapsed" (the months with a volume as such, the ``missing``
    ones in one post-stratum prorated from them) or "mean_weight" (no volume
    in any month: the mean weight).
    """

    desk: str
    months: tuple[str, ...]  # "YYYY-MM" with counted responses
    missing: tuple[str, ...]  # those without a (positive) volume
    treatment: str
    desk_name: str = ""
    unit: str = ""  # code of the unit the desk belongs to (its volume page)
    unit_name: str = ""

    @property
    def label(self) -> str:
        return desk_label(self.desk, self.desk_name, self.unit_name)

    def as_json(self) -> dict:
        return {
            "desk": self.desk,
            "desk_name": self.desk_name,
            "unit": self.unit,
            "months": list(self.months),
            "missing_months": list(self.missing),
            "treatment": self.treatment,
        }


@dataclass(frozen=True)
class Uncovered:
    """A desk whose transactions of some months have no counted response (see ``coverage``).

    ``treatment``: "absorbed" (the desk has responses in other months: its
    post-strata carry these months' transactions) or "not_represented" (no
    counted response in the whole period: outside what the estimate covers).
    """

    desk: str
    months: tuple[str, ...]
    volume: int
    treatment: str
    desk_name: str = ""
    unit: str = ""
    unit_name: str = ""

    @property
    def label(self) -> str:
        return desk_label(self.desk, self.desk_name, self.unit_name)

    def as_json(self) -> dict:
        return {
            "desk": self.desk,
            "desk_name": self.desk_name,
            "unit": self.unit,
            "months": list(self.months),
            "volume": self.volume,
            "treatment": self.treatment,
        }


@dataclass(frozen=True)
class Coverage:
    """Transactions of desk-months with a counted response over all of the selection's."""

    covered_volume: int
    total_volume: int
    # The transactions the weights stand for: covered plus absorbed months.
    represented_volume: int
    uncovered: tuple[Uncovered, ...]

    @property
    def share(self) -> float | None:
        return self.covered_volume / self.total_volume if self.total_volume > 0 else None

    @property
    def represented_share(self) -> float | None:
        return self.represented_volume / self.total_volume if self.total_volume > 0 else None

    def as_json(self) -> dict:
        return {
            "covered_volume": self.covered_volume,
            "total_volume": self.total_volume,
            "share": self.share,
            "represented_volume": self.represented_volume,
            "represented_share": self.represented_share,
            "uncovered": [u.as_json() for u in self.uncovered],
        }


@dataclass
class Weighting:
    """The post-strata of a report: ``table`` (``cell``, ``volume``) or None (equal weights)."""

    table: pd.DataFrame | None
    cells: pd.Series | None  # the post-stratum of every frame row
    notes: list[Note]
    desks: list[CellTreatment]
    coverage: Coverage | None = None


def _kept(frame: pd.DataFrame) -> pd.DataFrame:
    # A cell table (analysis.cell_table) counts its rows' respondents in "_n".
    cols = ["unit", "desk", "day", *([COUNT] if COUNT in frame else [])]
    kept = frame.loc[~frame["excluded"].astype(bool), cols]
    return kept.assign(month=kept["day"].dt.strftime("%Y-%m"))


def collapse(
    kept: pd.DataFrame, volumes: pd.DataFrame
) -> tuple[dict[tuple[str, str], str], pd.DataFrame | None, list[CellTreatment]]:
    """The post-strata of counted responses: desk-months, collapsed where a volume is missing.

    ``kept``: ``desk``, ``month`` ("YYYY-MM") per counted response; ``volumes``:
    ``desk``, ``month``, ``volume``.  Returns the cell of each (desk, month), the
    population table (``cell``, ``volume``; None when no desk has a volume:
    equal weights) and how each desk was treated:

    - every month of the desk with responses that has a volume: its own cell,
      its volume (a missing month elsewhere never changes these weights);
    - the desk's months without one (or with zero): collapsed into one cell
      whose population is the desk's volume over its months that have one,
      prorated: x (missing months / months with a volume), i.e. each missing
      month counts as the desk's mean month, and the desk's total is its known
      volume x (months with responses / months with a volume);
    - a desk with no volume in any month: one cell whose population is its
      respondents x the mean weight of the cells above (their population /
      their respondents), so its responses sit at the mean weight;
    - a month with a volume but no counted response of a desk that has counted
      responses in other months ("absorbed", see ``coverage``): its volume is
      spread over the desk's cells with a volume in proportion to theirs (if the
      desk has none, its months without a volume are prorated from these months),
      so the desk weighs all its transactions.

    A desk without any counted response is not represented: its volume stays out
    (``coverage`` reports it).
    """
    if COUNT in kept:
        counts = kept.groupby(["desk", "month"])[COUNT].sum()
        counts = counts[counts > 0]
    else:
        counts = kept.groupby(["desk", "month"]).size()
    known = volumes.groupby(["desk", "month"])["volume"].sum() if len(volumes) else pd.Series()
    cell_of: dict[tuple[str, str], str] = {}
    population: dict[str, float] = {}
    desks: list[CellTreatment] = []
    unweighted: list[tuple[str, list[str], int]] = []
    weighted_n = 0
    for desk, per_month in counts.groupby(level="desk", sort=True):
        months = sorted(str(m) for m in per_month.index.get_level_values("month"))
        have = [m for m in months if float(known.get((desk, m), 0) or 0) > 0]
        missing = tuple(m for m in months if m not in have)
        n_desk = int(per_month.sum())
        absorbed = _absorbed(known, str(desk), months)
        if not have and absorbed:
            # Only months without responses have a volume: they stand for the others.
            weighted_n += n_desk
            cell = f"{desk}|missing"
            total = sum(absorbed.values())
            population[cell] = total + total * len(missing) / len(absorbed)
            for m in missing:
                cell_of[(desk, m)] = cell
            desks.append(CellTreatment(str(desk), tuple(months), missing, "collapsed"))
            continue
        if not have:
            unweighted.append((str(desk), months, n_desk))
            desks.append(CellTreatment(str(desk), tuple(months), missing, "mean_weight"))
            continue
        weighted_n += n_desk
        have_total = float(sum(float(known[(desk, m)]) for m in have))
        scale = 1 + sum(absorbed.values()) / have_total
        for m in have:
            cell_of[(desk, m)] = cell = f"{desk}|{m}"
            population[cell] = float(known[(desk, m)]) * scale
        if not missing:
            desks.append(CellTreatment(str(desk), tuple(months), (), "month"))
            continue
        cell = f"{desk}|missing"
        population[cell] = have_total * len(missing) / len(have)
        for m in missing:
            cell_of[(desk, m)] = cell
        desks.append(CellTreatment(str(desk), tuple(months), missing, "collapsed"))
    if not population:
        return {}, None, desks
    mean_weight = sum(population.values()) / weighted_n
    for desk, months, n_desk in unweighted:
        cell = f"{desk}|mean"
        population[cell] = n_desk * mean_weight
        for m in months:
            cell_of[(desk, m)] = cell
    table = pd.DataFrame({"cell": list(population), "volume": list(population.values())})
    return cell_of, table, desks


def _absorbed(known: pd.Series, desk: str, months: list[str]) -> dict[str, float]:
    """The desk's positive volumes of months without a counted response."""
    if desk not in known.index.get_level_values(0):
        return {}
    return {str(m): float(v) for m, v in known.loc[desk].items() if v > 0 and str(m) not in months}


def coverage(kept: pd.DataFrame, volumes: pd.DataFrame) -> Coverage | None:
    """Which transactions have counted responses behind them (None without volumes).

    ``kept`` and ``volumes`` as for ``collapse``.  A desk-month is covered when it
    has a counted response; an uncovered month of a desk with responses in
    other months is absorbed by ``collapse``; a desk with a volume but no
    counted response in the period is not represented, and the estimate covers
    only the other desks.
    """
    positive = volumes.loc[volumes["volume"] > 0] if len(volumes) else volumes
    if positive.empty:
        return None
    per = positive.groupby(["desk", "month"])["volume"].sum()
    seen = set(zip(kept["desk"], kept["month"], strict=True))
    answered = set(kept["desk"])
    units = positive.groupby("desk")["unit"].first() if "unit" in positive else pd.Series()
    covered = 0
    absorbed = 0
    uncovered: dict[str, list[tuple[str, float]]] = {}
    for (desk, month), v in per.items():
        if (desk, month) in seen:
            covered += int(v)
            continue
        uncovered.setdefault(str(desk), []).append((str(month), float(v)))
        if desk in answered:
            absorbed += int(v)
    return Coverage(
        covered_volume=covered,
        total_volume=int(per.sum()),
        represented_volume=covered + absorbed,
        uncovered=tuple(
            Uncovered(
                desk,
                tuple(m for m, _v in months),
                int(sum(v for _m, v in months)),
                "absorbed" if desk in answered else "not_represented",
                unit=str(units.get(desk, "")),
            )
            for desk, months in sorted(uncovered.items())
        ),
    )


def coverage_notes(cov: Coverage) -> list[Note]:
    """The notes naming the uncovered desk-months and what was done with them."""
    out = []
    absorbed = [u for u in cov.uncovered if u.treatment == "absorbed"]
    if absorbed:
        out.append(
            Note(
                "absorbed_months",
                {
                    "n": sum(len(u.months) for u in absorbed),
                    "cells": [(u.label, u.months) for u in absorbed],
                },
            )
        )
    missing = [u for u in cov.uncovered if u.treatment == "not_represented"]
    if missing:
        out.append(
            Note(
                "unrepresented_desks",
                {
                    "n": len(missing),
                    "volume": sum(u.volume for u in missing),
                    "desks": ", ".join(u.label for u in missing),
                },
            )
        )
    return out


def with_names(session: Session, cov: Coverage, labels: Labels) -> Coverage:
    """``cov`` with desk and unit names (uncovered desks need not be in the frame)."""
    names = inputs.desk_names(session, [u.desk for u in cov.uncovered])
    named = []
    for u in cov.uncovered:
        name, ucode, uname = names.get(u.desk, (labels.desks.get(u.desk, u.desk), u.unit, ""))
        named.append(replace(u, desk_name=name, unit=u.unit or ucode, unit_name=uname))
    return replace(cov, uncovered=tuple(named))


def weighting(
    frame: pd.DataFrame, volumes: pd.DataFrame, sel: Selection, labels: Labels | None = None
) -> Weighting:
    """The post-strata of the report (``collapse``) and the notes that name the treated cells."""
    kept = _kept(frame)
    if kept.empty:
        return Weighting(None, None, [], [])
    cell_of, table, desks = collapse(kept, volumes)
    cov = coverage(kept, volumes)
    if labels is not None:
        desks = [
            CellTreatment(
                d.desk,
                d.months,
                d.missing,
                d.treatment,
                labels.desks.get(d.desk, d.desk),
                labels.desk_units.get(d.desk, ""),
                labels.units.get(labels.desk_units.get(d.desk, ""), ""),
            )
            for d in desks
        ]
    if table is None:
        return Weighting(None, None, [Note("no_volumes")], [])
    notes = []
    collapsed = [d for d in desks if d.treatment == "collapsed"]
    if collapsed:
        notes.append(
            Note(
                "collapsed_months",
                {
                    "n": sum(len(d.missing) for d in collapsed),
                    "cells": [(d.label, d.missing) for d in collapsed],
                },
            )
        )
    averaged = [d for d in desks if d.treatment == "mean_weight"]
    if averaged:
        notes.append(
            Note(
                "mean_weight_desks",
                {
                    "n": len(averaged),
                    "cells": [(d.label, d.months) for d in averaged],
                },
            )
        )
    return Weighting(table, cell_column(frame, cell_of), notes, desks, cov)


def cell_column(frame: pd.DataFrame, cell_of: dict[tuple[str, str], str]) -> pd.Series:
    """The post-stratum of each row (``desk``, ``day``) of a tidy frame, for ``analyze``."""
    months = pd.to_datetime(frame["day"]).dt.strftime("%Y-%m")
    cells = pd.Series(
        [cell_of.get(key, "") for key in zip(frame["desk"], months, strict=True)],
        index=frame.index,
        dtype=object,
    )
    # Only flagged responses (dropped before weighting) have no cell; any label will do.
    return cells.where(cells != "", "excluded")


def design_strata(table: pd.DataFrame | None) -> tuple[str, ...]:
    """The strata of a report's design: its post-strata when weighted, else desks.

    Each survey day (the PSU) lies in one desk-month and so in one post-stratum,
    which makes the post-strata a valid stratification.  Declaring them the
    strata takes the day-to-day variance within each desk-month as the sampling
    variance, where desk strata with post-strata inside understate it (issue 15;
    docs/method.md, "Intervals and degrees of freedom").
    """
    return ("cell",) if table is not None else ("desk",)
