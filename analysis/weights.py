"""Respondent weights: post-stratification, raking and trimming on cells.

Weights are computed per cell (every respondent of a cell shares one weight), and
every function also accepts a 2-D array of base weights, one row per bootstrap
replicate, so replicates are re-weighted in one vectorised pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .cells import Cells
from .errors import AnalysisInputError, ConvergenceError
from .notes import TRIM_INFEASIBLE, TRIM_NOT_CONVERGED, UNUSED_VOLUMES, note

# Raking stops when every margin total is within this relative distance of its
# population count after a full sweep; more than MAX_ITER sweeps is an error.
RAKE_TOL = 1e-10
RAKE_MAX_ITER = 100
# Bounded raking (trimming) converges more slowly than plain raking near a bound.
BOUNDED_MAX_SWEEPS = 2000


@dataclass
class Margin:
    columns: tuple[str, ...]
    codes: np.ndarray  # (T,) category of each cell
    totals: np.ndarray  # (G,) population count of each category
    labels: list[str]  # "desk=A, month=2025-01"
    cells: list[dict[str, str]] | None = None  # {"desk": "A", "month": "2025-01"}

    @property
    def size(self) -> int:
        return len(self.totals)

    def indicator(self) -> sp.csr_matrix:
        t = len(self.codes)
        return sp.csr_matrix((np.ones(t), (np.arange(t), self.codes)), shape=(t, self.size))


def margin_columns(table: pd.DataFrame) -> tuple[str, ...]:
    cols = tuple(c for c in table.columns if c != "volume")
    if "volume" not in table.columns:
        raise AnalysisInputError("volumes need a 'volume' column", column="volume")
    if not cols:
        raise AnalysisInputError("volumes need at least one cell column, e.g. 'desk'")
    return cols


def build_margins(cells: Cells, tables: list[pd.DataFrame]) -> tuple[list[Margin], list[dict]]:
    """Match each volume table (cell columns + ``volume``) to the cells."""
    margins, notes = [], []
    for table in tables:
        cols = margin_columns(table)
        vol = pd.to_numeric(table["volume"], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(vol) | (vol < 0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 1
            raise AnalysisInputError(
                f"bad volume {table['volume'].iloc[row - 1]!r} at row {row} of the volumes "
                "(expected a non-negative number)",
                column="volume",
                row=row,
            )
        vkeys = _join(*(table[c].astype(str).str.strip().to_numpy() for c in cols))
        dup = pd.Series(vkeys).duplicated().to_numpy()
        if dup.any():
            row = int(np.flatnonzero(dup)[0]) + 1
            raise AnalysisInputError(
                f"duplicate volume cell {_label(cols, vkeys[row - 1])} at row {row}", row=row
            )
        ckeys = _join(*(cells.labels[c][cells.columns[c]] for c in cols))
        codes, uniq = pd.factorize(ckeys)
        lookup = dict(zip(vkeys, vol, strict=True))
        totals = np.empty(len(uniq))
        for g, key in enumerate(uniq):
            if key not in lookup or lookup[key] <= 0:
                what = "no volume" if key not in lookup else "zero volume"
                desk = key.split("\x1f")[cols.index("desk")] if "desk" in cols else None
                raise AnalysisInputError(
                    f"{what} for {_label(cols, key)}, which has responses", desk=desk
                )
            totals[g] = lookup[key]
        unused = sorted(set(vkeys) - set(uniq))
        if unused:
            shown = [dict(zip(cols, k.split("\x1f"), strict=True)) for k in unused[:5]]
            notes.append(
                note(UNUSED_VOLUMES, n=len(unused), cells=shown, more=max(len(unused) - 5, 0))
            )
        labels = [_label(cols, k) for k in uniq]
        cells_of = [dict(zip(cols, k.split("\x1f"), strict=True)) for k in uniq]
        margins.append(Margin(cols, codes.astype(np.int64), totals, labels, cells_of))
    return margins, notes


def _join(*arrays: np.ndarray) -> np.ndarray:
    out = np.asarray(arrays[0], dtype=object).astype(str)
    for a in arrays[1:]:
        out = np.char.add(np.char.add(out, "\x1f"), np.asarray(a, dtype=object).astype(str))
    return out.astype(object)


def _label(cols: tuple[str, ...], key: str) -> str:
    return ", ".join(f"{c}={v}" for c, v in zip(cols, key.split("\x1f"), strict=True))


def _totals(w: np.ndarray, n: np.ndarray, margin: Margin) -> np.ndarray:
    if w.ndim == 1:
        return np.bincount(margin.codes, weights=w * n, minlength=margin.size)
    return np.asarray((w * n) @ margin.indicator())


def calibrate(d: np.ndarray, n: np.ndarray, margins: list[Margin]) -> tuple[np.ndarray, int]:
    """Weights matching every margin: one step for one margin, raking otherwise.

    Returns (weights, sweeps).  A category with no sample weight (possible in a
    bootstrap replicate) is left alone.  Raises ConvergenceError when raking has
    not converged after RAKE_MAX_ITER sweeps.
    """
    w = np.array(d, dtype=float)
    if not margins:
        return w, 0
    for sweep in range(1, RAKE_MAX_ITER + 1):
        for m in margins:
            tot = _totals(w, n, m)
            f = np.divide(m.totals, tot, out=np.ones_like(tot), where=tot > 0)
            w *= f[..., m.codes]
        if len(margins) == 1:
            return w, 1
        err = 0.0
        for m in margins:
            tot = _totals(w, n, m)
            dev = np.abs(tot - m.totals) / m.totals
            err = max(err, float(np.max(np.where(tot > 0, dev, 0.0))))
        if err < RAKE_TOL:
            return w, sweep
    raise ConvergenceError(
        f"raking did not converge in {RAKE_MAX_ITER} sweeps (max relative margin error "
        f"{err:.3g}); the margins may be inconsistent (different grand totals?)"
    )


def weighted_median(w: np.ndarray, n: np.ndarray) -> float:
    """Median of the respondents' weights (cell weight repeated n times)."""
    order = np.argsort(w, kind="stable")
    ws, cum = w[order], np.cumsum(n[order])
    total = cum[-1]
    lo = ws[np.searchsorted(cum, (total + 1) // 2)]  # the ceil(total/2)-th value
    hi = ws[np.searchsorted(cum, total // 2 + 1)]
    return float((lo + hi) / 2)


def trim_bounds(w: np.ndarray, n: np.ndarray, factor: float) -> tuple[float, float]:
    """The weight range of ``--trim factor``: median / factor .. factor x median.

    The median is that of the untrimmed calibrated weights and stays fixed while
    trimming (a median recomputed each round moves the cap it is chasing).
    """
    med = weighted_median(w, n)
    return med / factor, factor * med


def trim(
    d: np.ndarray, n: np.ndarray, margins: list[Margin], factor: float, w: np.ndarray
) -> tuple[np.ndarray, dict]:
    """Bounded raking: weights within ``trim_bounds`` that meet every margin.

    ``w`` are the untrimmed calibrated weights (they set the bounds).  The bounds
    on the weight become bounds on g = weight / base weight per cell, and
    ``rake_bounded`` solves R's ``calibrate(calfun = "raking", bounds = ...,
    bounds.const = TRUE)``.  When no such weights exist (a category's population
    cannot be carried by its respondents within the bounds, or the margins
    together cannot) or the sweeps run out, ``w`` is returned unchanged and the
    info says why: trimming is applied fully or not at all.
    """
    low, high = trim_bounds(w, n, factor)
    info = {
        "factor": factor,
        "median": weighted_median(w, n),
        "low": low,
        "high": high,
        "applied": False,
        "converged": False,
        "feasible": True,
        "sweeps": 0,
        "max_margin_error": None,
        "n_at_high": 0,
        "n_at_low": 0,
        "blocking": [],
        "weight_min": float(w.min()),
        "weight_max": float(w.max()),
    }
    tol = 1e-9
    if w.min() >= low * (1 - tol) and w.max() <= high * (1 + tol):
        info.update(converged=True, max_margin_error=_margin_error(w, n, margins))
        return w, info
    lo_g, hi_g = low / d, high / d
    blocking = infeasible_categories(d, n, margins, lo_g, hi_g)
    if blocking:
        info.update(feasible=False, blocking=blocking)
        return w, info
    new, sweeps, err = rake_bounded(d, n, margins, lo_g, hi_g)
    info.update(sweeps=sweeps, max_margin_error=err)
    if err >= RAKE_TOL:
        if not _jointly_feasible(d, n, margins, lo_g, hi_g):
            info.update(feasible=False, blocking=[{"margins": [list(m.columns) for m in margins]}])
        return w, info
    info.update(
        applied=True,
        converged=True,
        n_at_high=int(n[new >= high * (1 - tol)].sum()),
        n_at_low=int(n[new <= low * (1 + tol)].sum()),
        weight_min=float(new.min()),
        weight_max=float(new.max()),
    )
    return new, info


def trim_notes(info: dict) -> list[dict]:
    """The design notes of a ``trim`` result: none when the weights are within bounds."""
    if info["converged"]:
        return []
    bounds = {"factor": info["factor"], "low": info["low"], "high": info["high"]}
    if info["feasible"]:
        return [
            note(
                TRIM_NOT_CONVERGED,
                factor=info["factor"],
                sweeps=info["sweeps"],
                error=info["max_margin_error"],
            )
        ]
    blocking = info["blocking"]
    if blocking and "margins" in blocking[0]:
        return [note(TRIM_INFEASIBLE, **bounds, margins=blocking[0]["margins"], cells=[])]
    shown = [{k: b[k] for k in ("cell", "side", "mean_weight")} for b in blocking[:5]]
    return [note(TRIM_INFEASIBLE, **bounds, cells=shown, more=max(len(blocking) - 5, 0))]


def infeasible_categories(
    d: np.ndarray, n: np.ndarray, margins: list[Margin], lo_g: np.ndarray, hi_g: np.ndarray
) -> list[dict]:
    """Categories whose population lies outside what their respondents can carry
    within the bounds (every weight at its lower, or every one at its upper bound)."""
    out = []
    a = d * n
    for m in margins:
        least = np.bincount(m.codes, weights=a * lo_g, minlength=m.size)
        most = np.bincount(m.codes, weights=a * hi_g, minlength=m.size)
        count = np.bincount(m.codes, weights=n, minlength=m.size)
        for g in np.flatnonzero((least > m.totals * (1 + 1e-12)) | (most < m.totals * (1 - 1e-12))):
            out.append(
                {
                    "cell": m.cells[g] if m.cells else {"/".join(m.columns): str(g)},
                    "population": float(m.totals[g]),
                    "respondents": int(count[g]),
                    "mean_weight": float(m.totals[g] / count[g]),
                    "side": "high" if most[g] < m.totals[g] else "low",
                }
            )
    return out


def rake_bounded(
    d: np.ndarray,
    n: np.ndarray,
    margins: list[Margin],
    lo_g: np.ndarray,
    hi_g: np.ndarray,
    max_sweeps: int = BOUNDED_MAX_SWEEPS,
) -> tuple[np.ndarray, int, float]:
    """Raking with bounds on g = w / d (Deville & Saerndal's truncated raking).

    Finds g = clip(exp(X eta), lo_g, hi_g) with every margin met: the solution of
    R's ``calibrate(calfun = "raking", bounds = ...)``, which is unique when the
    bounds are feasible (it minimises the raking distance on the bounded set).
    R takes Newton steps on eta; here each sweep solves, for every category of
    each margin in turn, its own factor exactly (the unclipped ``r = exp(X eta)``
    is kept, so clipping loses nothing): block coordinate descent on the same
    convex dual, so both reach the same weights.  ``d`` may be (B, T), one row
    per bootstrap replicate (rows are swept together until each has converged);
    the bounds broadcast against it.  A category without sample weight (a
    replicate's) is left alone.

    Returns (weights, sweeps, max relative margin error); the weights always lie
    within the bounds, the error is below RAKE_TOL when the margins are met.
    """
    d = np.asarray(d, dtype=float)
    rows = d.reshape(-1, d.shape[-1])
    lo2 = np.broadcast_to(lo_g, d.shape).reshape(rows.shape)
    hi2 = np.broadcast_to(hi_g, d.shape).reshape(rows.shape)
    a2 = rows * n
    r2 = np.ones_like(rows)
    err = np.zeros(len(rows))
    active = np.arange(len(rows)) if margins else np.arange(0)
    sweeps = 0
    while len(active) and sweeps < max_sweeps:
        sweeps += 1
        ra, aa, la, ha = r2[active], a2[active], lo2[active], hi2[active]
        # Bounds that only the margins together break make r diverge: such a row
        # stops at max_sweeps with its error (overflow there is expected).
        with np.errstate(over="ignore", invalid="ignore"):
            for m in margins:
                ra = np.where(aa > 0, ra * _category_factors(ra, aa, la, ha, m)[:, m.codes], 1.0)
            r2[active] = ra
            g = np.clip(ra, la, ha)
            e = np.zeros(len(active))
            for m in margins:
                tot = np.asarray((g * aa) @ m.indicator())
                dev = np.abs(tot - m.totals) / m.totals
                e = np.maximum(e, np.max(np.where(tot > 0, dev, 0.0), axis=-1))
        e = np.where(np.isfinite(e), e, np.inf)
        err[active] = e
        active = active[e >= RAKE_TOL]
    w = rows * np.clip(r2, lo2, hi2)
    return w.reshape(d.shape), sweeps, (err if d.ndim > 1 else float(err[0]))


def trim_replicates(
    d: np.ndarray,
    n: np.ndarray,
    margins: list[Margin],
    lo_g: np.ndarray,
    hi_g: np.ndarray,
    w: np.ndarray,
) -> tuple[np.ndarray, int]:
    """Bounded raking of (B, T) replicate base weights ``d``, all rows at once.

    The g-bounds are the full sample's (as R's ``calibrate`` on replicate weights
    applies one set of bounds to every replicate): a replicate weight is bounded
    relative to its own base weight.  A replicate whose bounds cannot be met
    keeps its untrimmed calibrated weights ``w``, like the full sample would;
    returns (weights, number of such replicates).
    """
    a = d * n
    bad = np.zeros(len(d), dtype=bool)
    for m in margins:
        ind = m.indicator()
        mass = np.asarray(a @ ind)
        least, most = np.asarray((a * lo_g) @ ind), np.asarray((a * hi_g) @ ind)
        tot = m.totals[None, :]
        bad |= ((mass > 0) & ((least > tot * (1 + 1e-12)) | (most < tot * (1 - 1e-12)))).any(axis=1)
    out = np.array(w, dtype=float)
    ok = np.flatnonzero(~bad)
    if len(ok):
        new, _, err = rake_bounded(d[ok], n, margins, lo_g, hi_g)
        met = err < RAKE_TOL
        out[ok[met]] = new[met]
        bad[ok[~met]] = True
    return out, int(bad.sum())


def _category_factors(
    r: np.ndarray, a: np.ndarray, lo: np.ndarray, hi: np.ndarray, m: Margin
) -> np.ndarray:
    """(B, G) factors f with sum over category of a * clip(r f, lo, hi) = total.

    The sum is piecewise linear and non-decreasing in f.  Each step solves the
    linear piece at the current f exactly (Newton on a piecewise-linear function),
    and falls back to bisection on log f inside a bracket when that step would
    leave the bracket; a handful of steps reach the exact piece.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _solve_factors(r, a, lo, hi, m)


def _solve_factors(r, a, lo, hi, m: Margin) -> np.ndarray:
    # A cell without sample weight (a replicate's) may carry any r: keep it out.
    r = np.where(a > 0, r, 1.0)
    ind = m.indicator()

    def per_cat(x):
        return np.asarray(x @ ind)

    total = m.totals[None, :]
    mass = per_cat(a)
    with np.errstate(divide="ignore"):
        t_low = _reduce(np.minimum, np.log(lo / r), m)
        t_high = _reduce(np.maximum, np.log(hi / r), m)
    cur = per_cat(a * np.clip(r, lo, hi))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.log(np.where(cur > 0, total / np.where(cur > 0, cur, 1), 1.0))
    t = np.clip(t, t_low, t_high)
    left, right = t_low.copy(), t_high.copy()
    done = mass <= 0
    for _ in range(100):
        v = r * np.exp(t)[:, m.codes]
        below, above = v <= lo, v >= hi
        free = ~(below | above)
        s_fixed = per_cat(a * np.where(below, lo, 0.0) + a * np.where(above, hi, 0.0))
        s_free = per_cat(np.where(free, a * r, 0.0))
        h = s_fixed + np.exp(t) * s_free
        done |= (np.abs(h - total) <= 1e-13 * total) | (right - left <= 1e-13)
        if done.all():
            break
        left = np.where(h < total, t, left)
        right = np.where(h > total, t, right)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = np.log((total - s_fixed) / s_free)
        inside = np.isfinite(newton) & (newton > left) & (newton < right)
        mid = np.where(
            np.isfinite(left) & np.isfinite(right),
            (left + right) / 2,
            np.where(np.isfinite(left), np.maximum(left, t) + 1.0, np.minimum(right, t) - 1.0),
        )
        t = np.where(done, t, np.where(inside, newton, mid))
    return np.where(mass > 0, np.exp(t), 1.0)


def _reduce(op, x: np.ndarray, m: Margin) -> np.ndarray:
    """(B, G) op-reduction of (B, T) ``x`` over each category of ``m``."""
    order = np.argsort(m.codes, kind="stable")
    codes = m.codes[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    out = op.reduceat(x[:, order], starts, axis=1)
    full = np.full((x.shape[0], m.size), np.nan)
    full[:, codes[starts]] = out
    return full


def _margin_error(w: np.ndarray, n: np.ndarray, margins: list[Margin]) -> float:
    err = 0.0
    for m in margins:
        tot = _totals(w, n, m)
        err = max(err, float(np.max(np.abs(tot - m.totals) / m.totals)))
    return err


def _jointly_feasible(
    d: np.ndarray, n: np.ndarray, margins: list[Margin], lo_g: np.ndarray, hi_g: np.ndarray
) -> bool:
    """Whether some g within the bounds meets every margin (a linear programme)."""
    from scipy.optimize import linprog

    a = d * n
    blocks = [sp.csr_matrix(m.indicator().T.multiply(a[None, :])) for m in margins]
    res = linprog(
        np.zeros(len(d)),
        A_eq=sp.vstack(blocks).tocsr(),
        b_eq=np.concatenate([m.totals for m in margins]),
        bounds=np.column_stack([lo_g, hi_g]),
        method="highs",
    )
    return res.status == 0


def kish(w: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Kish's design effect 1 + CV^2(w) and effective sample size (sum w)^2 / sum w^2."""
    s1, s2, total = float(np.sum(n * w)), float(np.sum(n * w * w)), float(np.sum(n))
    if total == 0 or s2 == 0:
        return 1.0, total
    return total * s2 / (s1 * s1), s1 * s1 / s2
