"""A checked selection -> the ``Report``: the analysis result and the facts around it.

``build`` checks the selection against the user's scope (``selection.resolve``),
reads the tidy table, weights it to the transaction volumes of each desk and
month when every desk-month with responses has a volume (otherwise it falls back
to equal weights and says so in a note), judges the indices against the
targets that apply, and returns a ``Report``.  The dashboard, every export,
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
from questionnaires.model import Questionnaire
from survey.reports import inputs
from survey.reports.frame import Labels, Progress, read_frame
from survey.reports.inputs import Targets
from survey.reports.selection import Selection, resolve
from survey.services.access import Actor

LEVEL = 0.95
# Fewer responses than this: the estimate is shown, marked as a small sample.
SMALL_N = 30
BREAKDOWNS = ("unit", "desk", "sector", "sector_group", "month")


@dataclass(frozen=True)
class Note:
    code: str
    params: dict[str, Any] = field(default_factory=dict)


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
    table, notes = weighting(frame, volumes, sel)
    result = analyze(
        frame,
        sel.questionnaire,
        volumes=table,
        target=targets.overall.threshold,
        targets=targets.by,
        by=by,
        level=LEVEL,
    )
    if sel.other_versions:
        notes.append(Note("other_versions", {"n": sel.other_versions}))
    rate, rates = response_rates(inputs.response_counts(session, sel), volumes)
    if sel.sector is not None or sel.group is not None:
        rate, rates = None, {}
    notes += [Note("analysis", {"text": text}) for text in result["design"]["notes"]]
    return Report(
        selection=sel,
        result=result,
        labels=labels,
        targets=targets,
        weighted=table is not None,
        notes=notes,
        n_received=len(frame),
        rate=rate,
        rates=rates,
        comment_counts=inputs.comment_counts(session, sel),
        generated_at=datetime.now(UTC).replace(tzinfo=None),
    )


def _kept(frame: pd.DataFrame) -> pd.DataFrame:
    kept = frame.loc[~frame["excluded"], ["unit", "desk", "day"]]
    return kept.assign(month=kept["day"].dt.strftime("%Y-%m"))


def weighting(
    frame: pd.DataFrame, volumes: pd.DataFrame, sel: Selection
) -> tuple[pd.DataFrame | None, list[Note]]:
    """The desk x month volume table, or None (equal weights) with the reason."""
    kept = _kept(frame)
    if kept.empty:
        return None, []
    if volumes.empty:
        return None, [Note("no_volumes")]
    table = volumes.groupby(["desk", "month"], as_index=False)["volume"].sum()
    cells = kept[["desk", "month"]].drop_duplicates()
    merged = cells.merge(table, how="left", on=["desk", "month"])
    missing = merged[merged["volume"].isna() | (merged["volume"] <= 0)]
    if len(missing):
        examples = ", ".join(
            f"{d} {m[5:]}/{m[:4]}" for d, m in missing[["desk", "month"]].head(3).itertuples(False)
        )
        return None, [Note("missing_volumes", {"n": len(missing), "examples": examples})]
    notes = []
    if sel.sector is not None or sel.group is not None:
        notes.append(Note("sector_weights"))
    merged["volume"] = merged["volume"].astype("int64")
    return merged[["desk", "month", "volume"]], notes


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
