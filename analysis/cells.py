"""Collapse respondents into cells: every estimate's sufficient statistics.

A cell is a distinct combination of the design columns in use (PSU, stratum,
weighting cells, breakdown columns, base weight).  Every respondent of a cell has
the same weight and the same PSU, so sums over respondents of anything we need
(answered, satisfied, score) are weight x count per cell.  After one pass of
``np.bincount`` over the rows, everything else (weighting, estimates, variances,
bootstrap replicates) works on the small cell table, not the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .tidy import Encoded

_MAX_KEY = 2**62


@dataclass
class Cells:
    columns: dict[str, np.ndarray]  # design column -> code of each cell
    labels: dict[str, np.ndarray]  # design column -> label of each code
    n: np.ndarray  # (T,) respondents
    d: np.ndarray  # (T,) base weight of each respondent in the cell
    answered: np.ndarray  # (T, J) answers on the scale (N/A and blanks excluded)
    satisfied: np.ndarray  # (T, J) answers >= scale.satisfied_min
    score: np.ndarray  # (T, J) sum of (x - lowest) / (highest - lowest), in 0..1
    na: np.ndarray  # (T, J) N/A answers
    blank: np.ndarray  # (T, J) not answered
    any_answered: np.ndarray  # (T, G) respondents answering at least one item of group g
    # Cell of each kept row: the per-respondent second moments of composites
    # (estimators.srs_variance) cannot be had from cell sums.
    row_cell: np.ndarray | None = None

    @property
    def size(self) -> int:
        return len(self.n)


def cell_keys(enc: Encoded, columns: list[str], rows: int):
    """Each row's cell over ``columns`` (and the base weight, if any).

    Returns (cell of each row, number of cells, labels and codes per column,
    the cells' base weights): shared by rows of responses and rows of a cell
    table (``cell_table``), which merge the same way."""
    codes, cards, labels = [], [], {}
    for name in columns:
        c, lab = enc.column(name)
        codes.append(c)
        cards.append(max(len(lab), 1))
        labels[name] = lab
    if enc.weight is not None:
        wc, wu = pd.factorize(enc.weight)
        codes.append(wc.astype(np.int64, copy=False))
        cards.append(max(len(wu), 1))
    cell, comps = _combine(codes, cards, rows)
    t = len(comps[0]) if comps else (1 if rows else 0)
    col_codes = {name: comps[i] for i, name in enumerate(columns)}
    if enc.weight is not None:
        d = np.asarray(wu, dtype=float)[comps[len(columns)]]
    else:
        d = np.ones(t)
    return cell, t, labels, col_codes, d


def build(enc: Encoded, columns: list[str], groups: list[list[int]]) -> Cells:
    """Cells over ``columns`` (names understood by ``enc.column``)."""
    cell, t, labels, col_codes, d = cell_keys(enc, columns, enc.n)
    n = np.bincount(cell, minlength=t).astype(np.int64)

    scale = enc.questionnaire.scale
    values = np.array(scale.values, dtype=np.int64)
    lo, hi = int(values.min()), int(values.max())
    width = hi + 2  # code + 1 runs over 0 (N/A), 1 (blank), 2..hi+1 (scale points)
    base = cell * width + 1
    j = len(enc.items)
    answered = np.zeros((t, j), dtype=np.int64)
    satisfied = np.zeros((t, j), dtype=np.int64)
    na = np.zeros((t, j), dtype=np.int64)
    blank = np.zeros((t, j), dtype=np.int64)
    score = np.zeros((t, j))
    z = (values - lo) / max(hi - lo, 1)
    sat = values >= scale.satisfied_min
    for k, arr in enumerate(enc.items):
        cnt = np.bincount(base + arr, minlength=t * width).reshape(t, width)
        by_value = cnt[:, values + 1]
        na[:, k] = cnt[:, 0]
        blank[:, k] = cnt[:, 1]
        answered[:, k] = by_value.sum(axis=1)
        satisfied[:, k] = by_value[:, sat].sum(axis=1)
        score[:, k] = by_value @ z
    any_answered = np.zeros((t, len(groups)), dtype=np.int64)
    for g, members in enumerate(groups):
        ans = np.zeros(enc.n, dtype=bool)
        for k in members:
            ans |= enc.items[k] > 0
        any_answered[:, g] = np.bincount(cell, weights=ans, minlength=t).astype(np.int64)
    return Cells(col_codes, labels, n, d, answered, satisfied, score, na, blank, any_answered, cell)


def _combine(codes: list[np.ndarray], cards: list[int], n: int):
    """Row -> cell index and, per column, the code of each cell.

    Mixed-radix keys are factorised whenever the radix product would overflow, and
    the chain of factorisations is unwound to decode the cells' components.
    """
    if not codes:
        return np.zeros(n, dtype=np.int64), []
    key = np.zeros(n, dtype=np.int64)
    prod = 1
    steps: list[tuple[list[tuple[int, int]], np.ndarray]] = []
    block: list[tuple[int, int]] = []
    for i, (c, k) in enumerate(zip(codes, cards, strict=True)):
        if prod * k >= _MAX_KEY:
            key, uniq = pd.factorize(key)
            key = key.astype(np.int64, copy=False)
            steps.append((block, uniq))
            prod, block = len(uniq), []
        key = key * k + c
        prod *= k
        block.append((i, k))
    cell, uniq = pd.factorize(key)
    steps.append((block, uniq))
    comps: list[np.ndarray | None] = [None] * len(codes)
    cur = np.arange(len(uniq))
    for blk, un in reversed(steps):
        vals = np.asarray(un, dtype=np.int64)[cur]
        for i, k in reversed(blk):
            comps[i] = vals % k
            vals = vals // k
        cur = vals
    return cell.astype(np.int64, copy=False), comps
