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
from .notes import UNUSED_VOLUMES, note

# Raking stops when every margin total is within this relative distance of its
# population count after a full sweep; more than MAX_ITER sweeps is an error.
RAKE_TOL = 1e-10
RAKE_MAX_ITER = 100
TRIM_MAX_ROUNDS = 50


@dataclass
class Margin:
    columns: tuple[str, ...]
    codes: np.ndarray  # (T,) category of each cell
    totals: np.ndarray  # (G,) population count of each category
    labels: list[str]  # "desk=A, month=2025-01"

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
        margins.append(Margin(cols, codes.astype(np.int64), totals, labels))
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


def trim(
    w: np.ndarray, n: np.ndarray, margins: list[Margin], factor: float
) -> tuple[np.ndarray, dict]:
    """Cap weights at ``factor`` x median, re-rake, repeat until both hold.

    Stops without meeting the cap when re-raking undoes the trimming (every weight
    of a post-stratum is equal, so there is nothing to trim) and says so.
    """
    info = {"factor": factor, "rounds": 0, "converged": True, "cap": None, "n_trimmed": 0}
    for rounds in range(TRIM_MAX_ROUNDS + 1):
        cap = factor * weighted_median(w, n)
        info["cap"] = cap
        over = w > cap * (1 + 1e-9)
        if not over.any():
            info["rounds"] = rounds
            return w, info
        if rounds == TRIM_MAX_ROUNDS:
            break
        info["n_trimmed"] = int(n[over].sum())
        new, _ = calibrate(np.minimum(w, cap), n, margins)
        if new.max() >= w.max() * (1 - 1e-12):
            w = new
            break
        w = new
    info["rounds"] = rounds
    info["converged"] = False
    return w, info


def kish(w: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Kish's design effect 1 + CV^2(w) and effective sample size (sum w)^2 / sum w^2."""
    s1, s2, total = float(np.sum(n * w)), float(np.sum(n * w * w)), float(np.sum(n))
    if total == 0 or s2 == 0:
        return 1.0, total
    return total * s2 / (s1 * s1), s1 * s1 / s2
