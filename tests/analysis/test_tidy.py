"""Input validation and encoding of the tidy table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import AnalysisInputError, analyze
from analysis.tidy import BLANK_CODE, NA_CODE, encode
from tests.analysis.support import small_frame


def _frame():
    return small_frame(
        {"P1": [5, 4, "NA", ""], "P2": [1, 2, 3, 4], "Q1": [5, 5, 5, 5], "HL": [4, "", "NA", 5]}
    )


def test_encoding_of_values_na_and_blanks(small_q):
    enc = encode(_frame(), small_q)
    assert enc.item_codes == ["P1", "P2", "Q1", "HL"]
    assert enc.items[0].tolist() == [5, 4, NA_CODE, BLANK_CODE]
    assert enc.items[3].tolist() == [4, BLANK_CODE, NA_CODE, 5]
    assert all(a.dtype == np.int8 for a in enc.items)


def test_numeric_and_encoded_columns(small_q):
    df = _frame()
    df["P2"] = [1.0, np.nan, 3.0, 4.0]
    df["Q1"] = np.array([5, -1, 0, 4], dtype=np.int8)
    enc = encode(df, small_q)
    assert enc.items[1].tolist() == [1, BLANK_CODE, 3, 4]
    assert enc.items[2].tolist() == [5, NA_CODE, BLANK_CODE, 4]


@pytest.mark.parametrize(
    "mutate, column, row, text",
    [
        (lambda df: df.assign(P9=["1"] * 4), "P9", None, "unknown column 'P9'"),
        (lambda df: df.drop(columns=["desk"]), "desk", None, "missing required column"),
        (lambda df: df.drop(columns=["Q1"]), "Q1", None, "missing item column"),
        (lambda df: df.assign(P2=["1", "2", "7", "4"]), "P2", 3, "outside the scale"),
        (lambda df: df.assign(P2=["1", "2", "x", "4"]), "P2", 3, "outside the scale"),
        (lambda df: df.assign(P2=["1", "2", "3.5", "4"]), "P2", 3, "outside the scale"),
        (
            lambda df: df.assign(day=["2025-01-01", "2025-13-01", "2025-01-02", "x"]),
            "day",
            2,
            "bad date",
        ),
        (
            lambda df: df.assign(day=["2025-01-01", "01/02/2025", "2025-01-02", "x"]),
            "day",
            2,
            "bad date",
        ),
        (lambda df: df.assign(response_id=["a", "b", "a", "c"]), "response_id", 3, "duplicate"),
        (lambda df: df.assign(desk=["D1", "", "D1", "D1"]), "desk", 2, "empty value"),
        (lambda df: df.assign(excluded=["0", "1", "maybe", "0"]), "excluded", 3, "bad value"),
    ],
)
def test_bad_input_names_column_and_row(small_q, mutate, column, row, text):
    with pytest.raises(AnalysisInputError) as info:
        analyze(mutate(_frame()), small_q, by=["desk"])
    assert info.value.column == column
    assert info.value.row == row
    assert text in str(info.value)
    if row:
        assert f"row {row}" in str(info.value)


def test_na_not_allowed(small_q):
    from dataclasses import replace

    q = replace(small_q, overall_item=replace(small_q.overall_item, allow_na=False))
    with pytest.raises(AnalysisInputError, match="not allowed"):
        encode(_frame(), q)


def test_excluded_rows_are_dropped_and_counted(small_q):
    df = _frame().assign(excluded=["false", "true", "", "1"])
    res = analyze(df, small_q)
    assert res["n_responses"] == 2 and res["n_excluded"] == 2
    res = analyze(df, small_q, include_flagged=True)
    assert res["n_responses"] == 4 and res["n_excluded"] == 0
    assert res["design"]["n_flagged_included"] == 2


def test_datetime_days_and_month_labels(small_q):
    df = _frame()
    df["day"] = pd.to_datetime(["2025-01-31", "2025-02-01", "2025-02-01", "2025-03-05"])
    res = analyze(df, small_q, by=["month"])
    assert [g["key"] for g in res["groups"]["month"]] == ["2025-01", "2025-02", "2025-03"]


def test_encoded_column_out_of_range(small_q):
    df = _frame()
    df["P2"] = np.array([1, 2, 9, 4], dtype=np.int8)
    with pytest.raises(AnalysisInputError) as info:
        encode(df, small_q)
    assert info.value.row == 3 and info.value.column == "P2"
