"""Point estimates: item ratios and their weighted composites, per domain.

Every estimate is a linear combination of ratios R_v = sum(w a y_v) / sum(w a) over
the "ratio variables" v: for each item j, its top-two-box share (v = j) and its
0..1 score (v = J + j).  A composite is a coefficient vector over v, per domain;
criteria and the overall index renormalise their weights over the items that have
answers in the domain (an item nobody answered drops out rather than counting as 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from questionnaires.model import Questionnaire

from .cells import Cells


@dataclass
class Structure:
    """The questionnaire as index lists over its item columns."""

    item_codes: list[str]  # criterion items then the overall item (all_item_codes order)
    criterion_codes: list[str]
    criterion_weights: np.ndarray
    criterion_items: list[list[int]]
    item_weights: np.ndarray  # per item column
    overall_index: int | None  # column of the overall item
    aggregation: str

    @classmethod
    def of(cls, q: Questionnaire) -> Structure:
        codes = q.all_item_codes()
        pos = {c: i for i, c in enumerate(codes)}
        weights = np.ones(len(codes))
        for it in q.items():
            weights[pos[it.code]] = it.weight
        if q.aggregation not in ("top_two_box", "mean"):
            raise ValueError(f"unknown aggregation {q.aggregation!r}")
        return cls(
            item_codes=codes,
            criterion_codes=[c.code for c in q.criteria],
            criterion_weights=np.array([c.weight for c in q.criteria], dtype=float),
            criterion_items=[[pos[it.code] for it in c.items] for c in q.criteria],
            item_weights=weights,
            overall_index=pos[q.overall_item.code] if q.overall_item is not None else None,
            aggregation=q.aggregation,
        )

    @property
    def n_items(self) -> int:
        return len(self.item_codes)

    def groups(self) -> list[list[int]]:
        """Item sets whose respondents are counted: each criterion, then the composite."""
        comp = [j for items in self.criterion_items for j in items]
        return [*self.criterion_items, comp]


@dataclass
class Domain:
    """One breakdown: a code per cell (all zeros for the whole sample)."""

    codes: np.ndarray  # (T,)
    size: int  # K
    labels: list[str]

    def indicator(self) -> sp.csr_matrix:
        t = len(self.codes)
        return sp.csr_matrix((np.ones(t), (self.codes, np.arange(t))), shape=(self.size, t))


@dataclass
class Ratios:
    num: np.ndarray  # (K, 2J) weighted numerators
    den: np.ndarray  # (K, 2J) weighted denominators (answered)
    ratio: np.ndarray  # (K, 2J), nan where den == 0


def cell_numerators(cells: Cells) -> tuple[np.ndarray, np.ndarray]:
    """Per cell (T, 2J) numerator and denominator counts (unweighted, per respondent)."""
    num = np.hstack([cells.satisfied, cells.score])
    den = np.hstack([cells.answered, cells.answered]).astype(float)
    return num.astype(float), den


def ratios(num_sums: np.ndarray, den_sums: np.ndarray) -> Ratios:
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den_sums > 0, num_sums / np.where(den_sums > 0, den_sums, 1), np.nan)
    return Ratios(num_sums, den_sums, r)


def domain_ratios(num: np.ndarray, den: np.ndarray, w: np.ndarray, dom: Domain) -> Ratios:
    ind = dom.indicator()
    return ratios(ind @ (num * w[:, None]), ind @ (den * w[:, None]))


@dataclass
class Composite:
    name: str  # "overall", "criterion:TC", "item:TC1", "overall_item", each +":share"/":score"
    coef: np.ndarray  # (K, 2J)
    members: list[int]  # item columns whose answers count towards its n
    group: int | None = None  # index into Structure.groups() for its n; None: one item


def composites(s: Structure, available: np.ndarray, *, items: bool) -> list[Composite]:
    """Coefficient vectors of the reported estimates for each domain.

    ``available`` (K, J): whether item j has answers in domain k.  Criterion k's
    coefficient of item j is v_j / sum(v over its available items); the overall
    index weighs criteria by u_k over criteria with any available item.  The share
    and score versions use the same coefficients on different ratio variables.
    """
    k_dom, j = available.shape
    out: list[Composite] = []

    def add(name: str, c: np.ndarray, members: list[int], group: int | None = None) -> None:
        for part, off in (("share", 0), ("score", j)):
            full = np.zeros((k_dom, 2 * j))
            full[:, off : off + j] = c
            out.append(Composite(f"{name}:{part}", full, members, group))

    avail = available.astype(float)
    crit_coef = []
    crit_avail = np.zeros((k_dom, len(s.criterion_items)))
    for ci, members in enumerate(s.criterion_items):
        c = np.zeros((k_dom, j))
        c[:, members] = s.item_weights[members] * avail[:, members]
        tot = c.sum(axis=1, keepdims=True)
        crit_avail[:, ci] = tot[:, 0] > 0
        c = np.divide(c, tot, out=np.zeros_like(c), where=tot > 0)
        crit_coef.append(c)
    u = s.criterion_weights * crit_avail
    utot = u.sum(axis=1, keepdims=True)
    u = np.divide(u, utot, out=np.zeros_like(u), where=utot > 0)
    overall = sum(u[:, [ci]] * c for ci, c in enumerate(crit_coef))
    comp_members = [m for ms in s.criterion_items for m in ms]
    add("overall", np.asarray(overall), comp_members, len(s.criterion_items))
    for ci, code in enumerate(s.criterion_codes):
        add(f"criterion:{code}", crit_coef[ci], s.criterion_items[ci], ci)
    if s.overall_index is not None:
        c = np.zeros((k_dom, j))
        c[:, s.overall_index] = avail[:, s.overall_index]
        add("overall_item", c, [s.overall_index])
    if items:
        for jj, code in enumerate(s.item_codes):
            if jj == s.overall_index:
                continue
            c = np.zeros((k_dom, j))
            c[:, jj] = avail[:, jj]
            add(f"item:{code}", c, [jj])
    return out


def estimates(comps: list[Composite], r: Ratios) -> np.ndarray:
    """(K, C) composite estimates; nan where a composite has no available item."""
    rr = np.nan_to_num(r.ratio)
    out = np.empty((r.ratio.shape[0], len(comps)))
    for c, comp in enumerate(comps):
        val = (comp.coef * rr).sum(axis=1)
        empty = ~(comp.coef != 0).any(axis=1)
        out[:, c] = np.where(empty, np.nan, val)
    return out


def cell_influence(
    comps: list[Composite],
    num: np.ndarray,
    den: np.ndarray,
    w: np.ndarray,
    dom: Domain,
    r: Ratios,
) -> np.ndarray:
    """(T, C) cell totals of the linearised influence of each composite.

    For ratio R_kv = sum(w a y) / sum(w a) in domain k, respondent i contributes
    w_i a_iv (y_iv - R_kv) / sum(w a); a composite combines these with its
    coefficients.  Summed over the respondents of a cell (same weight, same domain).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(r.den > 0, 1.0 / np.where(r.den > 0, r.den, 1), 0.0)  # (K, 2J)
    rr = np.nan_to_num(r.ratio)
    out = np.empty((len(dom.codes), len(comps)))
    single = np.stack([c.coef[0] for c in comps], axis=1) if dom.size == 1 else None  # (2J, C)
    # In blocks of cells: the (cells, 2J) temporaries stay small at a province's size.
    for start in range(0, len(dom.codes), _CELL_BLOCK):
        rows = slice(start, start + _CELL_BLOCK)
        codes = dom.codes[rows]
        e = (num[rows] - rr[codes] * den[rows]) * (scale[codes] * w[rows, None])  # (t, 2J)
        if single is not None:
            out[rows] = e @ single
            continue
        for c, comp in enumerate(comps):
            out[rows, c] = np.einsum("tv,tv->t", e, comp.coef[codes])
    return out


_CELL_BLOCK = 8192


# Rows per block in srs_variance: bounds the (rows, 2J) temporaries on large files.
_ROW_BLOCK = 50_000


def _variance_setup(comps, which, scale, dom: Domain, r: Ratios):
    """(lowest, highest, J, K, coefficients (K, 2J, C'), the ratio variables used)."""
    values = np.array(scale.values, dtype=np.int64)
    coefs = np.stack([comps[c].coef for c in which], axis=2)  # (K, 2J, C')
    used = np.flatnonzero(np.abs(coefs).sum(axis=(0, 2)) > 0)  # ratio variables needed
    return int(values.min()), int(values.max()), r.ratio.shape[1] // 2, dom.size, coefs, used


def srs_variance(
    comps: list[Composite],
    which: list[int],
    items: list[np.ndarray],
    row_cell: np.ndarray,
    scale,
    w: np.ndarray,
    dom: Domain,
    r: Ratios,
    base_weight: np.ndarray,
    counts: np.ndarray,
    multiplicity: np.ndarray | None = None,
) -> np.ndarray:
    """(K, len(which)) variance under simple random sampling of the same n.

    For a composite sum_v c_v R_v, respondent i's linearised value (per unit of
    weight) is z_i = sum_v c_v a_iv (y_iv - R_v) / A_v, A_v the weighted share
    answering v; under SRS of n respondents var = S^2 / n with S^2 = sum w z^2 /
    sum w over the respondents the composite counts.  For one 0/1 item without
    N/A this is p (1 - p) / n, so var / srs_var is the usual design effect.  The
    per-row e_iv = w_i a_iv (y_iv - R_v) / sum(w a_v) are those of
    ``cell_influence``; S^2 / n = W_G sum_i e_i^2 / w_i / n with W_G the weight
    counted (``base_weight``).  Rows are needed (cross products of items within
    a respondent), in blocks.  ``multiplicity``: respondents per row when the
    rows are answer patterns (``cell_table``), 1 otherwise.  ``srs_variance_moments``
    gives the same from per-cell moment sums, at a cost bounded by the cells.
    """
    lo, hi, j, k, coefs, used = _variance_setup(comps, which, scale, dom, r)
    if not len(used):  # no answers anywhere: no estimate, no variance
        return np.full((k, len(which)), np.nan)
    coefs = coefs[:, used, :]
    # Domains share their coefficients unless an item has no answers in some of them:
    # one matrix product per distinct coefficient pattern, not per domain.
    patterns, pattern_of = np.unique(coefs.reshape(k, -1), axis=0, return_inverse=True)
    patterns = patterns.reshape(len(patterns), len(used), len(which))
    pattern_of = pattern_of.reshape(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        inv = np.where(r.den > 0, 1.0 / np.where(r.den > 0, r.den, 1), 0.0)[:, used]
    rr = np.nan_to_num(r.ratio)[:, used]
    share_cols, score_cols = used[used < j], used[used >= j] - j
    sq = np.zeros((k, len(which)))
    codes_all = dom.codes[row_cell]
    w_all = w[row_cell]
    for start in range(0, len(row_cell), _ROW_BLOCK):
        stop = min(start + _ROW_BLOCK, len(row_cell))
        parts_y, parts_a = [], []
        for cols, score in ((share_cols, False), (score_cols, True)):
            if not len(cols):
                continue
            x = np.stack([items[c][start:stop] for c in cols], axis=1).astype(np.int64)
            a = (x > 0).astype(float)
            parts_a.append(a)
            parts_y.append(
                a * (x - lo) / max(hi - lo, 1) if score else a * (x >= scale.satisfied_min)
            )
        y, a = np.hstack(parts_y), np.hstack(parts_a)
        codes, wr = codes_all[start:stop], w_all[start:stop]
        e = (y - rr[codes] * a) * inv[codes] * wr[:, None]  # (rows, used)
        if len(patterns) == 1:
            eps = e @ patterns[0]
        else:
            eps = np.empty((len(codes), len(which)))
            pat = pattern_of[codes]
            for u in range(len(patterns)):
                m = pat == u
                eps[m] = e[m] @ patterns[u]
        mult = np.ones(len(codes)) if multiplicity is None else multiplicity[start:stop]
        sq += np.asarray(
            sp.csr_matrix((mult, (codes, np.arange(len(codes)))), shape=(k, len(codes)))
            @ (eps * eps / wr[:, None])
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, base_weight * sq / np.where(counts > 0, counts, 1), np.nan)


def srs_variance_moments(
    comps: list[Composite],
    which: list[int],
    part: str,
    aa: np.ndarray,
    ya: np.ndarray,
    yy: np.ndarray,
    row_cell: np.ndarray,
    scale,
    w: np.ndarray,
    dom: Domain,
    r: Ratios,
    base_weight: np.ndarray,
    counts: np.ndarray,
) -> np.ndarray:
    """``srs_variance`` from per-row moment sums (``cell_table.Moments``), not rows.

    With g_kv = c_kv / sum(w a_v) (the composite's coefficient over the ratio's
    denominator), sum_i w_i (sum_v g_kv (y_iv - R_kv a_iv))^2 over domain k is
    g^T Q_k g with Q_k = YY - diag(R) AY - YA diag(R) + diag(R) AA diag(R) and
    XY = sum_i w_i x_i y_i^T: per domain, a weighted sum of the rows' moments
    (w is constant within a row's cell).  ``aa``, ``ya``, ``yy`` (rows, J, J):
    sum a_v a_u, y_v a_u, y_v y_u of ``part`` ("share": y = satisfied; "score": y
    the integer x - lowest, rescaled here).  Moments hold one part only, so every
    composite in ``which`` must be of that part.
    """
    lo, hi, j, k, coefs, used = _variance_setup(comps, which, scale, dom, r)
    if not len(used):  # no answers anywhere: no estimate, no variance
        return np.full((k, len(which)), np.nan)
    off = {"share": 0, "score": j}[part]
    cols = used - off
    if (cols < 0).any() or (cols >= j).any():
        raise ValueError(f"moments of the {part} part cannot give the other part's variance")
    sy = 1.0 if part == "share" else 1.0 / max(hi - lo, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        inv = np.where(r.den > 0, 1.0 / np.where(r.den > 0, r.den, 1), 0.0)[:, used]
    rr = np.nan_to_num(r.ratio)[:, used]
    g = coefs[:, used, :] * inv[:, :, None]  # (K, U, C')
    n_rows, u = len(row_cell), len(used)
    # Domain k's weighted sums: a sparse (K x rows) product, weight w of the row's cell.
    ind = sp.csr_matrix((w[row_cell], (dom.codes[row_cell], np.arange(n_rows))), shape=(k, n_rows))
    sub = np.ix_(np.arange(n_rows), cols, cols)

    def dom_sum(x: np.ndarray, scale_by: float) -> np.ndarray:
        flat = x[sub].reshape(n_rows, u * u).astype(np.float64)
        return np.asarray(ind @ flat).reshape(k, u, u) * scale_by

    aa_k, ya_k, yy_k = dom_sum(aa, 1.0), dom_sum(ya, sy), dom_sum(yy, sy * sy)
    cross = ya_k * rr[:, None, :]  # [k, v, u] = YA_vu R_u
    q = yy_k - cross - cross.transpose(0, 2, 1) + aa_k * rr[:, :, None] * rr[:, None, :]
    sq = np.einsum("kvc,kvu,kuc->kc", g, q, g)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, base_weight * sq / np.where(counts > 0, counts, 1), np.nan)
