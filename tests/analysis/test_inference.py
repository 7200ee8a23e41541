"""Intervals, verdicts, p-values, responses still needed and the planner."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from analysis import sample_size
from analysis.intervals import expit, infer, logit
from analysis.notes import english
from analysis.verdict import more_needed, p_value, verdict


def test_logit_interval_formula():
    inf = infer(0.9, 0.02**2, 400, 30, 0.95)
    half = stats.t.ppf(0.975, 30) * 0.02 / (0.9 * 0.1)
    assert inf.ci_low == pytest.approx(expit(logit(0.9) - half))
    assert inf.ci_high == pytest.approx(expit(logit(0.9) + half))
    assert inf.n_eff == pytest.approx(0.09 / 0.0004) and inf.deff == pytest.approx(400 / 225)


def test_korn_graubard_contains_estimate():
    inf = infer(0.9, 0.02**2, 400, 30, 0.95, "korn-graubard")
    assert inf.ci_low < 0.9 < inf.ci_high < 1


def test_all_satisfied_exact_fallback():
    inf = infer(1.0, 0.0, 100, 20, 0.95, kish_deff=1.0)
    assert inf.kind == "exact" and inf.ci_high == 1.0
    # Korn-Graubard's df correction applies here too (issue 15): n_eff = n x (t99 / t20)^2.
    beta_n = 100 * (stats.t.ppf(0.025, 99) / stats.t.ppf(0.025, 20)) ** 2
    assert inf.beta_n == pytest.approx(beta_n)
    assert inf.ci_low == pytest.approx(0.025 ** (1 / beta_n))
    assert [english(n) for n in inf.notes] == [english("zero_se")]
    assert "SE is 0" in english(inf.notes[0])
    # p-value for H0: p <= t is t^n; more responses needed is closed form.
    assert p_value(inf, 0.97) == pytest.approx(0.97**beta_n)
    assert verdict(inf, 0.97) == "chua_du_can_cu"
    # The planner's n at p = 1 (z^2 t / (1 - t), Kish deff 1), less the 100 counted.
    assert more_needed(inf, 0.97) == math.ceil(1.959964**2 * 0.97 / 0.03) - 100


def test_df_floor_and_missing():
    assert "df = 1" in english(infer(0.8, 0.01, 10, 0, 0.95).notes[0])
    assert infer(float("nan"), 0.0, 0, 3, 0.95).estimate is None


@pytest.mark.parametrize("interval", ["logit", "korn-graubard"])
@pytest.mark.parametrize(
    "p, se, target", [(0.9, 0.02, 0.85), (0.8, 0.03, 0.85), (0.86, 0.01, 0.85), (0.84, 0.01, 0.85)]
)
def test_verdict_p_value_duality_and_more_needed(interval, p, se, target):
    inf = infer(p, se**2, 500, 40, 0.95, interval)
    v, pv = verdict(inf, target), p_value(inf, target)
    assert (v != "chua_du_can_cu") == (pv < 0.025)
    assert v == (
        "dat" if inf.ci_low > target else "khong_dat" if inf.ci_high < target else "chua_du_can_cu"
    )
    m = more_needed(inf, target)
    if v != "chua_du_can_cu":
        assert m == 0
        return
    # The planner's n (80% power, two-sided) at the estimate and deff, less n.
    assert m == sample_size(target, p, deff=inf.deff)["n"] - 500 > 0


def test_more_needed_none_at_target():
    assert more_needed(infer(0.85, 0.01**2, 100, 10, 0.95), 0.85) is None
