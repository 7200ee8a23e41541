"""Numbers and dates for readers: vi_VN by default (85,3%; 1.234; 22/11/2026).

Every function takes the locale explicitly, so the same code serves web pages
(the request's locale), PDF and Excel files and the command line.
"""

from __future__ import annotations

from datetime import date

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

DEFAULT_LOCALE = "vi"
DASH = "–"


def _loc(locale) -> str:
    text = str(locale or DEFAULT_LOCALE)
    return "vi_VN" if text == "vi" else text


def pct(share: float | None, locale=DEFAULT_LOCALE, digits: int = 1) -> str:
    """A share 0..1 as a percentage: 0.853 -> "85,3%" (vi), "85.3%" (en)."""
    if share is None:
        return DASH
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return format_percent(share, format=pattern, locale=_loc(locale))


def interval(low: float | None, high: float | None, locale=DEFAULT_LOCALE) -> str:
    """A confidence interval: "83,1–87,4%"."""
    if low is None or high is None:
        return DASH
    return f"{pct(low, locale).rstrip('%')}{DASH}{pct(high, locale)}"


def num(value: float | None, locale=DEFAULT_LOCALE, digits: int = 0) -> str:
    """An integer or a decimal number: 1.234 / 4,12 (vi)."""
    if value is None:
        return DASH
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_loc(locale))


def day(value: date | None, locale=DEFAULT_LOCALE) -> str:
    """A date: 22/11/2026 (vi), 22 Nov 2026 (en)."""
    if value is None:
        return DASH
    pattern = "dd/MM/y" if str(locale).startswith("vi") else "d MMM y"
    return format_date(value, pattern, locale=_loc(locale))


def month(value: date, locale=DEFAULT_LOCALE, short: bool = False) -> str:
    """A month: "Tháng 10/2026" or "T10/2026" (short); "October 2026" or "Oct 2026"."""
    if str(locale).startswith("vi"):
        return f"T{value.month}/{value.year}" if short else f"Tháng {value.month}/{value.year}"
    return format_date(value, "MMM y" if short else "MMMM y", locale=_loc(locale))


ROMAN = ("I", "II", "III", "IV")


def quarter(year: int, q: int, locale=DEFAULT_LOCALE) -> str:
    """A quarter: "Quý III/2026" (vi), "Q3 2026" (en)."""
    if str(locale).startswith("vi"):
        return f"Quý {ROMAN[q - 1]}/{year}"
    return f"Q{q} {year}"
