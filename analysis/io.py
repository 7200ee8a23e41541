"""Reading the CSV forms of responses and volumes."""

from __future__ import annotations

import os

import pandas as pd

from .errors import AnalysisInputError


def read_responses(path: str | os.PathLike) -> pd.DataFrame:
    """All columns as text: "NA" stays the string NA, empty cells stay empty."""
    return _read(path, "responses")


def read_volumes(path: str | os.PathLike) -> pd.DataFrame:
    return _read(path, "volumes")


def _read(path, what: str) -> pd.DataFrame:
    try:
        # keep_default_na=False: pandas would otherwise turn "NA" into a missing value.
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise AnalysisInputError(f"{what} file not found: {path}") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise AnalysisInputError(f"cannot read {what} CSV {path}: {exc}") from exc
