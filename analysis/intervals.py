"""Confidence intervals for shares in 0..1.

* ``logit`` (default): logit(p) +- t(df) * SE / (p (1 - p)), back-transformed; the
  same interval as R's ``svyciprop(method = "logit")``.  It stays inside 0..1
  where satisfaction sits, near 1.
* ``korn-graubard``: Clopper-Pearson on the effective sample size
  n_eff = p (1 - p) / SE^2 scaled by (t(n - 1) / t(df))^2, as R's
  ``svyciprop(method = "beta")``.

When the SE is 0 (p = 0 or 1, or no variation left after post-stratification)
neither works: we then give the exact (Clopper-Pearson) interval with
n_eff = n / Kish deff, i.e. as if the sample were as informative as its weights
allow, and say so in a note.  With df < 1 (one PSU per stratum) the quantile
uses df = 1, which is very conservative; a note says so too.  Notes are codes
with parameters (``analysis.notes`` words them in English; the reports in
Vietnamese).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from .notes import DF_BELOW_ONE, NO_VARIANCE, ZERO_SE, note

INTERVALS = ("logit", "korn-graubard")


@dataclass
class Inference:
    estimate: float | None
    se: float | None
    n: int
    df: int
    level: float
    kind: str  # "logit", "korn-graubard", "exact" (SE = 0 fallback) or "none"
    ci_low: float | None = None
    ci_high: float | None = None
    n_eff: float | None = None  # binomial-equivalent: p (1 - p) / SE^2
    deff: float | None = None  # n / n_eff
    beta_n: float | None = None  # n_eff used by the beta (KG / exact) interval
    notes: list[dict] = field(default_factory=list)  # {"code", "params"}, see analysis.notes

    @property
    def df_used(self) -> int:
        return max(self.df, 1)

    @property
    def alpha(self) -> float:
        return 1.0 - self.level

    def quantile(self) -> float:
        return t_ppf(1 - self.alpha / 2, self.df_used)


# scipy.special rather than scipy.stats: the frozen-distribution machinery costs about
# a millisecond a call, which adds up over thousands of breakdown cells.
def t_ppf(q: float, df: float) -> float:
    return float(special.stdtrit(df, q))


def t_cdf(x: float, df: float) -> float:
    return float(special.stdtr(df, x))


def beta_ppf(q: float, a: float, b: float) -> float:
    return float(special.betaincinv(a, b, q))


def beta_cdf(x: float, a: float, b: float) -> float:
    return float(special.betainc(a, b, x))


def beta_sf(x: float, a: float, b: float) -> float:
    return float(special.betaincc(a, b, x))


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def beta_bounds(p: float, neff: float, alpha: float) -> tuple[float, float]:
    x = neff * p
    lo = 0.0 if p <= 0 else beta_ppf(alpha / 2, x, neff - x + 1)
    hi = 1.0 if p >= 1 else beta_ppf(1 - alpha / 2, x + 1, neff - x)
    return lo, hi


def infer(
    p: float,
    var: float,
    n: int,
    df: int,
    level: float,
    interval: str = "logit",
    kish_deff: float = 1.0,
) -> Inference:
    if n <= 0 or p is None or not np.isfinite(p):
        return Inference(None, None, int(n), int(df), level, "none")
    p = min(max(float(p), 0.0), 1.0)
    var = max(float(var), 0.0) if np.isfinite(var) else float("nan")
    if not np.isfinite(var):
        return Inference(p, None, int(n), int(df), level, "none", notes=[note(NO_VARIANCE)])
    se = math.sqrt(var)
    inf = Inference(p, se, int(n), int(df), level, interval)
    notes = []
    if df < 1:
        notes.append(note(DF_BELOW_ONE, df=int(df)))
    alpha = 1.0 - level
    if se <= 1e-12 * max(p, 1 - p, 1e-300) or p <= 0 or p >= 1:
        inf.kind = "exact"
        inf.beta_n = n / kish_deff
        inf.n_eff = inf.beta_n
        inf.deff = kish_deff
        inf.ci_low, inf.ci_high = beta_bounds(p, inf.beta_n, alpha)
        notes.append(note(ZERO_SE))
    else:
        inf.n_eff = p * (1 - p) / var
        inf.deff = n / inf.n_eff
        if interval == "logit":
            half = inf.quantile() * se / (p * (1 - p))
            inf.ci_low, inf.ci_high = expit(logit(p) - half), expit(logit(p) + half)
        elif interval == "korn-graubard":
            adj = 1.0
            if n > 1:
                adj = (t_ppf(alpha / 2, n - 1) / t_ppf(alpha / 2, inf.df_used)) ** 2
            inf.beta_n = inf.n_eff * adj
            inf.ci_low, inf.ci_high = beta_bounds(p, inf.beta_n, alpha)
        else:
            raise ValueError(f"unknown interval {interval!r}; use one of {INTERVALS}")
    inf.notes = notes
    return inf


def score_interval(inf: Inference, lowest: float, highest: float) -> dict:
    """A 0..1 score inference mapped back onto the answer scale (e.g. 1..5)."""
    span = highest - lowest

    def tr(x: float | None) -> float | None:
        return None if x is None else lowest + span * x

    return {
        "estimate": tr(inf.estimate),
        "se": None if inf.se is None else inf.se * span,
        "ci_low": tr(inf.ci_low),
        "ci_high": tr(inf.ci_high),
    }
