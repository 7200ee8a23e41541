"""Each breakdown value against the overall index: difference, SE, Holm-adjusted p.

A ranking orders desks by their point estimates, but neighbours' intervals
usually overlap; what a ranking can say is which values differ from the
overall index of the selection beyond chance.  For value k the contrast is
d_k = theta_k - theta_all, where theta_all is the overall index of the whole
selection (or of the domain, for a filtered report).  Its influence in a cell is
x_k (the value's own influence, zero outside k) minus x_all (the whole's), so
its linearised variance, through the same design and post-stratification
residuals as every other estimate, includes the covariance of the value with
the whole it is part of (R: ``svycontrast`` on totals of domain-indicator
variables, see tests/analysis/reference/make_contrasts.R).  With replicate
weights the variance is that of the replicates' differences.

The test is two-sided, t with the design's df (PSUs minus strata of the
selection).  The values of one breakdown are one family: Holm's step-down
adjustment keeps the chance of calling even one of them different when it is
not (family-wise error) below 1 - level, whatever the dependence between contrasts,
which is what "this desk is significantly below the rest" has to mean when the
sentence is read about one named desk.  A false-discovery-rate rule
(Benjamini-Hochberg) would flag more desks but allow a share of the flags to be
wrong, and nobody reading a ranking knows which ones.  Values below the minimum
design (``verdict.too_small``) get no contrast and are not in the family.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import bootstrap
from .estimators import Domain, Structure, cell_influence, composites, domain_ratios, estimates
from .intervals import t_cdf, t_ppf
from .variance import Design, Residualiser, linearized_variance

HIGHER, LOWER = "higher", "lower"


@dataclass
class Sample:
    """What the contrasts are computed from (the engine's weighted cells and design)."""

    struct: Structure
    part: str  # "share" or "score": which ratio variable the index is
    num: np.ndarray
    den: np.ndarray
    w: np.ndarray
    design: Design
    resid: Residualiser | None
    w_rep: np.ndarray | None  # replicate weights (bootstrap) or None
    level: float
    inside: np.ndarray  # (T,) cells in the reported domain (all True without a filter)


def attach(entries: list[dict], dom: Domain, s: Sample) -> None:
    """Set ``vs_overall`` on each breakdown entry (None below the minimum design);
    for months also ``vs_previous`` and ``vs_year_ago``, and for a breakdown of at
    most ``PAIRS_MAX`` values ``vs_others`` (every other value; ``pairs``)."""
    by_key = {e["key"]: e for e in entries}
    adequate = [
        label in by_key and bool(by_key[label]["overall"].get("adequate", True))
        for label in dom.labels
    ]
    for label, vs in zip(dom.labels, versus_overall(dom, s, adequate), strict=True):
        if label in by_key:
            by_key[label]["vs_overall"] = vs
    ok = {label for label, a in zip(dom.labels, adequate, strict=True) if a}
    if dom.labels and all(MONTH.fullmatch(label) for label in dom.labels):
        for name, back in (("vs_previous", 1), ("vs_year_ago", 12)):
            wanted = [(m, _month_before(m, back)) for m in dom.labels]
            asked = [(a, b) for a, b in wanted if a in ok and b in ok]
            found = dict(zip(asked, pairs(dom, s, asked), strict=True))
            for a, b in wanted:
                if a in by_key:
                    by_key[a][name] = found.get((a, b))
    if 1 < len(dom.labels) <= PAIRS_MAX:
        # Unit vs unit: every pair of adequate values, Holm over the pairs of the breakdown.
        labels = [label for label in dom.labels if label in ok]
        asked = [(a, b) for i, a in enumerate(labels) for b in labels[i + 1 :]]
        found = pairs(dom, s, asked, adjust=True)
        for e in entries:
            e["vs_others"] = {}
        for (a, b), c in zip(asked, found, strict=True):
            by_key[a]["vs_others"][b] = c
            if c is not None:
                by_key[b]["vs_others"][a] = _reversed(c)


MONTH = re.compile(r"\d{4}-\d{2}")
PAIRS_MAX = 12  # values of a breakdown compared pairwise (66 pairs)


def _month_before(month: str, back: int) -> str:
    y, m = int(month[:4]), int(month[5:])
    index = y * 12 + (m - 1) - back
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _reversed(c: dict) -> dict:
    """The contrast b - a from a - b."""
    out = dict(c)
    out["difference"] = -c["difference"]
    out["ci_low"], out["ci_high"] = -c["ci_high"], -c["ci_low"]
    if c["direction"]:
        out["direction"] = LOWER if c["direction"] == HIGHER else HIGHER
    return out


def pairs(
    dom: Domain, s: Sample, asked: list[tuple[str, str]], adjust: bool = False
) -> list[dict | None]:
    """theta_a - theta_b for each (a, b) of breakdown values: difference, its SE, df,
    t interval at ``s.level``, two-sided p, and whether it is significant.

    Design-based, as R ``svyby`` + ``svycontrast`` (tests/analysis/reference/
    make_pairs.R): the contrast's influence in a cell is x_a 1{a} - x_b 1{b}, its
    variance that of those influences through the one design and post-stratification
    residuals, so the covariance of two months that share desks, or of two units
    raked to one margin, is counted. With replicate weights, the variance of the
    replicates' differences. ``adjust``: Holm over the pairs asked (a table of every
    pair is one family); otherwise each pair is one planned comparison (this month
    against the last).
    """
    if not asked:
        return []
    k = dom.size
    index = {label: j for j, label in enumerate(dom.labels)}
    a_idx = np.array([index[a] for a, _b in asked])
    b_idx = np.array([index[b] for _a, b in asked])
    groups = Domain(np.where(s.inside, dom.codes, k), k + 1, [*dom.labels, ""])
    comp_g, theta_g, x_g = _index(s, groups)
    diff = theta_g[a_idx] - theta_g[b_idx]
    if s.w_rep is None:
        x_g = np.where(s.inside, x_g, 0.0)
        var = np.concatenate(
            [
                _pair_variance(x_g, groups.codes, a_idx[i : i + 16], b_idx[i : i + 16], s)
                for i in range(0, len(asked), 16)
            ]
        )
    else:
        rep = bootstrap.replicate_estimates([comp_g], s.num, s.den, s.w_rep, groups)[:, :k, 0]
        var, _ = bootstrap.replicate_variance(rep[:, a_idx] - rep[:, b_idx])
    whole = Domain(np.where(s.inside, 0, 1).astype(np.int64), 2, ["all", ""])
    df = max(int(s.design.domain_df(whole)[0]), 1)
    se = np.sqrt(np.maximum(var, 0.0))
    tested = np.isfinite(diff) & np.isfinite(se) & (se > 1e-12)
    p = np.full(len(asked), np.nan)
    p[tested] = [
        2.0 * t_cdf(-abs(d) / e, df) for d, e in zip(diff[tested], se[tested], strict=True)
    ]
    p_adj = np.full(len(asked), np.nan)
    p_adj[tested] = holm(p[tested]) if adjust else p[tested]
    alpha = 1.0 - s.level
    half = t_ppf(1.0 - alpha / 2.0, df)
    out: list[dict | None] = []
    for j in range(len(asked)):
        if not np.isfinite(diff[j]):
            out.append(None)
            continue
        significant = bool(tested[j] and p_adj[j] < alpha)
        out.append(
            {
                "difference": float(diff[j]),
                "se": float(se[j]),
                "df": df,
                "ci_low": float(diff[j] - half * se[j]),
                "ci_high": float(diff[j] + half * se[j]),
                "p_value": float(p[j]) if tested[j] else None,
                "p_adjusted": float(p_adj[j]) if tested[j] else None,
                "significant": significant,
                "direction": (HIGHER if diff[j] > 0 else LOWER) if significant else None,
            }
        )
    return out


def _pair_variance(
    x_g: np.ndarray, codes: np.ndarray, a_idx: np.ndarray, b_idx: np.ndarray, s: Sample
) -> np.ndarray:
    """Var(theta_a - theta_b) per pair: ``linearized_variance`` of the contrasts'
    influences (one column per pair) in the whole sample."""
    t = len(codes)
    cols = (codes[:, None] == a_idx[None, :]).astype(float) - (
        codes[:, None] == b_idx[None, :]
    ).astype(float)
    whole = Domain(np.zeros(t, dtype=np.int64), 1, ["all"])
    return linearized_variance(x_g[:, None] * cols, whole, s.design, s.resid)[0]


def versus_overall(dom: Domain, s: Sample, adequate: list[bool]) -> list[dict | None]:
    """Per breakdown value: {difference, se, p_value, p_adjusted, significant, direction}."""
    k = dom.size
    t = len(dom.codes)
    if k == 0 or t == 0:
        return [None] * k
    # Cells outside the reported domain sit in an extra value that is never reported.
    groups = Domain(np.where(s.inside, dom.codes, k), k + 1, [*dom.labels, ""])
    whole = Domain(np.where(s.inside, 0, 1).astype(np.int64), 2, ["all", ""])
    comp_g, theta_g, x_g = _index(s, groups)
    comp_w, theta_w, x_w = _index(s, whole)
    diff = theta_g[:k] - theta_w[0]
    if s.w_rep is None:
        x_g = np.where(s.inside, x_g, 0.0)
        x_w = np.where(s.inside, x_w, 0.0)
        var = _contrast_variance(x_g, x_w, groups.codes, k, s)
    else:
        rep_g = bootstrap.replicate_estimates([comp_g], s.num, s.den, s.w_rep, groups)[:, :k, 0]
        rep_w = bootstrap.replicate_estimates([comp_w], s.num, s.den, s.w_rep, whole)[:, :1, 0]
        var, _ = bootstrap.replicate_variance(rep_g - rep_w)
    df = max(int(s.design.domain_df(whole)[0]), 1)
    se = np.sqrt(np.maximum(var, 0.0))
    p = np.full(k, np.nan)
    # No variance left (a value that is the whole sample): nothing to test.
    tested = np.array(adequate, dtype=bool) & np.isfinite(diff) & np.isfinite(se) & (se > 1e-12)
    p[tested] = [
        2.0 * t_cdf(-abs(d) / e, df) for d, e in zip(diff[tested], se[tested], strict=True)
    ]
    p_adj = np.full(k, np.nan)
    p_adj[tested] = holm(p[tested])
    alpha = 1.0 - s.level
    out: list[dict | None] = []
    for j in range(k):
        if not adequate[j] or not np.isfinite(diff[j]):
            out.append(None)
            continue
        significant = bool(tested[j] and p_adj[j] < alpha)
        out.append(
            {
                "difference": float(diff[j]),
                "se": float(se[j]) if np.isfinite(se[j]) else None,
                "df": df,
                "p_value": float(p[j]) if tested[j] else None,
                "p_adjusted": float(p_adj[j]) if tested[j] else None,
                "significant": significant,
                "direction": (HIGHER if diff[j] > 0 else LOWER) if significant else None,
            }
        )
    return out


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (R ``p.adjust(p, "holm")``)."""
    p = np.asarray(p, dtype=float)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


def _index(s: Sample, dom: Domain):
    """The overall index per domain: its composite, estimates (K,) and cell influence (T,)."""
    r = domain_ratios(s.num, s.den, s.w, dom)
    comps = composites(s.struct, r.den[:, : s.struct.n_items] > 0, items=False)
    comp = next(c for c in comps if c.name == f"overall:{s.part}")
    theta = estimates([comp], r)[:, 0]
    x = cell_influence([comp], s.num, s.den, s.w, dom, r)[:, 0]
    return comp, theta, x


def _contrast_variance(
    x_g: np.ndarray, x_w: np.ndarray, codes: np.ndarray, k: int, s: Sample
) -> np.ndarray:
    """Var(theta_k - theta_all) = V(u_k) + V(a) - 2 C(u_k, a) for every value k at once.

    u_k = x_g 1{cell in k} and a = x_w are influences; the variances come from
    ``linearized_variance`` itself, the covariance from the same residualised PSU
    totals and stratum formula, as a sparse (PSU x K) product: the dense
    (cells x K) influence of the contrasts would cost cells x K.
    """
    design, resid = s.design, s.resid
    t, n_psu = len(codes), design.n_psu
    whole = Domain(np.zeros(t, dtype=np.int64), 1, ["all"])
    groups = Domain(codes, k + 1, [""] * (k + 1))
    v_u = linearized_variance(x_g[:, None], groups, design, resid)[:k, 0]
    v_a = linearized_variance(x_w[:, None], whole, design, resid)[0, 0]
    to_psu = sp.csr_matrix((np.ones(t), (design.psu, np.arange(t))), shape=(n_psu, t))
    xu = sp.csr_matrix((x_g, (np.arange(t), codes)), shape=(t, k + 1))
    xa = sp.csr_matrix(x_w[:, None])
    u_tot, a_tot = to_psu @ xu, _dense(to_psu @ xa).ravel()
    if resid is not None and resid.margins:
        weight = resid.psu_weight(design.psu, n_psu)
        u_tot = u_tot - weight @ resid.coefficients(xu)
        a_tot = a_tot - _dense(weight @ resid.coefficients(xa)).ravel()
    # As in linearized_variance: n_h / (n_h - 1) and centring at the stratum mean;
    # a single-PSU stratum is centred at zero and scaled by 1 ("adjust").
    nh = design.psu_per_stratum.astype(float)
    regular = nh > 1
    f = np.where(regular, nh / np.where(regular, nh - 1, 1), 1.0)
    centre = np.where(regular, 1.0 / np.where(regular, nh, 1), 0.0)
    h = design.stratum_of_psu
    stratum_a = np.bincount(h, weights=a_tot, minlength=len(nh))
    g = f[h] * (a_tot - centre[h] * stratum_a[h])
    cross = _dense(u_tot.T @ g).ravel()[:k]
    var = v_u + v_a - 2.0 * cross
    # A value that is the whole sample leaves only rounding noise: call it 0, so the
    # test does not depend on summation order (rows or cells give the same answer).
    return np.where(var > 1e-10 * (v_u + v_a), var, 0.0)


def _dense(m) -> np.ndarray:
    return m.toarray() if sp.issparse(m) else np.asarray(m)
