"""Design variance by Taylor linearisation, as R's ``survey`` package computes it.

Given the cell totals X of each composite's influence (estimators.cell_influence):

1. Residualise within the weighting cells, like ``svyrecvar`` does for
   ``postStratify``: the influence of respondent i becomes
   x_i - w_i * sum_g(d x / w) / sum_g(d), with d the base weight.  For raking
   (several margins) we use the limit of R's alternating sweeps, the base-weighted
   least-squares residual on all margin indicators, in one step.
2. Sum to PSU totals, centre within strata, and add n_h / (n_h - 1) times the sum
   of squares.  A stratum with a single PSU is handled as R's
   ``options(survey.lonely.psu = "adjust")``: its PSU total is centred at the
   population mean of the influence, which is zero (the influence of a ratio sums
   to zero; so "the grand mean of PSU totals" and zero coincide), and scaled by 1.
3. Domains (breakdowns) are estimated as R's ``subset()`` does: influence zero
   outside the domain, the full design's strata and PSUs otherwise.

Everything is sparse over (PSU, domain x composite), so a breakdown over thousands
of desks costs about as much as the whole-sample estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .cells import Cells
from .estimators import Domain
from .weights import Margin


@dataclass
class Design:
    psu: np.ndarray  # (T,) PSU of each cell
    stratum_of_psu: np.ndarray  # (P,)
    psu_per_stratum: np.ndarray  # (H,)
    strata_columns: tuple[str, ...]
    psu_columns: tuple[str, ...]

    @property
    def n_psu(self) -> int:
        return len(self.stratum_of_psu)

    @property
    def n_strata(self) -> int:
        return len(self.psu_per_stratum)

    @property
    def lonely(self) -> np.ndarray:
        return self.psu_per_stratum == 1

    @property
    def df(self) -> int:
        return self.n_psu - self.n_strata

    def stratum(self) -> np.ndarray:
        return self.stratum_of_psu[self.psu]

    def strata_matrix(self) -> sp.csr_matrix:
        p = self.n_psu
        return sp.csr_matrix(
            (np.ones(p), (self.stratum_of_psu, np.arange(p))), shape=(self.n_strata, p)
        )

    def domain_df(self, dom: Domain) -> np.ndarray:
        """PSUs minus strata with respondents in each domain, as R's degf(subset(...))."""
        k = dom.size
        psus = np.unique(self.psu * k + dom.codes)
        strata = np.unique(self.stratum() * k + dom.codes)
        return np.bincount(psus % k, minlength=k) - np.bincount(strata % k, minlength=k)

    def domain_psus(self, dom: Domain, minimum: int) -> tuple[np.ndarray, ...]:
        """Per domain: its PSUs, its strata and those of its strata with < ``minimum`` PSUs.

        Counted over the cells with respondents in the domain, like ``domain_df``.
        """
        k = dom.size
        pairs = np.unique(self.psu * k + dom.codes)
        in_dom = pairs % k
        keys, per = np.unique(self.stratum_of_psu[pairs // k] * k + in_dom, return_counts=True)
        n_psu = np.bincount(in_dom, minlength=k)
        n_strata = np.bincount(keys % k, minlength=k)
        thin = np.bincount(keys[per < minimum] % k, minlength=k)
        return n_psu, n_strata, thin


def design_of(cells: Cells, strata: tuple[str, ...], psu: tuple[str, ...]) -> Design:
    """Strata and nested PSUs (PSU = psu columns within stratum, like nest=TRUE)."""
    t = cells.size
    if strata:
        s_codes = _group(cells, strata)
    else:
        s_codes = np.zeros(t, dtype=np.int64)
    p_key = np.column_stack([s_codes] + [cells.columns[c] for c in psu]) if psu else None
    if p_key is None:  # every respondent-cell its own PSU would lose respondents: refuse
        raise ValueError("a design needs PSU columns")
    p_codes = _group_arrays(p_key)
    n_psu = int(p_codes.max()) + 1 if t else 0
    stratum_of_psu = np.zeros(n_psu, dtype=np.int64)
    stratum_of_psu[p_codes] = s_codes
    h = int(s_codes.max()) + 1 if t else 0
    return Design(
        p_codes,
        stratum_of_psu,
        np.bincount(stratum_of_psu, minlength=h),
        tuple(strata),
        tuple(psu),
    )


def _group(cells: Cells, columns: tuple[str, ...]) -> np.ndarray:
    return _group_arrays(np.column_stack([cells.columns[c] for c in columns]))


def _group_arrays(key: np.ndarray) -> np.ndarray:
    if len(key) == 0:
        return np.zeros(0, dtype=np.int64)
    _, inv = np.unique(key, axis=0, return_inverse=True)
    return inv.reshape(-1).astype(np.int64)


@dataclass
class Residualiser:
    """Projection of the influence off the weighting-cell indicators."""

    margins: list[Margin]
    w: np.ndarray  # (T,) final weights
    d: np.ndarray  # (T,) base weights
    n: np.ndarray  # (T,)

    def __post_init__(self) -> None:
        t = len(self.w)
        self.offsets = np.cumsum([0] + [m.size for m in self.margins])
        g = int(self.offsets[-1])
        rows = np.tile(np.arange(t), len(self.margins))
        cols = np.concatenate(
            [m.codes + o for m, o in zip(self.margins, self.offsets, strict=False)]
        )
        self.ind = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(t, g))
        dn = self.d * self.n
        if len(self.margins) == 1:
            self.mdiag = np.bincount(cols, weights=dn, minlength=g)
            self.minv = None
        else:
            m = (self.ind.T @ sp.diags(dn) @ self.ind).toarray()
            self.minv = np.linalg.pinv(m, rcond=1e-12, hermitian=True)

    def coefficients(self, xd: sp.csr_matrix) -> sp.spmatrix | np.ndarray:
        """B (G x cols) with residual = x - w n (ind @ B) per cell."""
        b = self.ind.T @ (sp.diags(self.d / self.w) @ xd)
        if self.minv is None:
            return sp.diags(1.0 / self.mdiag) @ b
        return self.minv @ b.toarray()

    def psu_weight(self, psu: np.ndarray, n_psu: int) -> sp.csr_matrix:
        """(P x G) weight total of each PSU in each weighting category."""
        pm = sp.csr_matrix((self.w * self.n, (psu, np.arange(len(psu)))), shape=(n_psu, len(psu)))
        return pm @ self.ind


# Per pass of ``linearized_variance``: at most this many (domain x composite)
# columns and cell x composite entries, so the sparse (cells x columns) input and
# the dense (PSUs x columns) totals stay a few MB each at a province's size.
_BLOCK_COLUMNS = 256
_BLOCK_CELLS = 400_000


def linearized_variance(
    x: np.ndarray,
    dom: Domain,
    design: Design,
    resid: Residualiser | None,
    *,
    with_df: bool = False,
):
    """(K, C) variances of C composites in each of the K domains.

    With ``with_df`` also their (K, C) Satterthwaite degrees of freedom: the
    variance is a sum of stratum terms v_h with n_h - 1 df each, so
    df = (sum v_h)^2 / sum(v_h^2 / (n_h - 1)) (a single-PSU stratum counts as 1).
    It lies between the smallest n_h - 1 and PSUs - strata, and is near the small
    end when a few strata carry most of the variance.  Where the variance is 0 it
    is PSUs - strata.
    """
    t, c = x.shape
    k = dom.size
    if t == 0:
        v0 = np.zeros((k, c))
        return (v0, np.full((k, c), float(design.df))) if with_df else v0
    step = max(1, min(_BLOCK_COLUMNS // max(k, 1), _BLOCK_CELLS // t))
    if c > step:
        # Each (domain, composite) column is computed on its own: blocks of
        # composites bound the dense (PSUs x columns) totals, not the figures.
        parts = [
            linearized_variance(x[:, i : i + step], dom, design, resid, with_df=with_df)
            for i in range(0, c, step)
        ]
        if not with_df:
            return np.hstack(parts)
        return np.hstack([v for v, _df in parts]), np.hstack([df for _v, df in parts])
    rows = np.repeat(np.arange(t), c)
    cols = (dom.codes[:, None] * c + np.arange(c)[None, :]).ravel()
    xd = sp.csr_matrix((x.ravel(), (rows, cols)), shape=(t, k * c))
    to_psu = sp.csr_matrix((np.ones(t), (design.psu, np.arange(t))), shape=(design.n_psu, t))
    totals = to_psu @ xd  # (P, K*C)
    if resid is not None and resid.margins:
        b = resid.coefficients(xd)
        corr = resid.psu_weight(design.psu, design.n_psu) @ b
        if isinstance(corr, np.ndarray):
            totals = totals.toarray() - corr
        else:
            totals = (totals - corr).tocsr()
    strata = design.strata_matrix()
    nh = design.psu_per_stratum.astype(float)
    regular = nh > 1
    f = np.where(regular, nh / np.where(regular, nh - 1, 1), 1.0)
    centre = np.where(regular, 1.0 / nh, 0.0)
    if isinstance(totals, np.ndarray):
        sh = strata @ totals
        sh2 = strata @ (totals * totals)
        v = f @ sh2 - (f * centre) @ (sh * sh)
    else:
        sh = strata @ totals
        sh2 = strata @ totals.multiply(totals)
        v = np.asarray(sh2.T @ f).ravel() - np.asarray(sh.multiply(sh).T @ (f * centre)).ravel()
    v = np.maximum(np.asarray(v).reshape(k, c), 0.0)
    if not with_df:
        return v
    # Stratum terms (H, K*C): f_h (sum of squares - n_h mean^2), the summands of v.
    if isinstance(sh, np.ndarray):
        vh = f[:, None] * (sh2 - centre[:, None] * sh * sh)
        denom = (np.maximum(vh, 0.0) ** 2).T @ (1.0 / np.maximum(nh - 1, 1))
    else:
        sq = sp.csr_matrix(sp.csr_matrix(sh).multiply(sh))
        vh = sp.csr_matrix(sp.diags(f) @ (sp.csr_matrix(sh2) - sp.diags(centre) @ sq))
        vh = vh.maximum(0.0)
        denom = np.asarray(vh.multiply(vh).T @ (1.0 / np.maximum(nh - 1, 1))).ravel()
    denom = np.asarray(denom).reshape(k, c)
    with np.errstate(invalid="ignore", divide="ignore"):
        df = np.where(denom > 0, v * v / np.where(denom > 0, denom, 1.0), float(design.df))
    return v, np.minimum(df, float(max(design.df, 1)))


def domain_counts(values: np.ndarray, dom: Domain) -> np.ndarray:
    """Sum per domain of a per-cell (T,) or (T, m) array."""
    if values.ndim == 1:
        return np.bincount(dom.codes, weights=values, minlength=dom.size)
    return np.asarray(dom.indicator() @ values)
