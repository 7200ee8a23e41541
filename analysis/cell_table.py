"""Cell tables: ``analyze`` input as per-cell sufficient statistics, not rows.

A cell table has one row per distinct combination of its key columns (any design
columns: ``unit, desk, sector, sector_group, day, excluded``, a channel, the
questionnaire version, ...) with

* ``_n``: respondents in the cell;
* per item code X: ``X:answered`` (answers on the scale), ``X:satisfied``
  (answers >= the scale's satisfied minimum), ``X:sum`` and ``X:sumsq`` (of the
  scale values), ``X:na`` (N/A answers); not answered = ``_n`` - answered - N/A;
* per respondent group g (``Structure.groups()``: each criterion, then the
  composite): ``_any:g``, respondents answering at least one of its items.

Every respondent of a cell has the same weight, PSU and domain, so the weighted
ratios, their linearised influence and the bootstrap replicates are functions of
these totals (``cells.Cells``): the cell path is exact, not an approximation.

The one figure they do not give is a composite's SRS variance (``deff_composite``,
``n_eff``): S^2 sums each respondent's squared composite deviation, a
cross-product of items within a respondent.  Its exact sufficient statistic is
the count of respondents per answer pattern: ``patterns`` has key columns (those
of the table, ``month`` for ``day`` allowed), one column per item code (encoded
as ``tidy``: value, -1 N/A, 0 blank; values may be coarsened to what the reported
part needs, see ``coarsen``) and ``_n``.  Without it those two figures are None.
The Rao-Wu bootstrap rescales whole PSUs, so it runs on cells unchanged.

Patterns are about one row per respondent, so they grow with the responses.
``Moments`` is the bounded alternative: per coarse cell (the patterns' keys) the
sums over its respondents of a_v a_u, y_v a_u and y_v y_u (a answered, y the
reported part's ratio variable).  S^2 only needs sum w (g . (y - R a))^2 over a
domain, a quadratic form in those sums with w constant within a cell, so it is
exact too, at R x J x J numbers for R cells whatever the number of respondents;
moments of equal keys add, so a stored rollup and live rows combine
(``Moments.concat``).  Pass ``moments=`` instead of ``patterns=``.

``from_rows`` builds a table and patterns (or moments) from a tidy frame (tests,
large CSVs); ``moments_from_patterns`` turns patterns into moments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from questionnaires.model import Questionnaire

from .cells import Cells, cell_keys
from .errors import AnalysisInputError
from .tidy import BLANK_CODE, NA_CODE, Encoded, _parse_days, _parse_flags, _parse_weight, encode

COUNT = "_n"
STATS = ("answered", "satisfied", "sum", "sumsq", "na")
ANY = "_any:"


def stat(code: str, name: str) -> str:
    return f"{code}:{name}"


def is_table(df: pd.DataFrame) -> bool:
    return isinstance(df, pd.DataFrame) and COUNT in df.columns and "response_id" not in df


def coarsen(part: str, questionnaire: Questionnaire) -> dict[int, int] | None:
    """Scale value -> value kept in patterns: for shares only satisfied or not matters.

    Fewer distinct patterns, same SRS variance (it only reads ``x >= satisfied_min``).
    """
    if part != "share":
        return None
    values = questionnaire.scale.values
    lo, hi = min(values), max(values)
    smin = questionnaire.scale.satisfied_min
    return {v: (hi if v >= smin else lo) for v in values}


def part_of(questionnaire: Questionnaire) -> str:
    """The ratio variable the questionnaire reports (``result.Context.part``)."""
    return "score" if questionnaire.aggregation == "mean" else "share"


def _groups(questionnaire: Questionnaire) -> list[list[int]]:
    from .estimators import Structure

    return Structure.of(questionnaire).groups()


def from_rows(
    responses: pd.DataFrame,
    questionnaire: Questionnaire,
    keys: Sequence[str],
    *,
    pattern_keys: Sequence[str] | None = None,
    part: str | None = None,
    moments: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame | Moments]:
    """(cell table, patterns) of a tidy frame over ``keys`` (flagged rows kept, keyed).

    ``pattern_keys``: the patterns' keys (default ``keys``; ``month`` may stand for
    ``day``).  ``part``: "share" coarsens the patterns (``coarsen``).
    ``moments``: return the patterns' ``Moments`` of ``part`` (default: the part the
    questionnaire reports) instead of the patterns.
    """
    enc = encode(
        responses,
        questionnaire,
        include_flagged=True,
        extra_columns=tuple(k for k in keys if k not in ("excluded", "weight")),
    )
    frame = responses[list(keys)].reset_index(drop=True).copy()
    if "excluded" in frame:
        frame["excluded"] = _parse_flags(responses["excluded"])
    codes = enc.item_codes
    values = np.array(questionnaire.scale.values)
    smin = questionnaire.scale.satisfied_min
    stats: dict[str, np.ndarray] = {COUNT: np.ones(enc.n, dtype=np.int64)}
    for code, x in zip(codes, enc.items, strict=True):
        x = x.astype(np.int64)
        ans = x >= values.min()
        stats[stat(code, "answered")] = ans.astype(np.int64)
        stats[stat(code, "satisfied")] = (ans & (x >= smin)).astype(np.int64)
        stats[stat(code, "sum")] = np.where(ans, x, 0)
        stats[stat(code, "sumsq")] = np.where(ans, x * x, 0)
        stats[stat(code, "na")] = (x == NA_CODE).astype(np.int64)
    for g, members in enumerate(_groups(questionnaire)):
        any_ = np.zeros(enc.n, dtype=bool)
        for k in members:
            any_ |= enc.items[k] > 0
        stats[f"{ANY}{g}"] = any_.astype(np.int64)
    long = pd.concat([frame, pd.DataFrame(stats)], axis=1)
    table = long.groupby(list(keys), sort=True, dropna=False).sum().reset_index()

    pkeys = list(pattern_keys or keys)
    pframe = frame.copy()
    if "month" in pkeys and "month" not in pframe:
        pframe["month"] = _month_labels(_parse_days(responses["day"]))
    mapping = coarsen(part, questionnaire) if part else None
    items = {}
    for code, x in zip(codes, enc.items, strict=True):
        if mapping:
            x = x.copy()
            for v, to in mapping.items():
                x[x == v] = to
        items[code] = x
    pats = pd.concat([pframe[pkeys], pd.DataFrame(items)], axis=1)
    patterns = pats.groupby(pkeys + codes, sort=True, dropna=False).size().reset_index(name=COUNT)
    if moments:
        return table, moments_from_patterns(patterns, questionnaire, part or part_of(questionnaire))
    return table, patterns


def _month_labels(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(days.astype("datetime64[M]"), unit="M").astype(object)


# Cells with at least this many pattern rows get their own BLAS product; smaller ones
# are summed in chunks of outer products (one BLAS call each would cost more in
# Python overhead than in arithmetic).
_BLAS_MIN = 64
_OUTER_CHUNK = 1024


@dataclass
class Moments:
    """Per coarse cell, the second moments of answered (a) and the ratio variable (y).

    ``keys``: one row per cell, the patterns' key columns (``month`` for ``day``
    allowed); ``n`` (R,) respondents; ``aa``, ``ya``, ``yy`` (R, J, J) in
    ``all_item_codes()`` order: sum a_v a_u, sum y_v a_u, sum y_v y_u over the
    cell's respondents.  y is "answered and satisfied" for the share part and the
    integer x - lowest for the score part (the variance rescales it), so every sum
    is an exact integer.
    """

    part: str
    keys: pd.DataFrame
    n: np.ndarray
    aa: np.ndarray
    ya: np.ndarray
    yy: np.ndarray

    def __post_init__(self) -> None:
        if self.part not in ("share", "score"):
            raise ValueError(f"unknown part {self.part!r}; use 'share' or 'score'")
        r = len(self.keys)
        for name in ("aa", "ya", "yy"):
            arr = getattr(self, name)
            if arr.ndim != 3 or arr.shape[0] != r or arr.shape[1] != arr.shape[2]:
                raise ValueError(f"moments {name!r} must be (R, J, J) with R = {r} key rows")
        if self.n.shape != (r,):
            raise ValueError(f"moments 'n' must be ({r},)")

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def n_items(self) -> int:
        return self.aa.shape[1]

    def collapsed(self) -> Moments:
        """Rows of equal keys added, one row per distinct key (sorted)."""
        group, first = _key_groups(self.keys)
        keys = self.keys.iloc[first].reset_index(drop=True)
        order = np.argsort(group, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(group[order]) != 0]) if len(order) else []

        def add(x: np.ndarray) -> np.ndarray:
            if not len(order):
                return x[:0]
            return np.add.reduceat(x[order], starts, axis=0)

        return Moments(self.part, keys, add(self.n), add(self.aa), add(self.ya), add(self.yy))

    @staticmethod
    def concat(parts: Sequence[Moments]) -> Moments:
        """The moments of all their respondents: rows of equal keys added."""
        if not parts:
            raise ValueError("no moments to concatenate")
        part = parts[0].part
        if any(m.part != part for m in parts) or len({m.n_items for m in parts}) > 1:
            raise ValueError("moments of different parts or questionnaires do not add")
        return Moments(
            part,
            pd.concat([m.keys for m in parts], ignore_index=True),
            np.concatenate([m.n for m in parts]),
            np.concatenate([m.aa for m in parts]),
            np.concatenate([m.ya for m in parts]),
            np.concatenate([m.yy for m in parts]),
        ).collapsed()


def _key_groups(keys: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(group 0..R-1 of each row, in key order; first row of each group)."""
    if not len(keys.columns) or not len(keys):
        return np.zeros(len(keys), dtype=np.int64), np.arange(min(len(keys), 1))
    by = keys.groupby(list(keys.columns), sort=True, dropna=False, observed=True)
    # Dense codes: ngroup may skip unobserved categorical combinations.
    group, _ = pd.factorize(by.ngroup().to_numpy(dtype=np.int64), sort=True)
    first = np.unique(group, return_index=True)[1]
    return group.astype(np.int64, copy=False), first


def moments_from_patterns(
    patterns: pd.DataFrame, questionnaire: Questionnaire, part: str
) -> Moments:
    """The ``Moments`` of ``part`` of answer patterns (as ``from_rows`` makes them).

    Patterns are grouped by their key columns; per group the Gram matrix of
    [a, y] weighted by ``_n`` is one BLAS product (or, for small groups, a chunk of
    outer products), never a (rows x J x J) array at once.
    """
    if part not in ("share", "score"):
        raise ValueError(f"unknown part {part!r}; use 'share' or 'score'")
    codes = questionnaire.all_item_codes()
    for code in (*codes, COUNT):
        if code not in patterns:
            raise AnalysisInputError(f"missing column {code!r} in the patterns", column=code)
    keys = [c for c in patterns.columns if c not in codes and c != COUNT]
    j = len(codes)
    group, first = _key_groups(patterns[keys])
    r = len(first)
    key_frame = patterns[keys].iloc[first].reset_index(drop=True)
    x = patterns[codes].to_numpy(dtype=np.int64).reshape(len(patterns), j)
    m = patterns[COUNT].to_numpy(dtype=np.float64)
    a = x > 0
    if part == "share":
        y = (a & (x >= questionnaire.scale.satisfied_min)).astype(np.float64)
    else:
        y = np.where(a, x - min(questionnaire.scale.values), 0).astype(np.float64)
    b = np.hstack([a.astype(np.float64), y])  # (rows, 2J)
    gram = np.rint(_grouped_gram(b, m, group, r)).astype(np.int64)  # exact: small ints
    n = np.rint(np.bincount(group, weights=m, minlength=r)).astype(np.int64)
    return Moments(
        part,
        key_frame,
        n,
        gram[:, :j, :j],
        np.ascontiguousarray(gram[:, j:, :j]),
        np.ascontiguousarray(gram[:, j:, j:]),
    )


def _grouped_gram(b: np.ndarray, m: np.ndarray, group: np.ndarray, r: int) -> np.ndarray:
    """(r, p, p): per group g, sum over its rows of m_i b_i b_i^T."""
    p = b.shape[1]
    out = np.zeros((r, p, p))
    if not len(b):
        return out
    order = np.argsort(group, kind="stable")
    b, m, group = b[order], m[order], group[order]
    starts = np.searchsorted(group, np.arange(r))
    sizes = np.diff(np.r_[starts, len(group)])
    for g in np.flatnonzero(sizes >= _BLAS_MIN):
        rows = slice(starts[g], starts[g] + sizes[g])
        out[g] = b[rows].T @ (b[rows] * m[rows, None])
    small = sizes[group] < _BLAS_MIN
    if not small.any():
        return out
    bs, ms, gs = b[small], m[small], group[small]
    bounds = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]])  # first row of each group
    pos = 0
    while pos < len(gs):
        end = len(gs)
        if pos + _OUTER_CHUNK < end:  # cut at a group start; small groups fit a chunk
            end = int(bounds[np.searchsorted(bounds, pos + _OUTER_CHUNK, side="right") - 1])
        chunk = slice(pos, end)
        outer = np.einsum("iv,iu->ivu", bs[chunk] * ms[chunk, None], bs[chunk])
        local = bounds[(bounds >= pos) & (bounds < end)]
        out[gs[local]] += np.add.reduceat(outer, local - pos, axis=0)
        pos = end
    return out


class TableInput:
    """A validated cell table: the ``Encoded`` of its rows plus the per-cell totals."""

    def __init__(
        self,
        table: pd.DataFrame,
        questionnaire: Questionnaire,
        *,
        include_flagged: bool,
        extra_columns: tuple[str, ...],
        patterns: pd.DataFrame | None = None,
        moments: Moments | None = None,
    ) -> None:
        codes = questionnaire.all_item_codes()
        if patterns is not None and moments is not None:
            raise AnalysisInputError("give the answer patterns or their moments, not both")
        if moments is not None and moments.n_items != len(codes):
            raise AnalysisInputError(
                f"the moments have {moments.n_items} items, the questionnaire {len(codes)}"
            )
        for code in codes:
            for s in STATS:
                if stat(code, s) not in table:
                    raise AnalysisInputError(
                        f"missing column {stat(code, s)!r} in the cell table", column=code
                    )
        groups = _groups(questionnaire)
        for g in range(len(groups)):
            if f"{ANY}{g}" not in table:
                raise AnalysisInputError(f"missing column '{ANY}{g}' in the cell table")
        for col in ("day", *extra_columns):
            if col not in table and col != "month":
                raise AnalysisInputError(f"column {col!r} is not in the cell table", column=col)
        n = table[COUNT].to_numpy(dtype=np.int64)
        flagged = (
            _parse_flags(table["excluded"])
            if "excluded" in table
            else np.zeros(len(table), dtype=bool)
        )
        n_flagged = int(n[flagged].sum())
        keep = np.ones(len(table), dtype=bool)
        if n_flagged and not include_flagged:
            keep &= ~flagged
        keep &= n > 0
        self.flagged_n = n_flagged
        self.include_flagged = include_flagged
        kept = table.loc[keep].reset_index(drop=True)
        self.table = kept
        self.codes = codes
        self.groups = groups
        self.questionnaire = questionnaire
        weight = _parse_weight(kept["weight"]) if "weight" in kept else None
        frame_cols = [c for c in kept.columns if c in ("day", *extra_columns)]
        self.enc = Encoded(
            questionnaire=questionnaire,
            item_codes=codes,
            items=[],
            n_excluded=n_flagged if not include_flagged else 0,
            n_flagged_included=n_flagged if include_flagged else 0,
            weight=weight,
            frame=kept[frame_cols],
        )
        self.enc._day_values = _parse_days(kept["day"])
        self.enc._rows = np.arange(1, len(kept) + 1)
        self.n_rows = n[keep]
        self.patterns = patterns
        self.moments = moments

    @property
    def n(self) -> int:
        return int(self.n_rows.sum())

    def excluded_in(self, table: pd.DataFrame, inside: np.ndarray) -> int:
        """Flagged respondents of the (full) table's rows inside the domain."""
        if "excluded" not in table:
            return 0
        flagged = _parse_flags(table["excluded"])
        return int(table[COUNT].to_numpy(dtype=np.int64)[flagged & inside].sum())

    def build(self, columns: list[str]) -> Cells:
        """Cells over ``columns``: the table's rows merged where they differ elsewhere."""
        cell, t, labels, col_codes, d = cell_keys(self.enc, columns, len(self.table))

        def total(col: str) -> np.ndarray:
            x = self.table[col].to_numpy(dtype=np.float64)
            return np.bincount(cell, weights=x, minlength=t)

        n = np.rint(np.bincount(cell, weights=self.n_rows, minlength=t)).astype(np.int64)
        j = len(self.codes)
        values = np.array(self.questionnaire.scale.values, dtype=np.int64)
        lo, hi = int(values.min()), int(values.max())
        answered = np.zeros((t, j), dtype=np.int64)
        satisfied = np.zeros((t, j), dtype=np.int64)
        na = np.zeros((t, j), dtype=np.int64)
        score = np.zeros((t, j))
        for k, code in enumerate(self.codes):
            answered[:, k] = np.rint(total(stat(code, "answered")))
            satisfied[:, k] = np.rint(total(stat(code, "satisfied")))
            na[:, k] = np.rint(total(stat(code, "na")))
            score[:, k] = (total(stat(code, "sum")) - lo * answered[:, k]) / max(hi - lo, 1)
        blank = n[:, None] - answered - na
        any_answered = np.zeros((t, len(self.groups)), dtype=np.int64)
        for g in range(len(self.groups)):
            any_answered[:, g] = np.rint(total(f"{ANY}{g}"))
        out = Cells(col_codes, labels, n, d, answered, satisfied, score, na, blank, any_answered)
        self._row_cell = cell
        return out

    def pattern_rows(self, cells: Cells) -> tuple[list[np.ndarray], np.ndarray, np.ndarray] | None:
        """(items per pattern, cell of each pattern, respondents per pattern), or None.

        A pattern keyed by ``month`` instead of ``day`` goes to the cell of the first
        table row with its keys: cells that differ only by day (the PSU) share
        weight and domain, which is all the SRS variance reads.
        """
        pats = self.patterns
        if pats is None:
            return None
        keys = [c for c in pats.columns if c not in self.codes and c != COUNT]
        count = pats[COUNT].to_numpy(dtype=np.float64)
        kept, row_cell = self._key_cells(pats[keys], count, cells, "pattern")
        pats = pats.loc[kept]
        items = [pats[c].to_numpy(dtype=np.int8) for c in self.codes]
        return items, row_cell, count[kept]

    def moment_rows(self, cells: Cells) -> tuple[Moments, np.ndarray] | None:
        """(the moments of the counted respondents, cell of each row), or None.

        The keys are matched to cells as ``pattern_rows`` matches patterns'.
        """
        mom = self.moments
        if mom is None:
            return None
        kept, row_cell = self._key_cells(mom.keys, mom.n.astype(np.float64), cells, "moment row")
        if not kept.all():
            mom = Moments(
                mom.part,
                mom.keys.loc[kept].reset_index(drop=True),
                mom.n[kept],
                mom.aa[kept],
                mom.ya[kept],
                mom.yy[kept],
            )
        return mom, row_cell

    def _key_cells(
        self, keyed: pd.DataFrame, count: np.ndarray, cells: Cells, what: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows of ``keyed`` counted, the cell of each counted row).

        Flagged rows are dropped unless included; the counted rows must hold the
        cells' respondents.
        """
        keys = list(keyed.columns)
        table = self.table
        if "month" in keys and "month" not in table:
            table = table.assign(month=_month_labels(self.enc._day_values))
        # A key the table no longer holds (dropped by the caller) is one analyze
        # does not use: rows differing only there map to the same cells.
        keys = [k for k in keys if k in table]
        kept = np.ones(len(keyed), dtype=bool)
        if "excluded" in keyed and not self.include_flagged:
            kept = ~_parse_flags(keyed["excluded"])
        right = keyed.loc[kept, keys].reset_index(drop=True)
        left = table[keys].assign(_row=np.arange(len(table))).drop_duplicates(keys)
        for k in keys:  # merge on like types (a bool key read back as int, say)
            if k in ("excluded",):
                left[k] = _parse_flags(left[k])
                right[k] = _parse_flags(right[k])
            elif left[k].dtype != right[k].dtype:
                left[k] = left[k].astype(str)
                right[k] = right[k].astype(str)
        if keys:
            merged = right.merge(left, on=keys, how="left")
        else:  # one cell table row per key: all rows go to its first cell
            merged = right.assign(_row=0 if len(table) else np.nan)
        if merged["_row"].isna().any():
            raise AnalysisInputError(f"a {what} has no cell in the cell table")
        row_cell = self._row_cell[merged["_row"].to_numpy(dtype=np.int64)]
        if count[kept].sum() != cells.n.sum():
            raise AnalysisInputError(f"the {what}s do not count the respondents of the cells")
        return kept, row_cell


__all__ = [
    "ANY",
    "BLANK_CODE",
    "COUNT",
    "NA_CODE",
    "Moments",
    "TableInput",
    "from_rows",
    "is_table",
    "moments_from_patterns",
    "part_of",
    "stat",
]
