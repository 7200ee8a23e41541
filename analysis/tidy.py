"""Validate the tidy response table and encode it as compact numpy arrays.

One row per response: ``response_id, unit, desk, sector, day`` (ISO date), optional
``excluded`` (quality flag), ``sector_group`` and ``weight`` (base weight), and one
column per item code holding 1..5, ``"NA"`` (Không áp dụng) or empty (not answered).

Item answers are encoded as int8: the scale value itself, ``NA_CODE`` (-1) or
``BLANK_CODE`` (0).  An integer column is taken to be in that encoded form already,
so large tables built in memory skip the string work entirely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd

from questionnaires.model import NA, Questionnaire

from .errors import AnalysisInputError

NA_CODE = -1
BLANK_CODE = 0

REQUIRED = ("response_id", "unit", "desk", "sector", "day")
OPTIONAL = ("excluded", "sector_group", "weight")
# Columns a response export may carry that the statistics ignore.
IGNORED = (
    "comment",
    "submitted_at",
    "channel",
    "procedure",
    "procedure_code",
    "questionnaire",
    "questionnaire_version",
    "submission_id",
    "flags",
)
DERIVED = ("month",)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE = {"true", "1", "yes", "y", "x", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


@dataclass
class Encoded:
    """The validated table: item codes plus factorised design columns."""

    questionnaire: Questionnaire
    item_codes: list[str]  # all_item_codes(): criterion items, then the overall item
    items: list[np.ndarray]  # one int8 array per item code, kept rows only
    n_excluded: int
    n_flagged_included: int
    weight: np.ndarray | None  # base weights or None (all 1)
    frame: pd.DataFrame  # kept rows, only the raw design columns we may need
    _codes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.frame)

    def column(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(codes per row, label per code) of a design column; labels are strings."""
        if name not in self._codes:
            self._codes[name] = self._factorize(name)
        return self._codes[name]

    def _factorize(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        if name == "month":
            months = self._day_values.astype("datetime64[M]").astype(np.int64)
            codes, uniques = pd.factorize(months, sort=True)
            labels = np.array([str(np.datetime64(int(m), "M")) for m in uniques], dtype=object)
            return codes.astype(np.int64, copy=False), labels
        if name == "day":
            days = self._day_values.astype(np.int64)
            codes, uniques = pd.factorize(days, sort=True)
            labels = np.array([str(np.datetime64(int(d), "D")) for d in uniques], dtype=object)
            return codes.astype(np.int64, copy=False), labels
        if name not in self.frame.columns:
            raise AnalysisInputError(f"column {name!r} is not in the responses", column=name)
        series = self.frame[name]
        codes, uniques = pd.factorize(series, sort=True)
        if (codes < 0).any():
            row = int(self._rows[np.flatnonzero(codes < 0)[0]])
            raise AnalysisInputError(
                f"empty value in column {name!r} at row {row}", column=name, row=row
            )
        labels = np.array([str(u) for u in uniques], dtype=object)
        if (labels == "").any() or any(not s.strip() for s in labels):
            bad = next(i for i, s in enumerate(labels) if not s.strip())
            row = int(self._rows[np.flatnonzero(codes == bad)[0]])
            raise AnalysisInputError(
                f"empty value in column {name!r} at row {row}", column=name, row=row
            )
        return codes.astype(np.int64, copy=False), labels

    # set by encode()
    _day_values: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    _rows: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]


def encode(
    df: pd.DataFrame,
    questionnaire: Questionnaire,
    *,
    include_flagged: bool = False,
    extra_columns: tuple[str, ...] | list[str] = (),
) -> Encoded:
    """Check ``df`` against ``questionnaire`` and encode it (see module docstring).

    Raises AnalysisInputError naming the column and 1-based data row of the first
    problem found.  ``extra_columns`` are further columns the caller will use (for
    post-strata or breakdowns); any other column that is not an item is an error,
    because an unknown column is usually a mistyped item code.
    """
    codes_all = questionnaire.all_item_codes()
    known = set(REQUIRED) | set(OPTIONAL) | set(IGNORED) | set(extra_columns)
    known |= {d.code for d in questionnaire.demographics}
    for col in df.columns:
        if not isinstance(col, str):
            raise AnalysisInputError(f"column names must be text, got {col!r}", column=str(col))
        if col not in known and col not in codes_all:
            raise AnalysisInputError(
                f"unknown column {col!r}: not an item of questionnaire {questionnaire.key}",
                column=col,
            )
    for col in REQUIRED:
        if col not in df.columns:
            raise AnalysisInputError(f"missing required column {col!r}", column=col)
    for code in codes_all:
        if code not in df.columns:
            raise AnalysisInputError(
                f"missing item column {code!r} of questionnaire {questionnaire.key}", column=code
            )
    n_rows = len(df)
    _check_ids(df["response_id"])
    day_values = _parse_days(df["day"])

    keep = None
    n_flagged = 0
    if "excluded" in df.columns:
        flagged = _parse_flags(df["excluded"])
        n_flagged = int(flagged.sum())
        if n_flagged and not include_flagged:
            keep = ~flagged

    weight = None
    if "weight" in df.columns:
        weight = _parse_weight(df["weight"])

    all_items = {it.code: it for it in questionnaire.items()}
    if questionnaire.overall_item is not None:
        all_items[questionnaire.overall_item.code] = questionnaire.overall_item
    values = tuple(questionnaire.scale.values)
    items = [_encode_item(df[code], code, values, all_items[code].allow_na) for code in codes_all]

    frame_cols = [c for c in df.columns if c not in codes_all and c not in ("excluded", "weight")]
    frame = df[frame_cols]
    rows = np.arange(1, n_rows + 1)
    if keep is not None:
        items = [a[keep] for a in items]
        frame = frame.loc[keep]
        day_values = day_values[keep]
        rows = rows[keep]
        if weight is not None:
            weight = weight[keep]
    enc = Encoded(
        questionnaire=questionnaire,
        item_codes=codes_all,
        items=items,
        n_excluded=n_flagged if keep is not None else 0,
        n_flagged_included=n_flagged if keep is None else 0,
        weight=weight,
        frame=frame.reset_index(drop=True),
    )
    enc._day_values = day_values
    enc._rows = rows
    return enc


def _first_row(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0]) + 1


def _check_ids(ids: pd.Series) -> None:
    missing = ids.isna().to_numpy().copy()
    if ids.dtype == object or pd.api.types.is_string_dtype(ids):
        missing |= ids.astype(str).str.strip().eq("").to_numpy() & ~missing
    if missing.any():
        row = _first_row(missing)
        raise AnalysisInputError(f"empty response_id at row {row}", column="response_id", row=row)
    dup = ids.duplicated().to_numpy()
    if dup.any():
        row = _first_row(dup)
        raise AnalysisInputError(
            f"duplicate response_id {ids.iloc[row - 1]!r} at row {row}",
            column="response_id",
            row=row,
        )


def _parse_days(s: pd.Series) -> np.ndarray:
    """Days as datetime64[D]; only ISO dates (YYYY-MM-DD) or date values are accepted."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        arr = s.to_numpy()
        bad = pd.isna(arr)
        if bad.any():
            row = _first_row(bad)
            raise AnalysisInputError(f"empty day at row {row}", column="day", row=row)
        return arr.astype("datetime64[D]")
    # Parse each distinct value once: a table has few distinct days.
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    parsed = np.empty(len(uniques), dtype="datetime64[D]")
    for i, u in enumerate(uniques):
        d = _one_day(u)
        if d is None:
            row = _first_row(codes == i)
            raise AnalysisInputError(
                f"bad date {u!r} in column 'day' at row {row} (expected YYYY-MM-DD)",
                column="day",
                row=row,
            )
        parsed[i] = d
    if (codes < 0).any():
        row = _first_row(codes < 0)
        raise AnalysisInputError(f"empty day at row {row}", column="day", row=row)
    return parsed[codes]


def _one_day(u) -> np.datetime64 | None:
    if isinstance(u, datetime | pd.Timestamp):
        return np.datetime64(u.date(), "D")
    if isinstance(u, date):
        return np.datetime64(u, "D")
    if isinstance(u, str):
        text = u.strip()
        if _ISO_DATE.match(text):
            try:
                return np.datetime64(date.fromisoformat(text), "D")
            except ValueError:
                return None
    return None


def _parse_flags(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s.dtype) and not s.isna().any():
        return s.to_numpy(dtype=bool)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    lut = np.zeros(len(uniques), dtype=bool)
    for i, u in enumerate(uniques):
        if isinstance(u, bool | np.bool_):
            lut[i] = bool(u)
            continue
        if isinstance(u, int | np.integer | float | np.floating) and u in (0, 1):
            lut[i] = bool(u)
            continue
        text = str(u).strip().lower()
        if text in _TRUE:
            lut[i] = True
        elif text not in _FALSE:
            row = _first_row(codes == i)
            raise AnalysisInputError(
                f"bad value {u!r} in column 'excluded' at row {row} (expected true/false)",
                column="excluded",
                row=row,
            )
    return np.where(codes < 0, False, lut[np.maximum(codes, 0)])


def _parse_weight(s: pd.Series) -> np.ndarray:
    w = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        row = _first_row(bad)
        raise AnalysisInputError(
            f"bad weight {s.iloc[row - 1]!r} at row {row} (expected a positive number)",
            column="weight",
            row=row,
        )
    return w


def _encode_item(s: pd.Series, code: str, values: tuple[int, ...], allow_na: bool) -> np.ndarray:
    valid = set(values)
    dtype = s.dtype

    def fail(mask: np.ndarray, value) -> None:
        row = _first_row(mask)
        raise AnalysisInputError(
            f"value {value!r} outside the scale in column {code!r} at row {row} "
            f"(expected {min(values)}..{max(values)}, {NA} or empty)",
            column=code,
            row=row,
        )

    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        # Already encoded: scale values, NA_CODE, BLANK_CODE.
        arr = s.to_numpy()
        allowed = np.array(sorted(valid | {NA_CODE, BLANK_CODE}))
        contiguous = len(allowed) == allowed[-1] - allowed[0] + 1
        # min/max are far cheaper than np.isin on big columns; isin only to find the row.
        if len(arr) and not (contiguous and allowed[0] <= arr.min() and arr.max() <= allowed[-1]):
            ok = np.isin(arr, allowed)
            if not ok.all():
                fail(~ok, arr[~ok][0])
        out = arr.astype(np.int8, copy=False)
    elif isinstance(dtype, np.dtype) and dtype.kind == "f":
        arr = s.to_numpy()
        blank = np.isnan(arr)
        ok = blank | np.isin(arr, np.array(sorted(valid), dtype=float))
        if not ok.all():
            fail(~ok, arr[~ok][0])
        out = np.where(blank, BLANK_CODE, arr).astype(np.int8)
    else:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        lut = np.empty(len(uniques), dtype=np.int8)
        for i, u in enumerate(uniques):
            v = _one_value(u, valid)
            if v is None:
                fail(codes == i, u)
            lut[i] = v
        out = np.where(codes < 0, BLANK_CODE, lut[np.maximum(codes, 0)]).astype(np.int8)
    if not allow_na and (out == NA_CODE).any():
        row = _first_row(out == NA_CODE)
        raise AnalysisInputError(
            f"{NA} is not allowed for item {code!r} (row {row})", column=code, row=row
        )
    return out


def _one_value(u, valid: set[int]) -> int | None:
    if isinstance(u, str):
        text = u.strip()
        if text == "":
            return BLANK_CODE
        if text.upper() == NA:
            return NA_CODE
        try:
            f = float(text)
        except ValueError:
            return None
    elif isinstance(u, bool | np.bool_):
        return None
    elif isinstance(u, int | np.integer | float | np.floating):
        f = float(u)
        if np.isnan(f):
            return BLANK_CODE
    else:
        return None
    if f.is_integer() and int(f) in valid:
        return int(f)
    return None
