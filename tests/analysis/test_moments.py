"""Moments per coarse cell give the composites' SRS variance of the rows they sum.

``cell_table.Moments`` replaces the answer patterns (about one row per respondent)
by R x J x J sums; every figure of ``analyze`` must agree with the per-response
path to 1e-9, and moments of row subsets must add up to the moments of all rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import AnalysisInputError, analyze, cell_table, read_responses, read_volumes
from analysis.cell_table import COUNT, Moments, from_rows, moments_from_patterns
from analysis.synthetic import questionnaire as synthetic_questionnaire
from analysis.synthetic import simulate
from tests.analysis.support import (
    REFERENCE,
    make_questionnaire,
    random_frame,
    ref_questionnaire,
    reference_weighting,
    standard_questionnaire,
)
from tests.analysis.test_cells_input import assert_same

KEYS = ["unit", "desk", "sector", "day"]
MONTH_KEYS = ["unit", "desk", "sector", "month"]


def both(rows: pd.DataFrame, q, keys, *, pattern_keys=None, **kw):
    """(per-response result, cell table + moments result)."""
    table, moments = from_rows(rows, q, keys, pattern_keys=pattern_keys, moments=True)
    assert isinstance(moments, Moments)
    return analyze(rows, q, **kw), analyze(table, q, moments=moments, **kw)


def score_questionnaire():
    """The reference form with the mean-score index and unequal weights."""
    return make_questionnaire(
        [
            ("A", 1.0, [("A1", 1.0), ("A2", 3.0)]),
            ("B", 2.0, [("B1", 1.0), ("B2", 1.0), ("B3", 2.0)]),
            ("C", 1.0, [("C1", 1.0)]),
        ],
        aggregation="mean",
        qid="score",
    )


def assert_equal_moments(a: Moments, b: Moments) -> None:
    a, b = a.collapsed(), b.collapsed()
    assert a.part == b.part
    pd.testing.assert_frame_equal(a.keys, b.keys)
    for name in ("n", "aa", "ya", "yy"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.fixture(scope="module")
def ref_rows() -> pd.DataFrame:
    return read_responses(REFERENCE / "responses.csv")


@pytest.mark.parametrize("case", ["unweighted", "poststratified", "raked"])
@pytest.mark.parametrize("pattern_keys", [None, MONTH_KEYS])
def test_r_fixture_moments_match_rows(case, pattern_keys, ref_rows):
    kw = reference_weighting(case)
    rows, cells = both(
        ref_rows,
        ref_questionnaire(),
        KEYS,
        pattern_keys=pattern_keys,
        by=["desk", "sector", "unit", "month"],
        target=0.8,
        **kw,
    )
    assert rows["overall"]["deff_composite"] is not None
    assert rows["groups"]["desk"][0]["overall"]["deff_composite"] is not None
    assert_same(rows, cells)


def test_score_part_with_poststratification_matches(ref_rows):
    q = score_questionnaire()
    desk = read_volumes(REFERENCE / "volumes.csv")
    rows, cells = both(
        ref_rows, q, KEYS, pattern_keys=MONTH_KEYS, volumes=desk, by=["desk", "sector", "month"]
    )
    assert rows["overall"]["deff_composite"] is not None
    assert rows["items"][0]["deff_composite"] is not None  # score items have one too
    assert_same(rows, cells)


@pytest.mark.parametrize("aggregation", ["top_two_box", "mean"])
@pytest.mark.parametrize("include", [False, True])
def test_random_frame_with_na_blanks_flags_and_weights(aggregation, include):
    base = standard_questionnaire()
    q = make_questionnaire(
        [(c.code, c.weight, [(it.code, it.weight) for it in c.items]) for c in base.criteria],
        aggregation=aggregation,
        overall=None,
        qid="standard",
    )
    rows = random_frame(q, 900, seed=5, n_desks=5, n_days=28)
    march = np.arange(len(rows)) % 3 == 0  # two months for the month breakdown
    rows["day"] = rows["day"].where(~march, rows["day"].str.replace("2025-02", "2025-03"))
    rows["excluded"] = np.arange(len(rows)) % 13 == 0
    rows["weight"] = np.where(rows["sector"] == "S1", 2.0, 1.0)
    volumes = pd.DataFrame(
        {"desk": [f"D{i}" for i in range(5)], "volume": [5e3, 900, 2e3, 4e2, 1e4]}
    )
    keys = ["unit", "desk", "sector", "day", "excluded", "weight"]
    a, b = both(
        rows,
        q,
        keys,
        pattern_keys=["unit", "desk", "sector", "month", "excluded", "weight"],
        volumes=volumes,
        by=["desk", "sector", "month"],
        include_flagged=include,
        target=0.7,
    )
    assert a["overall"]["deff_composite"] is not None
    assert_same(a, b)


def test_sector_domain_matches(ref_rows):
    desk = read_volumes(REFERENCE / "volumes.csv")
    q = ref_questionnaire()
    table, moments = from_rows(ref_rows, q, KEYS, pattern_keys=MONTH_KEYS, moments=True)
    a = analyze(ref_rows, q, volumes=desk, domain=ref_rows["sector"] == "S1", by=["desk"])
    b = analyze(
        table, q, volumes=desk, domain=table["sector"] == "S1", by=["desk"], moments=moments
    )
    assert_same(a, b)


def test_synthetic_frame_big_cells_match():
    """Cells of hundreds of respondents: the per-cell BLAS products."""
    q = synthetic_questionnaire()
    rows, volumes = simulate(20_000, q, n_desks=8, n_days=30, seed=1)
    table, moments = from_rows(rows, q, KEYS, pattern_keys=MONTH_KEYS, moments=True)
    assert (moments.n >= cell_table._BLAS_MIN).sum() > len(moments) / 2
    a = analyze(rows, q, volumes=volumes, by=["desk", "sector"])
    b = analyze(table, q, volumes=volumes, by=["desk", "sector"], moments=moments)
    assert_same(a, b)


def test_moments_of_two_row_halves_add_up(ref_rows):
    q = ref_questionnaire()
    rng = np.random.default_rng(0)
    first = rng.random(len(ref_rows)) < 0.5  # by rows: most keys fall in both halves
    _, whole = from_rows(ref_rows, q, KEYS, pattern_keys=MONTH_KEYS, moments=True)
    _, m1 = from_rows(ref_rows[first], q, KEYS, pattern_keys=MONTH_KEYS, moments=True)
    _, m2 = from_rows(ref_rows[~first], q, KEYS, pattern_keys=MONTH_KEYS, moments=True)
    shared = m1.keys.merge(m2.keys, on=MONTH_KEYS)
    assert len(shared) > 0
    summed = Moments.concat([m1, m2])
    assert len(summed) == len(whole) < len(m1) + len(m2)
    assert_equal_moments(summed, whole)
    table, _ = from_rows(ref_rows, q, KEYS)
    a = analyze(ref_rows, q, by=["desk", "month"])
    b = analyze(table, q, by=["desk", "month"], moments=summed)
    assert_same(a, b)


def test_moments_have_one_row_per_coarse_cell():
    q = standard_questionnaire()
    rows = random_frame(q, 2_000, seed=2, n_desks=4, n_days=20)
    _, patterns = from_rows(rows, q, KEYS, pattern_keys=["desk", "month"], part="share")
    m = moments_from_patterns(patterns, q, "share")
    j = len(q.all_item_codes())
    cells = rows.assign(month=rows["day"].str[:7])[["desk", "month"]].drop_duplicates()
    assert len(patterns) > 10 * len(cells)  # about one pattern per respondent
    assert len(m) == len(cells) == 4
    assert m.aa.shape == m.ya.shape == m.yy.shape == (len(cells), j, j)
    assert m.n.sum() == len(rows) and m.aa.dtype == np.int64
    # Diagonals are the answered and satisfied counts.
    x = rows[q.all_item_codes()[0]]
    d0 = m.keys["desk"] == "D0"
    in_d0 = rows["desk"] == "D0"
    answered = x.isin(list("12345"))
    assert m.aa[d0.to_numpy(), 0, 0].sum() == (answered & in_d0).sum()
    assert m.yy[d0.to_numpy(), 0, 0].sum() == (x.isin(["4", "5"]) & in_d0).sum()


@pytest.mark.parametrize("part", ["share", "score"])
def test_grouped_sums_equal_brute_force(part, monkeypatch):
    """Both the per-cell and the chunked outer-product paths, cut mid-way."""
    q = standard_questionnaire()
    rows = random_frame(q, 1_500, seed=9, n_desks=6, n_days=9)
    _, patterns = from_rows(rows, q, KEYS)
    sizes = patterns.groupby(KEYS)[COUNT].size().to_numpy()
    cut = int(np.median(sizes))
    monkeypatch.setattr(cell_table, "_BLAS_MIN", cut)
    monkeypatch.setattr(cell_table, "_OUTER_CHUNK", 2 * cut + 1)
    assert (sizes >= cut).any() and (sizes < cut).sum() * cut > 4 * (2 * cut + 1)
    m = moments_from_patterns(patterns, q, part)
    codes = q.all_item_codes()
    x = patterns[codes].to_numpy(dtype=np.int64)
    a = (x > 0).astype(np.int64)
    y = a * (x >= 4) if part == "share" else np.where(x > 0, x - 1, 0)
    cnt = patterns[COUNT].to_numpy()
    key = patterns[KEYS].astype(str).agg("|".join, axis=1)
    mkey = m.keys[KEYS].astype(str).agg("|".join, axis=1)
    for r, k in enumerate(mkey):
        sel = (key == k).to_numpy()
        w = cnt[sel][:, None]
        np.testing.assert_array_equal(m.aa[r], a[sel].T @ (w * a[sel]))
        np.testing.assert_array_equal(m.ya[r], y[sel].T @ (w * a[sel]))
        np.testing.assert_array_equal(m.yy[r], y[sel].T @ (w * y[sel]))
        assert m.n[r] == cnt[sel].sum()


def test_wrong_part_or_both_inputs_are_refused(ref_rows):
    q = ref_questionnaire()
    table, patterns = from_rows(ref_rows, q, KEYS)
    score = moments_from_patterns(patterns, q, "score")
    with pytest.raises(AnalysisInputError, match="part"):
        analyze(table, q, moments=score)
    with pytest.raises(AnalysisInputError, match="not both"):
        analyze(table, q, patterns=patterns, moments=moments_from_patterns(patterns, q, "share"))
    short = moments_from_patterns(patterns.iloc[:-1], q, "share")
    with pytest.raises(AnalysisInputError, match="respondents"):
        analyze(table, q, moments=short)
