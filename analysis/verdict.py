"""Verdict against a target, its one-sided p-value and the responses still needed.

* ``dat`` (Đạt) when the interval's lower bound > target, ``khong_dat`` (Không đạt)
  when its upper bound < target, ``chua_du_can_cu`` (Chưa đủ căn cứ) otherwise,
  including when there are no answers at all.
* p-value, one-sided, on the same scale as the interval: when the estimate is at or
  above the target, H0: p <= target; below it, H0: p >= target.  So at level L the
  verdict is decided exactly when p_value < (1 - L) / 2.
* more_needed: further responses after which the interval would exclude the target
  if the estimate stayed where it is and the design effect stayed the same (the
  variance scales as 1/n; the df is kept).  0 when already decided; None when the
  estimate equals the target or there is no estimate.

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

from .intervals import Inference, beta_bounds, beta_cdf, beta_sf, logit, t_cdf, t_ppf
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


def more_needed(inf: Inference, target: float | None) -> int | None:
    if target is None or inf.estimate is None or inf.ci_low is None:
        return None
    if verdict(inf, target) != CHUA_DU:
        return 0
    p, n = inf.estimate, inf.n
    if p == target:
        return None
    if inf.kind == "logit":
        delta = abs(logit(p) - logit(target))
        needed = n * (inf.quantile() * inf.se / (p * (1 - p)) / delta) ** 2
        more = math.floor(needed - n) + 1
        return max(more, 1) if more < _MAX_MORE else None

    alpha = 1 - inf.level

    def beta_n(extra: int) -> float:
        grown = inf.beta_n * (n + extra) / n
        if inf.kind == "korn-graubard" and n > 1:
            # The Korn-Graubard df factor (t(n - 1) / t(df))^2 moves with n as well.
            grown *= (t_ppf(alpha / 2, n + extra - 1) / t_ppf(alpha / 2, n - 1)) ** 2
        return grown

    def decided(extra: int) -> bool:
        lo, hi = beta_bounds(p, beta_n(extra), alpha)
        return lo > target or hi < target

    hi = 1
    while not decided(hi):
        hi *= 2
        if hi > _MAX_MORE:
            return None
    lo = hi // 2  # not decided at lo (or lo == 0)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if decided(mid):
            hi = mid
        else:
            lo = mid
    return hi
