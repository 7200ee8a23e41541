"""Transaction volumes imported from the one-stop software (CSV or XLSX).

Two layouts, told apart by the header row (case-insensitive, extra columns
ignored):

- per desk: ``desk`` (desk code), ``month`` (YYYY-MM), ``count``;
- per unit and sector: ``unit`` (unit code), ``sector`` (sector code), ``month``, ``count``.

The pipeline is ``parse`` (bytes -> rows, format errors), ``check`` (rows ->
plan, database and scope errors, which rows replace stored ones) and ``apply``
(writes the plan).  Nothing is written unless the whole file is valid.  An
XLSX file is judged from its zip directory before openpyxl opens it
(``check_xlsx_archive``): its cost is what it unpacks to, not its size.  Errors
are ``Issue`` values (row number as a spreadsheet shows it, column, code); the
web pages and the CLI word them.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from survey.models import Desk, Sector, Unit, Volume
from survey.models._types import utcnow
from survey.models.planning import VolumeUpload
from survey.services import access, audit
from survey.services.access import Actor
from survey.services.units import subtree_ids

DESK = "desk"
UNIT_SECTOR = "unit_sector"
COLUMNS: dict[str, tuple[str, ...]] = {
    DESK: ("desk", "month", "count"),
    UNIT_SECTOR: ("unit", "sector", "month", "count"),
}
# Uploads may be larger than the site-wide request limit (a year of a
# province's desks); the row cap bounds the work for XLSX too.
MAX_UPLOAD_BYTES = 4 * 1024 * 1024
MAX_ROWS = 50_000
MAX_COUNT = 2_147_483_647  # the column is a 32-bit integer
STAGING_TTL = timedelta(hours=2)
_CHUNK = 500
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_XLSX_MAGIC = b"PK\x03\x04"
# An XLSX file is a zip of XML parts: reading costs what the parts unpack to
# (about 0.3 s a MiB), not what was uploaded (80 KiB of shared strings can
# unpack to 32 MiB and take 20 s).  So the zip directory is checked before
# openpyxl opens anything.  10 MiB admits MAX_ROWS rows of desk,month,count
# as openpyxl writes them (8.1 MiB with 7-digit counts; Excel's are smaller);
# worksheets are streamed, but every other part (shared strings, styles...)
# is parsed whole before the first row, at about 15 µs a string, hence its
# own bound.
MAX_XLSX_UNPACKED = 10 * 1024 * 1024
MAX_XLSX_PART = 1024 * 1024  # any part but a worksheet
MAX_XLSX_RATIO = 100  # unpacked / packed, for parts above _RATIO_FROM
MAX_XLSX_PARTS = 256  # an honest workbook has about ten
MAX_COLUMNS = 64  # cells further right are not read
_RATIO_FROM = 256 * 1024
_CONTENT_TYPES = "[Content_Types].xml"
_WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
# Compound File (OLE2): an Excel 97-2003 .xls, or any password-protected workbook.
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class Issue:
    """One problem: ``row`` as numbered in the spreadsheet (header = its row), None for the file."""

    row: int | None
    column: str | None
    code: str
    value: str = ""
    other_row: int | None = None


@dataclass
class Parsed:
    kind: str | None
    rows: list[dict[str, Any]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


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

    @property
    def ok(self) -> bool:
        return not self.issues and bool(self.rows)

    @property
    def new(self) -> int:
        return sum(1 for r in self.rows if r.existing_id is None)

    @property
    def replaced(self) -> int:
        return sum(1 for r in self.rows if r.existing_id is not None)


def display_name(filename: str | None) -> str:
    """The client's file name made safe to show: no folders, no control characters.

    It is only ever displayed and audited; uploads are read in memory and
    never written to disk under any name.
    """
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    return name.strip()[:200]


# --- reading ------------------------------------------------------------------
def _read_csv(data: bytes) -> tuple[list[tuple[int, list[Any]]], list[Issue]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [Issue(None, None, "encoding")]
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    rows: list[tuple[int, list[Any]]] = []
    try:
        for n, cells in enumerate(
            csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), 1
        ):
            if n > MAX_ROWS + 1:
                return [], [Issue(None, None, "too_many_rows")]
            rows.append((n, cells))
    except csv.Error:
        return [], [Issue(None, None, "unreadable")]
    return rows, []


def _streamed_parts(archive: zipfile.ZipFile) -> set[str] | None:
    """Parts openpyxl streams (worksheets) rather than parsing whole; None if unusable.

    Taken from [Content_Types].xml, where openpyxl finds the shared strings
    too: a part declared both as a worksheet and as anything else counts as
    parsed whole, so nothing can pass as a worksheet here and be read whole there.
    """
    try:
        info = archive.getinfo(_CONTENT_TYPES)
        if info.file_size > MAX_XLSX_PART:
            return None
        root = ElementTree.fromstring(archive.read(info))
    except Exception:  # untrusted: missing, corrupt, an unsupported compression method...
        return None
    overrides: dict[str, set[str]] = {}
    defaults: dict[str, set[str]] = {}
    for el in root:
        if el.tag.endswith("}Override"):
            # openpyxl opens PartName[1:] ("/xl/x.xml" -> "xl/x.xml"): the same here.
            name = (el.get("PartName") or "")[1:]
            overrides.setdefault(name, set()).add(el.get("ContentType") or "")
        elif el.tag.endswith("}Default"):
            extension = (el.get("Extension") or "").lower()
            defaults.setdefault(extension, set()).add(el.get("ContentType") or "")
    streamed = set()
    for name in archive.namelist():
        found = overrides.get(name) or defaults.get(name.rpartition(".")[2].lower(), set())
        if found == {_WORKSHEET_TYPE}:
            streamed.add(name)
    return streamed


def check_xlsx_archive(data: bytes) -> str | None:
    """An issue code if the workbook must not be opened, from its zip directory alone.

    The sizes are the directory's; zipfile never inflates a part beyond its
    declared size (it fails on the checksum instead), so they bound the work.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # untrusted: not a zip, truncated, a broken directory...
        return "unreadable"
    with archive:
        parts = archive.infolist()
        if len(parts) > MAX_XLSX_PARTS:
            return "xlsx_too_large"
        if any(p.flag_bits & 0x1 for p in parts):
            return "encrypted"
        if sum(p.file_size for p in parts) > MAX_XLSX_UNPACKED:
            return "xlsx_too_large"
        for p in parts:
            if p.file_size > _RATIO_FROM and p.file_size > MAX_XLSX_RATIO * max(p.compress_size, 1):
                return "xlsx_too_large"
        worksheets = _streamed_parts(archive)
        if worksheets is None:
            return "unreadable"
        if any(p.file_size > MAX_XLSX_PART and p.filename not in worksheets for p in parts):
            return "xlsx_too_large"
    return None


def _read_xlsx(data: bytes) -> tuple[list[tuple[int, list[Any]]], list[Issue]]:
    import openpyxl

    problem = check_xlsx_archive(data)
    if problem:
        return [], [Issue(None, None, problem)]
    rows: list[tuple[int, list[Any]]] = []
    try:
        with warnings.catch_warnings():
            # Odd styles in exported files make openpyxl warn; the values matter.
            warnings.simplefilter("ignore")
            # data_only: a formula cell yields its cached value (or nothing), never code.
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                # Bounded: without max_col every row is as wide as the sheet's
                # <dimension> claims (up to 16,384 cells, a few bytes of XML).
                cells = sheet.iter_rows(max_row=MAX_ROWS + 2, max_col=MAX_COLUMNS, values_only=True)
                for n, values in enumerate(cells, 1):
                    if n > MAX_ROWS + 1:
                        return [], [Issue(None, None, "too_many_rows")]
                    rows.append((n, list(values)))
            finally:
                book.close()
    except Exception:  # untrusted input: any failure to read is "unreadable"
        return [], [Issue(None, None, "unreadable")]
    return rows, []


def read_cells(data: bytes) -> tuple[list[tuple[int, list[Any]]], list[Issue]]:
    """Rows of cells with their row numbers; XLSX is recognised by content, not name."""
    if not data.strip():
        return [], [Issue(None, None, "empty")]
    if data.startswith(_XLSX_MAGIC):
        return _read_xlsx(data)
    if data.startswith(_OLE2_MAGIC):
        return [], [Issue(None, None, "xls_or_encrypted")]
    return _read_csv(data)


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
        if not match:
            return None, "bad_month"
        year, month = int(match.group(1)), int(match.group(2))
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
        if not _INTEGER.match(text):
            return None, "not_integer"
        number = int(text)
    if number < 0:
        return None, "negative"
    if number > MAX_COUNT:
        return None, "too_large"
    return number, None


def _header_name(value: Any) -> str:
    return _text(value).strip("\ufeff\u200b ").lower()


def parse(data: bytes, today: date) -> Parsed:
    """Read and check the file's shape and values (no database)."""
    cells, issues = read_cells(data)
    if issues:
        return Parsed(None, issues=issues)
    rows = iter(cells)
    header: tuple[int, list[Any]] | None = None
    for n, values in rows:
        if not _blank(values):
            header = (n, values)
            break
    if header is None:
        return Parsed(None, issues=[Issue(None, None, "empty")])
    header_row, header_cells = header
    names = [_header_name(c) for c in header_cells]
    if "desk" in names and ("unit" in names or "sector" in names):
        return Parsed(None, issues=[Issue(header_row, None, "ambiguous_columns")])
    kind = DESK if "desk" in names else UNIT_SECTOR
    wanted = COLUMNS[kind]
    parsed = Parsed(kind, ignored_columns=[n for n in names if n and n not in wanted])
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
    plan = Plan(parsed.kind, ignored_columns=parsed.ignored_columns)
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


# --- writing ------------------------------------------------------------------
def apply(session: Session, user: Actor, plan: Plan, filename: str = "") -> dict[str, int]:
    """Write a valid plan: new rows inserted, stored ones replaced; one audit event."""
    access.require(user, "volume.import", user.unit_id)
    if not plan.ok:
        raise ValueError("only a plan without issues can be applied")
    new = [
        {
            "unit_id": r.unit_id,
            "desk_id": r.desk_id,
            "sector_id": r.sector_id,
            "month": r.month,
            "count": r.count,
        }
        for r in plan.rows
        if r.existing_id is None
    ]
    replaced = [r for r in plan.rows if r.existing_id is not None]
    for r in replaced:
        volume = session.get(Volume, r.existing_id)
        if volume is None:  # deleted since the check: the plan is stale
            raise ValueError("stored volumes changed since the file was checked")
        volume.count = r.count
    if new:
        session.execute(insert(Volume), new)
    session.flush()
    months = sorted({r.month for r in plan.rows})
    audit.record(
        session,
        actor=user.username,
        user_id=user.id,
        action="volume.import",
        entity="volume",
        entity_id=plan.kind or "",
        before={f"{r.label} {r.month:%Y-%m}": r.old_count for r in replaced} or None,
        after={
            "file": filename,
            "kind": plan.kind,
            "rows": len(plan.rows),
            "new": len(new),
            "replaced": len(replaced),
            "months": [f"{months[0]:%Y-%m}", f"{months[-1]:%Y-%m}"],
            "replaced_values": {f"{r.label} {r.month:%Y-%m}": r.count for r in replaced},
        },
    )
    return {"rows": len(plan.rows), "new": len(new), "replaced": len(replaced)}


# --- staging between preview and confirmation ---------------------------------
def stage(session: Session, user: Actor, parsed: Parsed, filename: str) -> str:
    """Keep a valid parsed file for its uploader; returns the token the confirm form sends."""
    if user.id is None:
        raise ValueError("only a signed-in user can stage an upload")
    session.execute(delete(VolumeUpload).where(VolumeUpload.created_at < utcnow() - STAGING_TTL))
    token = secrets.token_urlsafe(32)
    session.add(
        VolumeUpload(
            token=token,
            user_id=user.id,
            kind=parsed.kind or "",
            filename=display_name(filename),
            rows=json.dumps(parsed.rows, separators=(",", ":")),
        )
    )
    session.flush()
    return token


def take_staged(session: Session, user: Actor, token: str) -> tuple[Parsed, str] | None:
    """The staged file for this user and token, else None.

    The row is deleted in the same statement that reads it, so a token works
    once even when two confirmations race (the second finds nothing).
    """
    if not token or user.id is None:
        return None
    found = session.execute(
        delete(VolumeUpload)
        .where(
            VolumeUpload.token == token,
            VolumeUpload.user_id == user.id,
            VolumeUpload.created_at >= utcnow() - STAGING_TTL,
        )
        .returning(VolumeUpload.kind, VolumeUpload.rows, VolumeUpload.filename)
    ).first()
    if found is None:
        return None
    kind, rows, filename = found
    return Parsed(kind, rows=json.loads(rows)), filename


# --- reading stored volumes ---------------------------------------------------
def monthly_table(session: Session, user: Actor, unit: Unit, year: int) -> dict[str, Any]:
    """Stored counts of a unit's subtree for one year: one line per desk or unit × sector."""
    access.require(user, "volume.view", unit.id)
    ids = subtree_ids(session, unit.id)
    stmt = (
        select(Volume, Unit.code, Desk.code, Desk.name, Sector.code)
        .join(Unit, Volume.unit_id == Unit.id)
        .outerjoin(Desk, Volume.desk_id == Desk.id)
        .outerjoin(Sector, Volume.sector_id == Sector.id)
        .where(
            Volume.unit_id.in_(ids),
            Volume.month >= date(year, 1, 1),
            Volume.month <= date(year, 12, 1),
        )
    )
    lines: dict[tuple[str, str, str], list[int | None]] = {}
    for volume, unit_code, desk_code, desk_name, sector_code in session.execute(stmt):
        key = (
            unit_code,
            desk_code or "",
            f"{desk_name}" if desk_code else (sector_code or ""),
        )
        line = lines.setdefault(key, [None] * 12)
        line[volume.month.month - 1] = (line[volume.month.month - 1] or 0) + volume.count
    years = sorted(
        {
            m.year
            for m in session.scalars(select(Volume.month).where(Volume.unit_id.in_(ids)).distinct())
        },
        reverse=True,
    )
    return {
        "year": year,
        "years": years,
        "lines": [
            {
                "unit": k[0],
                "desk": k[1],
                "label": k[2],
                "months": v,
                "total": sum(x or 0 for x in v),
            }
            for k, v in sorted(lines.items())
        ],
    }
