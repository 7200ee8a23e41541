"""Post-stratification, raking, trimming, Kish, and bad volumes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import AnalysisInputError, ConvergenceError, analyze
from analysis.notes import english
from analysis.weights import Margin, calibrate, kish, trim, weighted_median
from tests.analysis.support import random_frame


def _margin(codes, totals):
    return Margin(("x",), np.asarray(codes), np.asarray(totals, dtype=float), [])


def test_poststratification_is_n_over_count():
    n = np.array([2, 3, 5])
    w, sweeps = calibrate(np.ones(3), n, [_margin([0, 0, 1], [50, 100])])
    assert sweeps == 1
    np.testing.assert_allclose(w, [10, 10, 20])


def test_raking_meets_every_margin():
    rng = np.random.default_rng(1)
    n = rng.integers(1, 9, size=12)
    a, b = np.arange(12) % 3, np.arange(12) // 4 % 2
    ma, mb = _margin(a, [100, 200, 300]), _margin(b, [250, 350])
    w, sweeps = calibrate(np.ones(12), n, [ma, mb])
    assert 1 < sweeps <= 100
    np.testing.assert_allclose(np.bincount(a, w * n), [100, 200, 300], rtol=1e-10)
    np.testing.assert_allclose(np.bincount(b, w * n), [250, 350], rtol=1e-10)


def test_inconsistent_margins_do_not_converge():
    n = np.ones(4)
    with pytest.raises(ConvergenceError):
        calibrate(np.ones(4), n, [_margin([0, 0, 1, 1], [1, 1]), _margin([0, 1, 0, 1], [5, 5])])


def test_trimming_caps_and_keeps_margins():
    rng = np.random.default_rng(2)
    n = rng.integers(1, 5, size=40)
    a, b = np.arange(40) % 4, rng.integers(0, 3, size=40)
    margins = [_margin(a, [10, 20, 400, 30]), _margin(b, [200, 160, 100])]
    w, _ = calibrate(np.ones(40), n, margins)
    t, info = trim(np.ones(40), n, margins, 3.0, w)
    np.testing.assert_allclose(np.bincount(a, t * n), [10, 20, 400, 30], rtol=1e-8)
    np.testing.assert_allclose(np.bincount(b, t * n), [200, 160, 100], rtol=1e-8)
    med = weighted_median(w, n)
    if info["applied"]:
        assert t.max() < w.max() and t.max() <= 3.0 * med * (1 + 1e-12)
        assert t.min() >= med / 3.0 * (1 - 1e-12)
    else:  # bounds that cannot be met leave the calibrated weights, and say why
        assert not info["converged"] and (t == w).all()


def test_weighted_median_and_kish():
    assert weighted_median(np.array([1.0, 10.0]), np.array([3, 1])) == 1.0
    assert weighted_median(np.array([1.0, 3.0]), np.array([1, 1])) == 2.0
    deff, neff = kish(np.array([1.0, 3.0]), np.array([1, 1]))
    w = np.array([1.0, 3.0])
    assert deff == pytest.approx(1 + w.var() / w.mean() ** 2)
    assert neff == pytest.approx(16 / 10)


def test_volumes_errors(std_q):
    df = random_frame(std_q, 60)
    with pytest.raises(AnalysisInputError) as info:
        analyze(df, std_q, {"D0": 10, "D1": 10, "D2": 10})
    assert info.value.desk == "D3" and "D3" in str(info.value)
    vol = pd.DataFrame({"desk": ["D0", "D1", "D2", "D3"], "volume": ["5", "x", "5", "5"]})
    with pytest.raises(AnalysisInputError) as info:
        analyze(df, std_q, vol)
    assert info.value.column == "volume" and info.value.row == 2
    vol = pd.DataFrame({"desk": ["D0", "D1", "D2", "D3"], "volume": [5, 0, 5, 5]})
    with pytest.raises(AnalysisInputError, match="zero volume"):
        analyze(df, std_q, vol)
    with pytest.raises(AnalysisInputError, match="'volume'"):
        analyze(df, std_q, pd.DataFrame({"desk": ["D0"], "n": [3]}))


def test_volumes_by_desk_and_month_and_unused_cells(std_q):
    df = random_frame(std_q, 120)
    cells = df.assign(month=df["day"].str[:7])[["desk", "month"]].drop_duplicates()
    vol = cells.assign(volume=100.0)
    vol = pd.concat([vol, pd.DataFrame({"desk": ["D9"], "month": ["2025-02"], "volume": [7]})])
    res = analyze(df, std_q, vol)
    assert res["design"]["weighting_cells"] == [["desk", "month"]]
    assert any("desk=D9" in english(note) for note in res["design"]["notes"])


def test_raking_and_trim_through_analyze(std_q):
    df = random_frame(std_q, 300, seed=5)
    desk = pd.DataFrame({"desk": ["D0", "D1", "D2", "D3"], "volume": [100, 300, 500, 100]})
    sector = pd.DataFrame({"sector": ["S1", "S2", "S3"], "volume": [600, 300, 100]})
    res = analyze(df, std_q, desk, margins=[sector], trim_factor=2.0)
    d = res["design"]
    assert d["weighting"] == "raking" and d["rake_sweeps"] >= 2
    assert d["trim"]["factor"] == 2.0
    assert d["kish_deff"] >= 1.0
    assert d["n_eff_kish"] == pytest.approx(300 / d["kish_deff"])
