"""Errors raised for bad analysis input."""

from __future__ import annotations


class AnalysisInputError(ValueError):
    """The response table, questionnaire or volumes cannot be analysed.

    The message names what is wrong and where: ``column``, ``row`` (1-based data
    row, i.e. the CSV line after the header) and/or ``desk`` are set when known, so
    a caller can point an officer at the exact cell to fix.
    """

    def __init__(
        self,
        message: str,
        *,
        column: str | None = None,
        row: int | None = None,
        desk: str | None = None,
    ):
        self.column = column
        self.row = row
        self.desk = desk
        super().__init__(message)


class ConvergenceError(RuntimeError):
    """Raking did not reach its margins within the iteration limit."""
