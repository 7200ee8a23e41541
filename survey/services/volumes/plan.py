"""Validating a volumes file into a ``Plan``: rows to write and ``Issue`` values.

``parse`` checks the file's shape and values (no database); ``check``
resolves codes, checks the actor's scope and finds the rows that replace
stored ones; ``prepare`` does both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import Desk, Sector, Unit, Volume
from survey.services import access
from survey.services.access import Actor
from survey.services.desks import name_key
from survey.services.volumes.files import Issue, read_cells

DESK = "desk"
UNIT_SECTOR = "unit_sector"
COLUMNS: dict[str, tuple[str, ...]] = {
    DESK: ("desk", "month", "count"),
    UNIT_SECTOR: ("unit", "sector", "month", "count"),
}
MAX_COUNT = 2_147_483_647  # the column is a 32-bit integer
_CHUNK = 500
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
# What one-stop software writes for a month: 11/2026, 11-2026, T11/2026, "Tháng 11/2026".
_MONTH_FIRST = re.compile(r"^(?:thang\s*|t)?(\d{1,2})\s*[/.-]\s*(\d{4})$")
_INTEGER = re.compile(r"^[+-]?\d+$")
# vi-VN (and en) digit grouping: 1.234 / 1,234 / 1 234 / 12.345.678, always 3-digit groups.
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:([.,\u00a0\u202f ])\d{3})(?:\1\d{3})*$")
# Headers as one-stop exports word them, compared without case, diacritics or spacing
# (services.desks.name_key): Vietnamese first, the English names as before.
HEADER_ALIASES: dict[str, str] = {
    "desk": "desk",
    "ma quay": "desk",
    "ma quay (in tren ma qr)": "desk",
    "month": "month",
    "thang": "month",
    "thang/nam": "month",
    "ky": "month",
    "ky bao cao": "month",
    "count": "count",
    "so ho so": "count",
    "so luong ho so": "count",
    "so luong": "count",
    "tong so ho so": "count",
    "so ho so tiep nhan": "count",
    "so ho so da tiep nhan": "count",
    "unit": "unit",
    "ma don vi": "unit",
    "sector": "sector",
    "ma linh vuc": "sector",
}
# Looser headers ("Quầy", "Đơn vị", "Lĩnh vực"), read as the column only when the file has
# no code header for it: next to "Mã lĩnh vực", a "Lĩnh vực" column holds the names.
LOOSE_ALIASES: dict[str, str] = {"quay": "desk", "don vi": "unit", "linh vuc": "sector"}
# A title or a blank line may come before the headers: they are looked for this far down.
HEADER_SEARCH_ROWS = 10


@dataclass
class Parsed:
    kind: str | None
    rows: list[dict[str, Any]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    # Rows with every key and the month but no count: not yet known, left out (the
    # downloadable template lists every desk and month, to be filled in as far as known).
    # Their numbers are shown in the preview, so a formula that lost its value is seen.
    skipped: list[int] = field(default_factory=list)
    # Each column as the file heads it ("month": "Tháng"), for messages in the file's words.
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Resolved:
    row: int
    unit_id: int
    desk_id: int | None
    sector_id: int | None
    month: date
    count: int
    label: str  # desk code, or "UNIT/SECTOR", for the audit trail
    existing_id: int | None
    old_count: int | None


@dataclass
class Plan:
    kind: str | None
    rows: list[Resolved] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.issues and bool(self.rows)

    @property
    def new(self) -> int:
        return sum(1 for r in self.rows if r.existing_id is None)

    @property
    def replaced(self) -> int:
        return sum(1 for r in self.rows if r.existing_id is not None)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _blank(cells: Iterable[Any]) -> bool:
    return all(_text(c) == "" for c in cells)


def _short(value: Any) -> str:
    """A cell value fit to quote in a message: printable, at most 40 characters."""
    text = "".join(ch if ch.isprintable() else "?" for ch in _text(value))
    return text if len(text) <= 40 else text[:39] + "…"


def _month(value: Any, today: date) -> tuple[str | None, str | None]:
    """("YYYY-MM", None) or (None, issue code)."""
    if isinstance(value, datetime | date):
        year, month = value.year, value.month
    else:
        text = _text(value)
        if not text:
            return None, "required"
        match = _MONTH.match(text)
        if match:
            year, month = int(match.group(1)), int(match.group(2))
        else:
            match = _MONTH_FIRST.match(name_key(text))
            if not match:
                return None, "bad_month"
            year, month = int(match.group(2)), int(match.group(1))
        if not 1 <= month <= 12 or year < 2000:
            return None, "bad_month"
    if (year, month) > (today.year, today.month):
        return None, "future_month"
    return f"{year:04d}-{month:02d}", None


def _count(value: Any) -> tuple[int | None, str | None]:
    if isinstance(value, bool):
        return None, "not_integer"
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            return None, "not_integer"
        number = int(value)
    else:
        text = _text(value)
        if not text:
            return None, "required"
        if _GROUPED.match(text):
            text = re.sub(r"[.,\u00a0\u202f ]", "", text)
        if not _INTEGER.match(text):
            return None, "not_integer"
        number = int(text)
    if number < 0:
        return None, "negative"
    if number > MAX_COUNT:
        return None, "too_large"
    return number, None


def _header_name(value: Any) -> str:
    """The column a header names ("Mã quầy" is ``desk``), else the header in lower case."""
    text = _text(value).strip("\ufeff\u200b ")
    return HEADER_ALIASES.get(name_key(text), text.lower())


def header_names(cells: list[Any]) -> list[str]:
    """Each header cell's column, the loose ones only where no code header has it."""
    names = [_header_name(c) for c in cells]
    for i, cell in enumerate(cells):
        column = LOOSE_ALIASES.get(name_key(_text(cell)))
        if column is not None and column not in names:
            names[i] = column
    return names


def _known(names: list[str]) -> int:
    return len({n for n in names if n in COLUMNS[DESK] or n in COLUMNS[UNIT_SECTOR]})


def closest_layout(names: Iterable[str]) -> tuple[str, list[str]]:
    """The layout whose columns the headers hold most of (per desk on a tie), and
    the columns it still misses."""
    present = set(names)
    kind = max((DESK, UNIT_SECTOR), key=lambda k: (len(present & set(COLUMNS[k])), k == DESK))
    return kind, [c for c in COLUMNS[kind] if c not in present]


def parse(data: bytes, today: date) -> Parsed:
    """Read and check the file's shape and values (no database)."""
    cells, issues = read_cells(data)
    if issues:
        return Parsed(None, issues=issues)
    filled = [(n, values) for n, values in cells[: HEADER_SEARCH_ROWS * 4] if not _blank(values)]
    if not filled:
        return Parsed(None, issues=[Issue(None, None, "empty")])
    # The header row: the first that names two known columns (a report title may come
    # first), else the first row with anything in it.
    header_row, header_cells = next(
        (
            (n, values)
            for n, values in filled[:HEADER_SEARCH_ROWS]
            if _known(header_names(values)) >= 2
        ),
        filled[0],
    )
    rows = iter([(n, values) for n, values in cells if n > header_row])
    names = header_names(header_cells)
    if "desk" in names and ("unit" in names or "sector" in names):
        return Parsed(None, issues=[Issue(header_row, None, "ambiguous_columns")])
    kind, _missing = closest_layout(names)
    wanted = COLUMNS[kind]
    parsed = Parsed(kind, ignored_columns=[n for n in names if n and n not in wanted])
    parsed.headers = {
        name: _text(cell) for name, cell in zip(names, header_cells, strict=False) if name in wanted
    }
    for name in wanted:
        if names.count(name) > 1:
            parsed.issues.append(Issue(header_row, name, "duplicate_column"))
        elif name not in names:
            parsed.issues.append(Issue(header_row, name, "missing_column"))
    if parsed.issues:
        return parsed
    index = {name: names.index(name) for name in wanted}
    keys = wanted[:-2]  # desk | unit, sector
    seen: dict[tuple[str, ...], int] = {}
    for n, values in rows:
        if _blank(values):
            continue
        cells_of_row = {name: values[i] if i < len(values) else None for name, i in index.items()}
        cell = cells_of_row.get
        if _text(cell("count")) == "" and all(_text(cell(k)) for k in (*keys, "month")):
            parsed.skipped.append(n)
            continue
        record: dict[str, Any] = {"row": n}
        row_issues: list[Issue] = []
        for name in keys:
            text = _text(cell(name)).upper()
            if not text:
                row_issues.append(Issue(n, name, "required"))
            elif len(text) > 64 or not text.isprintable():
                # Never looked up: PostgreSQL refuses NUL, and no code looks like this.
                row_issues.append(Issue(n, name, "bad_code", _short(text)))
            record[name] = text
        month, problem = _month(cell("month"), today)
        if problem:
            row_issues.append(Issue(n, "month", problem, _short(cell("month"))))
        record["month"] = month
        count, problem = _count(cell("count"))
        if problem:
            row_issues.append(Issue(n, "count", problem, _short(cell("count"))))
        record["count"] = count
        if not row_issues:
            key = tuple(record[k] for k in keys) + (month,)
            if key in seen:
                row_issues.append(Issue(n, None, "duplicate_row", other_row=seen[key]))
            else:
                seen[key] = n
        parsed.issues.extend(row_issues)
        if not row_issues:
            parsed.rows.append(record)
    if not parsed.issues and not parsed.rows:
        parsed.issues.append(Issue(None, None, "no_rows"))
    return parsed


def parse_grid(cells: Iterable[tuple[str, date, str]], today: date) -> Parsed:
    """The manual entry grid's filled cells, (desk code, month, text), as a parsed file.

    Row numbers count the cells in the order given (the page maps them back to a
    desk and month); an empty cell is not a row. Counts read as in a file ("1.234").
    """
    parsed = Parsed(DESK)
    for n, (code, month, text) in enumerate(cells, 1):
        if not _text(text):
            continue
        shown, problem = _month(month, today)
        if problem:
            parsed.issues.append(Issue(n, "month", problem, f"{month:%m/%Y}"))
            continue
        count, problem = _count(text)
        if problem:
            parsed.issues.append(Issue(n, "count", problem, _short(text)))
            continue
        parsed.rows.append({"row": n, "desk": code.upper(), "month": shown, "count": count})
    return parsed


# --- checking against the database -------------------------------------------
def _chunks(items: list[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _as_month(text: str) -> date:
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def check(session: Session, user: Actor, parsed: Parsed) -> Plan:
    """Resolve codes, check the actor's scope and find the rows that replace stored ones.

    Rows that parsed are checked even when others did not, so one pass reports
    every problem of the file, in row order.
    """
    access.require(user, "volume.import", user.unit_id)
    plan = Plan(
        parsed.kind,
        ignored_columns=parsed.ignored_columns,
        skipped=list(parsed.skipped),
        headers=dict(parsed.headers),
    )
    if parsed.kind is None or any(
        i.row is None or i.code.endswith("_column") for i in parsed.issues
    ):
        plan.issues = list(parsed.issues)  # the file itself is wrong: rows mean nothing yet
        return plan
    allowed = access.scope_ids(session, user)
    if parsed.kind == DESK:
        _check_desks(session, parsed.rows, allowed, plan)
    else:
        _check_unit_sectors(session, parsed.rows, allowed, plan)
    if parsed.issues or plan.issues:
        plan.issues = sorted([*parsed.issues, *plan.issues], key=lambda i: i.row or 0)
        plan.rows = []
    return plan


def _check_desks(session: Session, rows: list[dict], allowed: set[int] | None, plan: Plan) -> None:
    codes = sorted({r["desk"] for r in rows})
    desks: dict[str, Desk] = {}
    for chunk in _chunks(codes):
        desks.update((d.code, d) for d in session.scalars(select(Desk).where(Desk.code.in_(chunk))))
    existing: dict[tuple[int, date], Volume] = {}
    ids = sorted({d.id for d in desks.values()})
    for chunk in _chunks(ids):
        stmt = select(Volume).where(Volume.desk_id.in_(chunk), Volume.sector_id.is_(None))
        existing.update(((v.desk_id, v.month), v) for v in session.scalars(stmt))
    for r in rows:
        desk = desks.get(r["desk"])
        if desk is None:
            plan.issues.append(Issue(r["row"], "desk", "unknown_desk", r["desk"]))
            continue
        if allowed is not None and desk.unit_id not in allowed:
            plan.issues.append(Issue(r["row"], "desk", "desk_out_of_scope", r["desk"]))
            continue
        month = _as_month(r["month"])
        old = existing.get((desk.id, month))
        # A stored count keeps the unit it was imported under, as responses do
        # (reports select and weight volumes by that unit, not the desk's current
        # one), so a moved desk's history stays with its old unit: replacing it
        # needs that unit in scope too.
        if old is not None and allowed is not None and old.unit_id not in allowed:
            plan.issues.append(Issue(r["row"], "desk", "volume_out_of_scope", r["desk"]))
            continue
        plan.rows.append(
            Resolved(
                row=r["row"],
                unit_id=old.unit_id if old is not None else desk.unit_id,
                desk_id=desk.id,
                sector_id=None,
                month=month,
                count=r["count"],
                label=desk.code,
                existing_id=old.id if old is not None else None,
                old_count=old.count if old is not None else None,
            )
        )


def _check_unit_sectors(
    session: Session, rows: list[dict], allowed: set[int] | None, plan: Plan
) -> None:
    units = {u.code.upper(): u for u in session.scalars(select(Unit))}
    sectors = {s.code.upper(): s for s in session.scalars(select(Sector))}
    unit_ids = sorted({units[r["unit"]].id for r in rows if r["unit"] in units})
    existing: dict[tuple[int, int, date], Volume] = {}
    for chunk in _chunks(unit_ids):
        stmt = select(Volume).where(
            Volume.unit_id.in_(chunk), Volume.desk_id.is_(None), Volume.sector_id.is_not(None)
        )
        existing.update(((v.unit_id, v.sector_id, v.month), v) for v in session.scalars(stmt))
    for r in rows:
        unit, sector = units.get(r["unit"]), sectors.get(r["sector"])
        if unit is None:
            plan.issues.append(Issue(r["row"], "unit", "unknown_unit", r["unit"]))
        elif allowed is not None and unit.id not in allowed:
            plan.issues.append(Issue(r["row"], "unit", "unit_out_of_scope", r["unit"]))
            unit = None
        if sector is None:
            plan.issues.append(Issue(r["row"], "sector", "unknown_sector", r["sector"]))
        if unit is None or sector is None:
            continue
        month = _as_month(r["month"])
        old = existing.get((unit.id, sector.id, month))
        plan.rows.append(
            Resolved(
                row=r["row"],
                unit_id=unit.id,
                desk_id=None,
                sector_id=sector.id,
                month=month,
                count=r["count"],
                label=f"{unit.code}/{sector.code}",
                existing_id=old.id if old is not None else None,
                old_count=old.count if old is not None else None,
            )
        )


def prepare(session: Session, user: Actor, data: bytes, today: date) -> tuple[Parsed, Plan]:
    parsed = parse(data, today)
    return parsed, check(session, user, parsed)
