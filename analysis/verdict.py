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
"""

from __future__ import annotations

import math

from .intervals import Inference, beta_bounds, beta_cdf, beta_sf, logit, t_cdf, t_ppf

DAT, KHONG_DAT, CHUA_DU = "dat", "khong_dat", "chua_du_can_cu"
_MAX_MORE = 10**9


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
