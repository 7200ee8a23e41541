"""A cell table (per-cell totals plus answer patterns) gives the numbers of its rows.

The report reads cells from SQL (survey/reports/cells_sql.py); here the cells are
summed in pandas from the R fixtures' rows (``cell_table.from_rows``) and every
figure of ``analyze`` must agree with the per-response path to 1e-9.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import analyze, read_responses, read_volumes
from analysis.cell_table import from_rows
from analysis.synthetic import questionnaire as synthetic_questionnaire
from analysis.synthetic import simulate
from tests.analysis.support import (
    REFERENCE,
    random_frame,
    ref_questionnaire,
    reference_weighting,
    standard_questionnaire,
)

TOL = 1e-9


def assert_same(a, b, path="result") -> None:
    """Equal structure; numbers within TOL (relative, absolute near 0)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{path}: keys differ"
        for k in a:
            if k == "seed":
                continue
            assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), f"{path}: lengths {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not isinstance(b, bool) and isinstance(b, int | float):
        if math.isnan(a):
            assert math.isnan(b), f"{path}: {a} != {b}"
        else:
            assert abs(a - b) <= TOL * max(1.0, abs(a)), f"{path}: {a!r} != {b!r}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def both(rows: pd.DataFrame, q, keys, *, part="share", pattern_keys=None, **kw):
    table, patterns = from_rows(rows, q, keys, part=part, pattern_keys=pattern_keys)
    return analyze(rows, q, **kw), analyze(table, q, patterns=patterns, **kw)


@pytest.fixture(scope="module")
def ref_rows() -> pd.DataFrame:
    return read_responses(REFERENCE / "responses.csv")


@pytest.mark.parametrize("case", ["unweighted", "poststratified", "raked"])
@pytest.mark.parametrize("interval", ["logit", "korn-graubard"])
def test_r_fixture_cells_match_rows(case, interval, ref_rows):
    kw = reference_weighting(case)
    rows, cells = both(
        ref_rows,
        ref_questionnaire(),
        ["unit", "desk", "sector", "day"],
        by=["desk", "sector", "unit", "month"],
        interval=interval,
        target=0.8,
        **kw,
    )
    assert rows["overall"]["deff_composite"] is not None
    assert_same(rows, cells)


def test_domain_and_month_patterns_match_rows(ref_rows):
    """A sector domain, patterns keyed by month (not day), the design df rule."""
    desk = read_volumes(REFERENCE / "volumes.csv")
    domain = ref_rows["sector"] == "S1"
    keys = ["unit", "desk", "sector", "day"]
    table, patterns = from_rows(
        ref_rows, ref_questionnaire(), keys, pattern_keys=["unit", "desk", "sector", "month"]
    )
    inside = table["sector"] == "S1"
    a = analyze(
        ref_rows, ref_questionnaire(), volumes=desk, domain=domain, by=["desk"], df_rule="design"
    )
    b = analyze(
        table,
        ref_questionnaire(),
        volumes=desk,
        domain=inside,
        by=["desk"],
        df_rule="design",
        patterns=patterns,
    )
    assert_same(a, b)


def test_flagged_rows_and_score_aggregation_match():
    q = standard_questionnaire()
    rows = random_frame(q, 600, seed=3, n_desks=5, n_days=7)
    rows["excluded"] = np.arange(len(rows)) % 11 == 0
    for include in (False, True):
        a, b = both(
            rows,
            q,
            ["unit", "desk", "sector", "day", "excluded"],
            part=None,
            by=["desk", "sector"],
            include_flagged=include,
            target=0.7,
        )
        assert a["n_excluded"] == (0 if include else int(rows["excluded"].sum()))
        assert_same(a, b)


def test_bootstrap_on_cells_resamples_the_same_psus(ref_rows):
    """Rao-Wu draws per PSU: the same seed gives the same replicates on cells."""
    desk = read_volumes(REFERENCE / "volumes.csv")
    a, b = both(
        ref_rows,
        ref_questionnaire(),
        ["unit", "desk", "sector", "day"],
        volumes=desk,
        method="bootstrap",
        replicates=50,
        seed=7,
        by=["desk"],
    )
    assert_same(a, b)


def test_cells_without_patterns_leave_only_the_composite_deff_out(ref_rows):
    q = ref_questionnaire()
    table, _ = from_rows(ref_rows, q, ["unit", "desk", "sector", "day"])
    a = analyze(ref_rows, q, by=["desk"])
    b = analyze(table, q, by=["desk"])
    assert b["overall"]["deff_composite"] is None
    assert abs(a["overall"]["se"] - b["overall"]["se"]) < TOL
    assert a["overall"]["ci_low"] == pytest.approx(b["overall"]["ci_low"], abs=TOL)


def test_synthetic_large_frame_cells_match():
    q = synthetic_questionnaire()
    rows, volumes = simulate(20_000, q, n_desks=8, n_days=30, seed=1)
    a, b = both(rows, q, ["unit", "desk", "sector", "day"], volumes=volumes, by=["desk", "sector"])
    assert_same(a, b)
