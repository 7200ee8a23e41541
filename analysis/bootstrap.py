"""Rao-Wu rescaling cluster bootstrap (R's ``as.svrepdesign(type = "subbootstrap")``).

In each stratum with n_h >= 2 PSUs, n_h - 1 PSUs are drawn with replacement and
each respondent's base weight is multiplied by n_h / (n_h - 1) times the number of
draws of its PSU.  Each replicate is then re-weighted (post-stratified, raked,
trimmed) exactly like the full sample, so the weighting's own variance reduction
is reflected.  The variance is the replicates' sample variance (centred at their
mean, R's default).  A stratum with one PSU cannot be resampled: its weights stay
as they are, so it adds no variance (unlike linearisation's "adjust" rule).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .estimators import Composite, Domain, ratios
from .variance import Design


def replicate_factors(design: Design, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """(B, P) multipliers of the PSUs' weights."""
    out = np.ones((replicates, design.n_psu))
    for h in np.flatnonzero(design.psu_per_stratum > 1):
        psus = np.flatnonzero(design.stratum_of_psu == h)
        nh = len(psus)
        draws = rng.integers(0, nh, size=(replicates, nh - 1))
        counts = np.zeros((replicates, nh))
        np.add.at(counts, (np.arange(replicates)[:, None], draws), 1.0)
        out[:, psus] = counts * (nh / (nh - 1))
    return out


def replicate_estimates(
    comps: list[Composite],
    num: np.ndarray,
    den: np.ndarray,
    w_rep: np.ndarray,
    dom: Domain,
) -> np.ndarray:
    """(B, K, C) composite estimates for each replicate weight vector (B, T)."""
    t, v = num.shape
    k = dom.size
    rows = np.repeat(np.arange(t), v)
    cols = (dom.codes[:, None] * v + np.arange(v)[None, :]).ravel()
    num_d = sp.csr_matrix((num.ravel(), (rows, cols)), shape=(t, k * v))
    den_d = sp.csr_matrix((den.ravel(), (rows, cols)), shape=(t, k * v))
    b = w_rep.shape[0]
    nums = np.asarray((num_d.T @ w_rep.T).T).reshape(b, k, v)
    dens = np.asarray((den_d.T @ w_rep.T).T).reshape(b, k, v)
    r = ratios(nums, dens).ratio  # (B, K, V)
    out = np.empty((b, k, len(comps)))
    for c, comp in enumerate(comps):
        used = comp.coef != 0  # (K, V)
        val = np.nansum(comp.coef[None] * np.where(used[None], r, 0.0), axis=2)
        # A replicate in which a used item lost all its answers gives no estimate.
        missing = (np.isnan(r) & used[None]).any(axis=2)
        out[:, :, c] = np.where(missing, np.nan, val)
    return out


def replicate_variance(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Variance over replicates (ddof 1) ignoring failed replicates, and their count."""
    ok = ~np.isnan(theta)
    count = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(theta, axis=0) / count
        var = np.nansum((theta - mean) ** 2, axis=0) / (count - 1)
    return np.where(count > 1, var, np.nan), count
