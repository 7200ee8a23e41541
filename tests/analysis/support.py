"""Questionnaires built in Python and small response tables for the analysis tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from questionnaires.model import Criterion, Item, Questionnaire, Scale, ScalePoint

REFERENCE = Path(__file__).parent / "reference"
_T = {"vi": "x", "en": "x"}


def make_questionnaire(
    spec: list[tuple[str, float, list[tuple[str, float]]]],
    *,
    overall: str | None = "HL",
    aggregation: str = "top_two_box",
    qid: str = "test",
) -> Questionnaire:
    """spec: [(criterion code, weight, [(item code, weight), ...]), ...]."""
    scale = Scale(
        points=tuple(ScalePoint(v, {"vi": str(v), "en": str(v)}) for v in range(1, 6)),
        na_label={"vi": "Không áp dụng", "en": "Not applicable"},
    )
    criteria = tuple(
        Criterion(
            code=code,
            name={"vi": f"Tiêu chí {code}", "en": f"Criterion {code}"},
            weight=weight,
            items=tuple(Item(code=ic, text=_T, weight=iw) for ic, iw in items),
        )
        for code, weight, items in spec
    )
    return Questionnaire(
        id=qid,
        version=1,
        title=_T,
        scale=scale,
        criteria=criteria,
        overall_item=Item(code=overall, text=_T) if overall else None,
        aggregation=aggregation,
    )


def reference_weighting(case: str) -> dict:
    """``analyze`` keywords of the R fixtures' three designs (make_reference.R)."""
    from analysis import read_volumes

    if case == "unweighted":
        return {}
    desk = read_volumes(REFERENCE / "volumes.csv")
    if case == "poststratified":
        return {"volumes": desk}
    return {"volumes": desk, "margins": [read_volumes(REFERENCE / "volumes_sector.csv")]}


def ref_questionnaire() -> Questionnaire:
    """The questionnaire of reference/make_reference.R."""
    return make_questionnaire(
        [
            ("A", 1.0, [("A1", 1.0), ("A2", 1.0)]),
            ("B", 2.0, [("B1", 1.0), ("B2", 1.0), ("B3", 2.0)]),
            ("C", 1.0, [("C1", 1.0)]),
        ],
        qid="ref",
    )


def standard_questionnaire() -> Questionnaire:
    """Six criteria, 22 items, like the national form."""
    sizes = [4, 4, 3, 4, 4, 3]
    codes = ["TC", "DK", "TT", "CC", "KQ", "PA"]
    return make_questionnaire(
        [
            (c, 1.0, [(f"{c}{j + 1}", 1.0) for j in range(size)])
            for c, size in zip(codes, sizes, strict=True)
        ],
        qid="standard",
    )


def small_questionnaire() -> Questionnaire:
    return make_questionnaire(
        [("P", 1.0, [("P1", 1.0), ("P2", 1.0)]), ("Q", 1.0, [("Q1", 1.0)])], qid="small"
    )


def small_frame(values: dict[str, list], *, desks=None, days=None) -> pd.DataFrame:
    """A text table like the CSV: item columns from ``values``, design columns filled."""
    n = len(next(iter(values.values())))
    desks = desks or [["D1", "D2"][i % 2] for i in range(n)]
    days = days or [f"2025-01-{1 + i % 3:02d}" for i in range(n)]
    df = pd.DataFrame(
        {
            "response_id": [f"r{i}" for i in range(n)],
            "unit": ["U1"] * n,
            "desk": desks,
            "sector": [["S1", "S2"][i % 2] for i in range(n)],
            "day": days,
        }
    )
    for code, col in values.items():
        df[code] = [str(v) for v in col]
    return df


def random_frame(q: Questionnaire, n: int, seed: int = 0, n_desks: int = 4, n_days: int = 5):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "response_id": np.arange(n).astype(str),
            "unit": rng.choice(["U1", "U2"], n),
            "desk": rng.choice([f"D{i}" for i in range(n_desks)], n),
            "sector": rng.choice(["S1", "S2", "S3"], n),
            "day": [f"2025-02-{d:02d}" for d in rng.integers(1, n_days + 1, n)],
        }
    )
    choices = np.array(["1", "2", "3", "4", "5", "5", "4", "4", "NA", ""])
    for code in q.all_item_codes():
        df[code] = rng.choice(choices, n)
    return df


# --- comparisons with the R reference fixtures ------------------------------------------
R_TOL = 1e-9


def close_to_r(a: float, b: float, tol: float = R_TOL) -> bool:
    """Agreement with an R figure: ``tol`` relative, absolute below 1."""
    return abs(a - b) <= tol * max(abs(b), 1.0)


def r_entry(result: dict, by: str, key: str, estimand: str) -> dict | None:
    """The stat of ``result`` that an R fixture row names ("criterion:B:share", by, key).

    Breakdown values report the overall index and the criteria' shares only:
    None for the other estimands there.
    """
    base, _, part = estimand.rpartition(":")
    if by:
        group = next(e for e in result["groups"][by] if e["key"] == key)
        if base == "overall":
            return group["overall"] if part == "share" else group["mean_score"]
        if base.startswith("criterion:") and part == "share":
            return next(c for c in group["criteria"] if c["code"] == base.split(":")[1])
        return None
    if base == "overall":
        return result["overall"] if part == "share" else result["mean_score"]
    kind, _, code = base.partition(":")
    if kind == "overall_item":
        entry = result["overall_item"]
    else:
        rows = result["criteria"] if kind == "criterion" else result["items"]
        entry = next(r for r in rows if r["code"] == code)
    return entry if part == "share" else entry["mean_score"]
