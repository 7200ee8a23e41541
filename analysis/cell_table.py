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

``from_rows`` builds both from a tidy frame (tests, large CSVs).
"""

from __future__ import annotations

from collections.abc import Sequence

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
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cell table, patterns) of a tidy frame over ``keys`` (flagged rows kept, keyed).

    ``pattern_keys``: the patterns' keys (default ``keys``; ``month`` may stand for
    ``day``).  ``part``: "share" coarsens the patterns (``coarsen``).
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
    return table, patterns


def _month_labels(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(days.astype("datetime64[M]"), unit="M").astype(object)


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
    ) -> None:
        codes = questionnaire.all_item_codes()
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
        table = self.table
        if "month" in keys and "month" not in table:
            table = table.assign(month=_month_labels(self.enc._day_values))
        # A key the table no longer holds (dropped by the caller) is one analyze
        # does not use: patterns differing only there map to the same cells.
        keys = [k for k in keys if k in table]
        if "excluded" in pats and not self.include_flagged:
            pats = pats.loc[~_parse_flags(pats["excluded"])]
        left = table[keys].assign(_row=np.arange(len(table))).drop_duplicates(keys)
        for k in keys:  # merge on like types (a bool key read back as int, say)
            if k in ("excluded",):
                left[k] = _parse_flags(left[k])
                pats = pats.assign(**{k: _parse_flags(pats[k])})
            elif left[k].dtype != pats[k].dtype:
                left[k] = left[k].astype(str)
                pats = pats.assign(**{k: pats[k].astype(str)})
        merged = pats.merge(left, on=keys, how="left")
        if merged["_row"].isna().any():
            raise AnalysisInputError("a pattern has no cell in the cell table")
        row_cell = self._row_cell[merged["_row"].to_numpy(dtype=np.int64)]
        items = [merged[c].to_numpy(dtype=np.int8) for c in self.codes]
        count = merged[COUNT].to_numpy(dtype=np.float64)
        if count.sum() != cells.n.sum():
            raise AnalysisInputError("the patterns do not count the respondents of the cells")
        return items, row_cell, count


__all__ = ["ANY", "BLANK_CODE", "COUNT", "NA_CODE", "TableInput", "from_rows", "is_table", "stat"]
