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

from analysis import analyze
from analysis.cell_table import COUNT
from analysis.verdict import MIN_RESPONSES
from questionnaires.model import Questionnaire
from survey import clock
from survey.config import settings
from survey.reports import inputs
from survey.reports.cells_sql import read_cells
from survey.reports.frame import SURVEY_CHANNEL, Labels, Progress, read_frame
from survey.reports.inputs import Targets
from survey.reports.notes import Note
from survey.reports.representativeness import (
    UNIT_SECTOR,
    SectorMargin,
    Sensitivity,
    converging,
    sector_margin,
    sensitivity,
)
from survey.reports.selection import Selection, resolve
from survey.reports.weighting import (
    CellTreatment,
    Coverage,
    coverage_notes,
    design_strata,
    weighting,
    with_names,
)
from survey.services.access import Actor

LEVEL = 0.95
# Below the minimum design (analysis.verdict: fewer than this many responses, too
# few days) an estimate is shown greyed with its n, without interval or verdict.
SMALL_N = MIN_RESPONSES
# "survey_channel": how the answers came in (QR at the desk, a per-case link, the
# desk's tablet, a file import; not the demographic "channel", how the citizen
# used the service); its labels are survey.reports.texts.CHANNELS.
BREAKDOWNS = ("unit", "desk", "sector", "sector_group", SURVEY_CHANNEL, "month")


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
    def generated_on(self) -> date:
        """The day the report was made, in the unit's time zone (not UTC's)."""
        return clock.local_day(self.generated_at, settings().TIMEZONE)

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
    cells: bool = True,
) -> Report:
    """The report of an already checked selection (``by``: the breakdowns to estimate).

    A sector or group selection reads and weights the frame of the selection
    without it (``whole_design``) and estimates the domain (``analyze(domain=)``).
    ``cells``: read per-cell totals and moments (``cells_sql``: closed months from
    their summaries, other days summed in SQL; the default), else one row per
    response (``read_frame``): the same numbers either way.
    """
    moments = None
    if cells:
        frame, moments, labels = read_cells(session, whole_design(sel))
        if progress is not None:
            progress(int(frame[COUNT].sum()))
    else:
        frame, labels = read_frame(session, whole_design(sel), progress, survey_channel=True)
    # Only the report's own analyze breaks down by channel; the overall-only checks
    # (raking, sensitivity) would refuse a column they are not told to use.
    channels = frame.pop(SURVEY_CHANNEL)
    counted = frame[[c for c in ("desk", "unit", "day", "excluded", COUNT) if c in frame]]
    volumes = inputs.desk_volumes(session, sel)
    targets = inputs.targets_for(session, sel, frame)
    weights = weighting(frame, volumes, sel, labels)
    notes = list(weights.notes)
    coverage = weights.coverage
    if coverage is not None and coverage.uncovered:
        coverage = with_names(session, coverage, labels)
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
    margin, margin_note = converging(frame, sel.questionnaire, weights.table, margin, labels)
    notes += margin_note
    if margin is None:  # not used, or raking to it did not converge
        frame = frame.drop(columns=[UNIT_SECTOR], errors="ignore")
    result = analyze(
        frame.assign(**{SURVEY_CHANNEL: channels}) if SURVEY_CHANNEL in by else frame,
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
        strata=design_strata(weights.table),
        moments=moments,
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
    # A sector or group has no transactions of its own to rate against.
    rate, rates = None, {}
    if sel.sector is None and sel.group is None:
        rate, rates = response_rates(inputs.response_counts(counted), volumes)
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
