"""Verdict against a target, its one-sided p-value and the responses still needed.

* ``dat`` (Đạt) when the interval's lower bound > target, ``khong_dat`` (Không đạt)
  when its upper bound < target, ``chua_du_can_cu`` (Chưa đủ căn cứ) otherwise,
  including when there are no answers at all.
* p-value, one-sided, on the same scale as the interval: when the estimate is at or
  above the target, H0: p <= target; below it, H0: p >= target.  So at level L the
  verdict is decided exactly when p_value < (1 - L) / 2.
* more_needed: further responses to reach the n that ``survey plan`` would give
  (``planner``: 80% power for the two-sided interval to clear the target) with the
  current estimate as the expected share and the current design effect; N - n.
  0 when already decided; None when the estimate equals the target or there is no
  estimate.

A minimum design comes first (``too_small``): below 30 responses, below 5 degrees
of freedom, or with fewer than 2 PSUs in more than half of the strata an estimate
touches, the interval says more about the design than about the unit (with 3 days
at one desk, df = 2 and t = 4.3), so there is no verdict but "chưa đủ căn cứ" and
no count of further responses.  A count of further responses is reported only
when it is plausible (``plausible_more``): the responses it implies, n + more, do
not exceed the transactions of the period when those are known; and it says which
way it points (``direction``).
"""

from __future__ import annotations

import math

from . import planner
from .intervals import Inference, beta_cdf, beta_sf, logit, t_cdf
from .notes import FEW_PSUS, FEW_RESPONSES, LOW_DF

DAT, KHONG_DAT, CHUA_DU = "dat", "khong_dat", "chua_du_can_cu"
_MAX_MORE = 10**9

# The minimum design below which nothing is concluded (see the module docstring).
MIN_RESPONSES = 30
MIN_DF = 5
MIN_PSUS_PER_STRATUM = 2
TO_CONFIRM_PASS, TO_CONFIRM_FAIL = "to_confirm_pass", "to_confirm_fail"


def too_small(n: int, df: int, n_strata: int, thin_strata: int) -> list[str]:
    """Why an estimate is below the minimum design (empty when it is not).

    ``thin_strata``: the strata the estimate touches with fewer than
    MIN_PSUS_PER_STRATUM PSUs in it; "most" means more than half of ``n_strata``.
    """
    reasons = []
    if n < MIN_RESPONSES:
        reasons.append(FEW_RESPONSES)
    if n_strata == 0 or 2 * thin_strata > n_strata:
        reasons.append(FEW_PSUS)
    if df < MIN_DF:
        reasons.append(LOW_DF)
    return reasons


def direction(inf: Inference, target: float | None) -> str | None:
    """Which verdict further responses would confirm if the estimate stayed put."""
    if target is None or inf.estimate is None or inf.estimate == target:
        return None
    return TO_CONFIRM_PASS if inf.estimate > target else TO_CONFIRM_FAIL


def plausible_more(more: int | None, n: int, population: float | None) -> int | None:
    """``more`` when n + more responses fit in the period's transactions (if known)."""
    if more is None or population is None or more == 0:
        return more
    return more if n + more <= population else None


def verdict(inf: Inference, target: float | None) -> str | None:
    if target is None:
        return None
    if inf.ci_low is None or inf.ci_high is None:
        return CHUA_DU
    if inf.ci_low > target:
        return DAT
    if inf.ci_high < target:
        return KHONG_DAT
    return CHUA_DU


def p_value(inf: Inference, target: float | None) -> float | None:
    if target is None or inf.estimate is None or inf.ci_low is None:
        return None
    p = inf.estimate
    above = p >= target
    if inf.kind == "logit":
        z = (logit(p) - logit(target)) / (inf.se / (p * (1 - p)))
        return t_cdf(-z, inf.df_used) if above else t_cdf(z, inf.df_used)
    # Beta (Clopper-Pearson) duality with the Korn-Graubard / exact interval.
    n = inf.beta_n
    x = n * p
    if above:
        return beta_cdf(target, x, n - x + 1) if x > 0 else 1.0
    return beta_sf(target, x + 1, n - x) if n - x > 0 else 1.0


def planning_deff(inf: Inference) -> float | None:
    """The factor on p (1 - p) / n that gives the estimate's variance: n SE^2 / p (1 - p).

    That is the inference's ``deff`` (n / n_eff) for a share; it is computed here from
    the SE so that a composite index, whose reported design effect is measured
    against its own SRS variance rather than p (1 - p), still plans on the variance
    it has.  With SE 0 (the exact fallback) the inference's (Kish) ``deff``.
    """
    p, se = inf.estimate, inf.se
    if inf.kind == "exact" or p is None or se is None or not 0 < p < 1 or inf.n <= 0:
        return inf.deff
    return inf.n * se * se / (p * (1 - p))


def more_needed(inf: Inference, target: float | None) -> int | None:
    """Further responses for the planner's n at the current estimate and design effect.

    The planner's formula (``planner.required``, two-sided at the interval's level,
    power ``planner.POWER``) with the estimate as the expected share and the
    current design effect (``planning_deff``), minus the responses already counted.
    0 once decided; None without an estimate, at the target, or when the formula
    asks for no more than n although the interval still straddles the target (a t
    quantile on few df is wider than the planner's z: no count would mean what a
    plan means).
    """
    if target is None or inf.estimate is None or inf.ci_low is None:
        return None
    if verdict(inf, target) != CHUA_DU:
        return 0
    p, n, deff = inf.estimate, inf.n, planning_deff(inf)
    if p == target or deff is None or not 0 < deff < math.inf:
        return None
    total = planner.required(target, p, alpha=inf.alpha, power=planner.POWER, deff=deff)
    more = planner.round_up(total) - n if total < _MAX_MORE else _MAX_MORE
    return more if 0 < more < _MAX_MORE else None
