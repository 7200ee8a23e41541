"""A checked selection -> the ``Report``: the analysis result and the facts around it.

``build`` checks the selection against the user's scope (``selection.resolve``),
reads the tidy table (every form answered, unless one was picked), weights it
to the transaction volumes of each desk and month (``weighting``: a desk-month
without a volume is prorated from the desk's other months, a desk without any
volume gets the mean weight, a month with transactions but no response is
absorbed by the desk's other months, and notes name them), judges the indices
against the targets that apply, and returns a ``Report``.  A sector or sector
group is a domain of that design: the frame and the weights are those of the
report without the filter, the estimates are of the domain's responses only,
so the filtered report equals that row of the unfiltered one.  The dashboard, every export,
the public board and ``survey report`` use that one object, so they show the
same numbers.  Notes are codes with parameters; ``texts`` words them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from analysis import ConvergenceError, analyze
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
        name = self.desk_name or self.desk
        return f"{name} ({self.unit_name})" if self.unit_name else name

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
    # Which transactions the weighted responses stand for (None without volumes).
    coverage: Coverage | None = None
    # The second margin (unit × sector volumes) when it was used, and the overall
    # index under other weightings (``sensitivity``).
    sector_margin: SectorMargin | None = None
    sensitivity: Sensitivity | None = None

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
    """The report of an already checked selection (``by``: the breakdowns to estimate).

    A sector or group selection reads and weights the frame of the selection
    without it (``whole_design``) and estimates the domain (``analyze(domain=)``).
    """
    frame, labels = read_frame(session, whole_design(sel), progress)
    volumes = inputs.desk_volumes(session, sel)
    targets = inputs.targets_for(session, sel, frame)
    weights = weighting(frame, volumes, sel, labels)
    notes = list(weights.notes)
    coverage = weights.coverage
    if coverage is not None and coverage.uncovered:
        coverage = _named(session, coverage, labels)
        notes.extend(coverage_notes(coverage))
    domain = in_domain(frame, sel)
    if domain is not None:
        notes.append(Note("sector_domain"))
    margin = None
    if weights.table is not None:
        frame = frame.assign(cell=weights.cells)
        # A unit's sector shares describe all its desks, not one of them.
        if sel.desk is None:
            margin = sector_margin(frame, weights.table, inputs.sector_volumes(session, sel))
        if margin is not None:
            frame = frame.assign(**{UNIT_SECTOR: margin.column})
    margin, margin_note = _converging(frame, sel.questionnaire, weights.table, margin, labels)
    notes += margin_note
    if margin is None:  # not used, or raking to it did not converge
        frame = frame.drop(columns=[UNIT_SECTOR], errors="ignore")
    result = analyze(
        frame,
        sel.questionnaire,
        volumes=weights.table,
        margins=[margin.table] if margin is not None else [],
        target=targets.overall.threshold,
        targets=targets.by,
        by=by,
        level=LEVEL,
        # "Cần thêm N phiếu" only while the period is open and had room for N more.
        population=float(volumes["volume"].sum()) if len(volumes) else None,
        closed=sel.closed,
        domain=domain,
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
        coverage=coverage,
        sector_margin=margin,
        sensitivity=sensitivity(frame, sel.questionnaire, result, weights.table, margin, domain),
    )


def whole_design(sel: Selection) -> Selection:
    """The selection whose responses are weighted: ``sel`` without its sector or group."""
    if sel.sector is None and sel.group is None:
        return sel
    return replace(sel, sector=None, group=None)


def in_domain(frame: pd.DataFrame, sel: Selection) -> pd.Series | None:
    """Whether each frame row is in the selection's sector / group (None: no such filter)."""
    if sel.sector is None and sel.group is None:
        return None
    inside = pd.Series(True, index=frame.index)
    if sel.sector is not None:
        inside &= frame["sector"] == sel.sector.code
    if sel.group is not None:
        inside &= frame["sector_group"] == sel.group.code
    return inside


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
      their respondents), so its responses sit at the mean weight;
    - a month with a volume but no counted response of a desk that has counted
      responses in other months ("absorbed", see ``coverage``): its volume is
      spread over the desk's cells with a volume in proportion to theirs (if the
      desk has none, its months without a volume are prorated from these months),
      so the desk weighs all its transactions.

    A desk without any counted response is not represented: its volume stays out
    (``coverage`` reports it).
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


def _named(session: Session, cov: Coverage, labels: Labels) -> Coverage:
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


# --- representativeness -------------------------------------------------------------
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
    w0 = cells.map(population / cells.value_counts()).astype(float)
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
        n_rest=int((~known & units.isin(used)).sum()),
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


def _converging(
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
        analyze(frame, questionnaire, volumes=table, margins=[margin.table], level=LEVEL)
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
        out = analyze(rows, questionnaire, level=LEVEL, domain=domain, **weighting)
        return out["overall"]["estimate"]

    cells_only = overall([UNIT_SECTOR], volumes=table) if margin is not None else None
    return Sensitivity(result["overall"]["estimate"], overall(["cell", UNIT_SECTOR]), cells_only)
