"""Confidence intervals for shares in 0..1.

* ``logit`` (default): logit(p) +- t(df) * SE / (p (1 - p)), back-transformed; the
  same interval as R's ``svyciprop(method = "logit")``.  It stays inside 0..1
  where satisfaction sits, near 1.
* ``korn-graubard``: Clopper-Pearson on the effective sample size
  n_eff = p (1 - p) / SE^2 scaled by (t(n - 1) / t(df))^2, as R's
  ``svyciprop(method = "beta")``.

Degrees of freedom: ``df`` is the design's (PSUs - strata of the domain, R's
``degf(subset(...))``), which the minimum-design rule uses; the quantiles use
``df_eff`` when given, the Satterthwaite df of the estimate's own variance (see
``variance.linearized_variance`` and docs/method.md, "Intervals and degrees of
freedom"), never above ``df``.

When the SE is 0 (p = 0 or 1, or no variation left after post-stratification)
neither works: we then give the Korn-Graubard interval on n / Kish deff, i.e. the
exact (Clopper-Pearson) interval on n_eff = n / Kish deff x (t(n - 1) / t(df))^2,
the same df correction as above, and say so in a note.  A domain with a single PSU
and SE 0 has nothing to measure its variation by: no interval at all.  With df < 1
(one PSU per stratum) the quantile uses df = 1, which is very conservative; a note
says so too.  Notes are codes with parameters (``analysis.notes`` words them in
English; the reports in Vietnamese).

Composites (criteria, the overall index, scores) are means of several answers
per respondent, not 0/1 answers, so p (1 - p) / SE^2 is not an effective sample
size for them: with ``srs_var`` (the variance the same n would give under simple
random sampling, ``estimators.srs_variance``) ``deff_composite`` = var / srs_var
and n_eff = n / deff_composite; ``deff`` is None.  The Korn-Graubard interval
keeps the count p (1 - p) / SE^2 for them, as R's ``svyciprop(method = "beta")``:
a beta interval on n_eff = n / deff_composite would have the variance
p (1 - p) / n_eff, not the estimate's (in ``bench/coverage`` it covered 100% with
intervals 2.7 times as wide), so ``beta_n`` and ``n_eff`` differ there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from .notes import DF_BELOW_ONE, NO_VARIANCE, SINGLE_PSU_NO_SE, ZERO_SE, note

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
    # Items: p (1 - p) / SE^2; composites: n / deff_composite (None where undefined).
    n_eff: float | None = None
    deff: float | None = None  # items (0/1 answers): n / n_eff; composites: None
    beta_n: float | None = None  # n_eff used by the beta (KG / exact) interval
    notes: list[dict] = field(default_factory=list)  # {"code", "params"}, see analysis.notes
    df_eff: float | None = None  # Satterthwaite df for the quantiles (None: df)
    composite: bool = False
    deff_composite: float | None = None  # composites: var / SRS variance of the score

    @property
    def df_used(self) -> float:
        return max(self.df if self.df_eff is None else min(self.df_eff, self.df), 1)

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
    df_eff: float | None = None,
    srs_var: float | None = None,
) -> Inference:
    """``srs_var`` given: the estimate is a composite (see the module docstring)."""
    if n <= 0 or p is None or not np.isfinite(p):
        return Inference(None, None, int(n), int(df), level, "none")
    p = min(max(float(p), 0.0), 1.0)
    var = max(float(var), 0.0) if np.isfinite(var) else float("nan")
    if not np.isfinite(var):
        return Inference(p, None, int(n), int(df), level, "none", notes=[note(NO_VARIANCE)])
    se = math.sqrt(var)
    composite = srs_var is not None
    inf = Inference(p, se, int(n), int(df), level, interval, df_eff=df_eff, composite=composite)
    notes = []
    if df < 1:
        notes.append(note(DF_BELOW_ONE, df=int(df)))
    alpha = 1.0 - level
    zero = se <= 1e-12 * max(p, 1 - p, 1e-300)
    if zero and df < 1 and 0 < p < 1:
        inf.kind = "none"
        notes.append(note(SINGLE_PSU_NO_SE))
    elif zero or p <= 0 or p >= 1:
        inf.kind = "exact"
        # No variance, so no Satterthwaite df either: a ratio of rounding noise
        # would pick the quantile (an SE of 7e-18 gave [0%; 100%], 0 gave [6%; 99.9%]).
        inf.df_eff = None
        inf.n_eff = n / kish_deff
        inf.beta_n = inf.n_eff * _kg_factor(n, inf.df_used, alpha)
        inf.deff = kish_deff  # the weights' design effect: all there is with SE 0
        inf.ci_low, inf.ci_high = beta_bounds(p, inf.beta_n, alpha)
        notes.append(note(ZERO_SE))
    else:
        if composite:
            inf.deff_composite = var / srs_var if srs_var > 0 else None
            inf.n_eff = None if inf.deff_composite is None else n / inf.deff_composite
        else:
            inf.n_eff = p * (1 - p) / var
            inf.deff = n / inf.n_eff
        if interval == "logit":
            half = inf.quantile() * se / (p * (1 - p))
            inf.ci_low, inf.ci_high = expit(logit(p) - half), expit(logit(p) + half)
        elif interval == "korn-graubard":
            # The binomial count with the estimate's variance, p (1 - p) / SE^2, for
            # composites too (see the module docstring).
            inf.beta_n = p * (1 - p) / var * _kg_factor(n, inf.df_used, alpha)
            inf.ci_low, inf.ci_high = beta_bounds(p, inf.beta_n, alpha)
        else:
            raise ValueError(f"unknown interval {interval!r}; use one of {INTERVALS}")
    inf.notes = notes
    return inf


def _kg_factor(n: int, df: float, alpha: float) -> float:
    """Korn-Graubard's (t(n - 1) / t(df))^2, as R's svyciprop(method = "beta")."""
    if n <= 1:
        return 1.0
    return (t_ppf(alpha / 2, n - 1) / t_ppf(alpha / 2, max(df, 1))) ** 2


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
