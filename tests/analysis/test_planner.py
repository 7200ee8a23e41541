"""The planner plans for the verdict's rule, and "cần thêm N phiếu" is its n.

The independent check is an exact binomial enumeration (scipy.stats.binom) of the
rule a report applies to a simple random sample: the 95% logit interval with the
estimated SE lies entirely above (or below) the target.  Its power at the planned
n is close to 80%; at the old one-sided plan it is about 69% (issue 15).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analysis.intervals import infer
from analysis.planner import sample_size
from analysis.verdict import more_needed, planning_deff, verdict


def rule_power(n: int, true: float, target: float, level: float = 0.95) -> float:
    """P(the report's two-sided logit interval clears the target) under Binomial(n, true)."""
    x = np.arange(1, n)  # 0 and n never clear a target inside (0, 1) at these n
    p = x / n
    half = stats.norm.ppf(1 - (1 - level) / 2) / np.sqrt(n * p * (1 - p))
    logit = np.log(p / (1 - p))
    cleared = logit - half > math.log(target / (1 - target))
    if true < target:
        cleared = logit + half < math.log(target / (1 - target))
    return float(stats.binom.pmf(x, n, true)[cleared].sum())


def test_the_issue_example_plans_for_the_two_sided_rule():
    res = sample_size(0.85, 0.88)
    assert res["n"] == res["n_srs"] == 1053
    assert res["sides"] == 2 and res["direction"] == "above"
    assert 0.79 < rule_power(1053, 0.88, 0.85) < 0.82
    one_sided = sample_size(0.85, 0.88, sides=1)
    assert one_sided["n"] == 824
    # What the old default gave a report's verdict: about 69%, not 80%.
    assert 0.67 < rule_power(824, 0.88, 0.85) < 0.71


@pytest.mark.parametrize(
    "target, expected", [(0.85, 0.82), (0.80, 0.75), (0.75, 0.80), (0.90, 0.93)]
)
def test_the_planned_n_gives_the_rule_about_80_percent_power(target, expected):
    n = sample_size(target, expected)["n"]
    assert 0.77 < rule_power(n, expected, target) < 0.83


def test_expected_below_the_target_plans_to_show_it_below():
    res = sample_size(0.85, 0.82)
    assert res["direction"] == "below" and res["n"] == 1164
    # The normal one-sample approximation, written out independently.
    z = stats.norm.ppf(0.975) * math.sqrt(0.85 * 0.15) + stats.norm.ppf(0.8) * math.sqrt(
        0.82 * 0.18
    )
    assert res["n_exact"] == pytest.approx((z / 0.03) ** 2)


def test_the_design_effect_scales_the_srs_n():
    srs = sample_size(0.85, 0.88)
    res = sample_size(0.85, 0.88, deff=1.5)
    assert res["n_srs"] == 1053 and res["n"] == math.ceil(srs["n_exact"] * 1.5) == 1579
    assert sample_size(0.85, 0.88, deff=0.5)["n"] == 527


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"target": 1.2, "expected": 0.88}, "target"),
        ({"target": 0.85, "expected": 0.0}, "expected"),
        ({"target": 0.85, "expected": 0.85}, "expected equals target"),
        ({"target": 0.85, "expected": 0.88, "alpha": 0.6}, "alpha"),
        ({"target": 0.85, "expected": 0.88, "power": 0.3}, "power"),
        ({"target": 0.85, "expected": 0.88, "deff": 0.0}, "deff"),
        ({"target": 0.85, "expected": 0.88, "deff": float("nan")}, "deff"),
        ({"target": 0.85, "expected": 0.88, "sides": 3}, "sides"),
    ],
)
def test_bad_input_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        sample_size(**kwargs)


# --- "cần thêm N phiếu" --------------------------------------------------------


@pytest.mark.parametrize("interval", ["logit", "korn-graubard"])
@pytest.mark.parametrize(
    "p, se, n, target", [(0.87, 0.012, 600, 0.85), (0.83, 0.015, 400, 0.85), (0.9, 0.03, 90, 0.85)]
)
def test_more_needed_is_the_planned_n_at_the_estimate_less_n(interval, p, se, n, target):
    inf = infer(p, se**2, n, 30, 0.95, interval)
    assert verdict(inf, target) == "chua_du_can_cu"
    # The design effect the inference carries (n / n_eff) is the planner's deff.
    assert planning_deff(inf) == pytest.approx(inf.deff)
    planned = sample_size(target, p, deff=inf.deff)["n"]
    assert more_needed(inf, target) == planned - n > 0


def test_more_needed_follows_the_level_and_is_zero_once_decided():
    inf = infer(0.87, 0.012**2, 600, 30, 0.90)
    assert more_needed(inf, 0.85) == sample_size(0.85, 0.87, alpha=0.10, deff=inf.deff)["n"] - 600
    assert more_needed(infer(0.95, 0.01**2, 600, 30, 0.95), 0.85) == 0


def test_more_needed_of_a_quarter_of_the_plan_is_three_quarters_of_it():
    """A survey a quarter of the way to the planned 1,053 (deff 1) needs the rest."""
    inf = infer(0.88, 0.88 * 0.12 / 263, 263, 200, 0.95)
    assert inf.deff == pytest.approx(1.0)
    assert more_needed(inf, 0.85) == 1053 - 263


def test_no_count_when_the_plan_asks_for_no_more_but_the_interval_straddles():
    # Near 100% the logit interval reaches far down (99%, SE 2%: from 59%), wider than
    # the planner's normal approximation, whose n is already met: no count fits.
    inf = infer(0.99, 0.02**2, 200, 20, 0.95)
    assert verdict(inf, 0.8) == "chua_du_can_cu" and inf.ci_low < 0.6
    assert sample_size(0.8, 0.99, deff=inf.deff)["n"] <= 200
    assert more_needed(inf, 0.8) is None
