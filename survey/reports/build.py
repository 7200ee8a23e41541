"""A checked selection -> the ``Report``: the analysis result and the facts around it.

``build`` checks the selection against the user's scope (``selection.resolve``),
reads the tidy table (every form answered, unless one was picked), weights it
to the transaction volumes of each desk and month (``weighting``: a desk-month
without a volume is prorated from the desk's other months, a desk without any
volume gets the mean weight, and notes name them), judges the indices against
the targets that apply, and returns a ``Report``.  The dashboard, every export,
the public board and ``survey report`` use that one object, so they show the
same numbers.  Notes are codes with parameters; ``texts`` words them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from analysis import analyze
from analysis.verdict import MIN_RESPONSES
from questionnaires.model import Questionnaire
from survey.reports import inputs
from survey.reports.frame import Labels, Progress, read_frame
from survey.reports.inputs import Targets
from survey.reports.selection import Selection, resolve
from survey.services.access import Actor

LEVEL = 0.95
# Below the minimum design (analysis.verdict: fewer than this many responses, too
# few days) an estimate is shown greyed with its n, without interval or verdict.
SMALL_N = MIN_RESPONSES
BREAKDOWNS = ("unit", "desk", "sector", "sector_group", "month")


@dataclass(frozen=True)
class Note:
    code: str
    params: dict[str, Any] = field(default_factory=dict)


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
        """ "Quầy 1 – Hộ tịch (Phường Cam Ranh)": desk names repeat across units."""
        name = self.desk_name or self.desk
        return f"{name} ({self.unit_name})" if self.unit_name else name

    def as_json(self) -> dict:
        return {
            "desk": self.desk,
            "desk_name": self.desk_name,
            "unit": self.unit,
            "months": list(self.months),
            "missing_months": list(self.missing),
            "treatment": self.treatment,
        }


@dataclass
class Weighting:
    """The post-strata of a report: ``table`` (``cell``, ``volume``) or None (equal weights)."""

    table: pd.DataFrame | None
    cells: pd.Series | None  # the post-stratum of every frame row
    notes: list[Note]
    desks: list[CellTreatment]


@dataclass(frozen=True)
class Rate:
    """Responses over transactions, for the desk-months that have a volume."""

    responses: int
    volume: int

    @property
    def share(self) -> float | None:
        return self.responses / self.volume if self.volume > 0 else None


@dataclass
class Report:
    selection: Selection
    result: dict
    labels: Labels
    targets: Targets
    weighted: bool
    notes: list[Note]
    n_received: int
    rate: Rate | None
    rates: dict[str, dict[str, Rate]]
    comment_counts: dict[str, int]
    generated_at: datetime
    # How each desk's responses were weighted (empty when unweighted).
    weighting_cells: list[CellTreatment] = field(default_factory=list)

    @property
    def treated_cells(self) -> list[CellTreatment]:
        """The desks whose months were not all weighted by their own volume."""
        return [c for c in self.weighting_cells if c.treatment != "month"]

    @property
    def questionnaire(self) -> Questionnaire:
        return self.selection.questionnaire

    @property
    def overall(self) -> dict:
        return self.result["overall"]

    def ranked(self, name: str) -> list[dict]:
        """Breakdown entries best first; those without an estimate last."""
        entries = self.result["groups"].get(name, [])
        return sorted(
            entries,
            key=lambda e: (e["overall"]["estimate"] is None, -(e["overall"]["estimate"] or 0)),
        )

    def months(self) -> list[dict]:
        return sorted(self.result["groups"].get("month", []), key=lambda e: e["key"])

    def label(self, name: str, key: str) -> str:
        """The display name of a breakdown value (code when the name is unknown)."""
        table = {
            "unit": self.labels.units,
            "desk": self.labels.desks,
            "sector": self.labels.sectors,
            "sector_group": self.labels.groups,
        }.get(name, {})
        return table.get(key) or key


# --- building -------------------------------------------------------------------
def build(
    session: Session,
    user: Actor,
    *,
    today: date,
    action: str = "results.view",
    progress: Progress | None = None,
    **values: Any,
) -> Report:
    """Resolve the selection for ``user`` (Forbidden / SelectionError) and build its report."""
    sel = resolve(session, user, today=today, action=action, **values)
    return build_for(session, sel, progress=progress)


def build_for(
    session: Session,
    sel: Selection,
    progress: Progress | None = None,
    by: tuple[str, ...] = BREAKDOWNS,
) -> Report:
    """The report of an already checked selection (``by``: the breakdowns to estimate)."""
    frame, labels = read_frame(session, sel, progress)
    volumes = inputs.desk_volumes(session, sel)
    targets = inputs.targets_for(session, sel, frame)
    weights = weighting(frame, volumes, sel, labels)
    notes = list(weights.notes)
    if weights.table is not None:
        frame = frame.assign(cell=weights.cells)
    result = analyze(
        frame,
        sel.questionnaire,
        volumes=weights.table,
        target=targets.overall.threshold,
        targets=targets.by,
        by=by,
        level=LEVEL,
        # "Cần thêm N phiếu" only when the period had room for N more responses.
        population=float(volumes["volume"].sum()) if len(volumes) else None,
    )
    if sel.fallback:
        notes.append(
            Note(
                "forms_not_combined",
                {
                    "reason": sel.fallback,
                    "form": sel.form_key,
                    "forms": ", ".join(v.key for v, _n in sel.versions),
                    "n": sel.other_versions,
                },
            )
        )
    elif sel.picked:
        notes.append(Note("picked_form", {"form": sel.form_key, "n": sel.other_versions}))
    rate, rates = response_rates(inputs.response_counts(session, sel), volumes)
    if sel.sector is not None or sel.group is not None:
        rate, rates = None, {}
    return Report(
        selection=sel,
        result=result,
        labels=labels,
        targets=targets,
        weighted=weights.table is not None,
        notes=notes,
        n_received=sel.n_received,
        rate=rate,
        rates=rates,
        comment_counts=inputs.comment_counts(session, sel),
        generated_at=datetime.now(UTC).replace(tzinfo=None),
        weighting_cells=weights.desks,
    )


def _kept(frame: pd.DataFrame) -> pd.DataFrame:
    kept = frame.loc[~frame["excluded"], ["unit", "desk", "day"]]
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
      their respondents), so its responses sit at the mean weight.

    Volumes of months without responses stay out, as ``analysis`` leaves them out.
    """
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
        if not have:
            unweighted.append((str(desk), months, n_desk))
            desks.append(CellTreatment(str(desk), tuple(months), missing, "mean_weight"))
            continue
        weighted_n += n_desk
        for m in have:
            cell_of[(desk, m)] = cell = f"{desk}|{m}"
            population[cell] = float(known[(desk, m)])
        if not missing:
            desks.append(CellTreatment(str(desk), tuple(months), (), "month"))
            continue
        cell = f"{desk}|missing"
        total = float(sum(float(known[(desk, m)]) for m in have))
        population[cell] = total * len(missing) / len(have)
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


def weighting(
    frame: pd.DataFrame, volumes: pd.DataFrame, sel: Selection, labels: Labels | None = None
) -> Weighting:
    """The post-strata of the report (``collapse``) and the notes that name the treated cells."""
    kept = _kept(frame)
    if kept.empty:
        return Weighting(None, None, [], [])
    cell_of, table, desks = collapse(kept, volumes)
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
    if sel.sector is not None or sel.group is not None:
        notes.append(Note("sector_weights"))
    return Weighting(table, cell_column(frame, cell_of), notes, desks)


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


def response_rates(
    counts: pd.DataFrame, volumes: pd.DataFrame
) -> tuple[Rate | None, dict[str, dict[str, Rate]]]:
    """Responses per transaction overall, per desk and per unit (desk-months with a volume).

    ``counts``: counted responses per desk, unit and month (``inputs.response_counts``).
    """
    if volumes.empty:
        return None, {}
    counted = counts.merge(volumes[["desk", "month"]].drop_duplicates(), on=["desk", "month"])
    total = Rate(int(counted["n"].sum()), int(volumes["volume"].sum()))
    desk_n = counted.groupby("desk")["n"].sum()
    desk_v = volumes.groupby("desk")["volume"].sum()
    unit_n = counted.groupby("unit")["n"].sum()
    unit_v = volumes.groupby("unit")["volume"].sum()
    return total, {
        "desk": {k: Rate(int(desk_n.get(k, 0)), int(v)) for k, v in desk_v.items()},
        "unit": {k: Rate(int(unit_n.get(k, 0)), int(v)) for k, v in unit_v.items()},
    }
