"""Bulk import of responses from a tidy CSV (paper forms typed in, historical data).

The file is the one ``survey analyze`` reads: ``desk`` and ``day`` columns,
an optional ``sector``, one column per item code of the questionnaire (1..5,
``NA`` or empty), an optional ``comment`` and an optional ``response_id``.
Columns the tidy export adds (``unit``, ``sector_group``, ``excluded``,
``flags``, ``questionnaire``, ``weight``) are accepted and ignored, so an
export can be loaded back; any other column is refused (a misspelt item code
would otherwise be dropped silently).

Every row is checked before anything is written; a file with a bad row writes
nothing and each ``RowIssue`` names the row and the column. A ``response_id``
is stored as the submission id ``import:<id>``, so loading the same file again
skips the rows already stored instead of doubling them; rows without one are
new every time.

Imported responses carry their channel (``import`` or ``paper``), no abuse
hashes and no quality flags: the burst and repeat checks are about phones at a
desk, and an operator typing a stack of forms is neither.

Writing: a response's answers are a column of its row (``encode_answers``), so
PostgreSQL gets one ``COPY`` of the responses (ids drawn from the sequence
first, so the comments can be copied right after them); SQLite
``executemany``. Both run inside the caller's transaction: the command
commits once.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from questionnaires.model import NA, Questionnaire
from survey import clock
from survey.models import Desk, DeskCodeHistory, QuestionnaireVersion, Sector
from survey.models.response import NA_CODE, NOT_ANSWERED
from survey.services import access, audit, rollup
from survey.services import questionnaires as qservice
from survey.services.form_check import MAX_COMMENT

CHANNELS = ("import", "paper")
PREFIX = "import:"
MAX_RESPONSE_ID = 64 - len(PREFIX)
REQUIRED = ("desk", "day")
OPTIONAL = ("sector", "comment", "response_id")
IGNORED = ("unit", "sector_group", "excluded", "flags", "questionnaire", "weight")
# The tidy frame's code for "no sector" (survey.reports.frame.NONE_CODE).
NO_SECTOR = "_NONE"
MAX_ISSUES = 20
CHUNK = 5_000
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class RowIssue:
    """One refusal: ``row`` counts data rows from 1 (0: the file or its header)."""

    row: int
    column: str
    code: str
    value: str = ""


class ImportRefused(Exception):
    def __init__(self, issues: list[RowIssue]) -> None:
        super().__init__(", ".join(f"{i.code}@{i.row}:{i.column}" for i in issues))
        self.issues = issues


@dataclass
class ImportResult:
    rows: int = 0
    imported: int = 0
    skipped: int = 0  # response_id already stored
    answers: int = 0
    comments: int = 0
    desks: set[str] = field(default_factory=set)
    dropped: list[date] = field(default_factory=list)  # months whose summary went stale


@dataclass
class _Row:
    submission_id: str
    desk_id: int
    unit_id: int
    day: date
    sector_id: int | None
    answers: str  # packed, in the version's item order (encode_answers)
    comment: str


def resolve_questionnaire(session: Session, key: str) -> QuestionnaireVersion | None:
    """``ID`` (latest published version) or ``ID@V``; None if not published."""
    qid, _, version = key.partition("@")
    if not version:
        return qservice.latest(session, qid)
    if not version.isdigit():
        return None
    return session.scalar(
        select(QuestionnaireVersion).where(
            QuestionnaireVersion.qid == qid, QuestionnaireVersion.version == int(version)
        )
    )


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows, as text (UTF-8, with or without BOM)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            rows = list(reader)
    except FileNotFoundError:
        raise ImportRefused([RowIssue(0, "", "file_missing", str(path))]) from None
    except UnicodeDecodeError:
        raise ImportRefused([RowIssue(0, "", "not_utf8", str(path))]) from None
    except csv.Error as exc:
        raise ImportRefused([RowIssue(0, "", "bad_csv", str(exc))]) from None
    if not header:
        raise ImportRefused([RowIssue(0, "", "empty_file", str(path))])
    return [h.strip() for h in header], rows


def import_responses(
    session: Session,
    header: list[str],
    rows: list[list[str]],
    *,
    version: QuestionnaireVersion,
    channel: str,
    actor: access.Actor,
    timezone: str,
    dry_run: bool = False,
    source: str = "",
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Check every row, then (unless ``dry_run``) write them all; raises ImportRefused."""
    if channel not in CHANNELS:
        raise ImportRefused([RowIssue(0, "--channel", "bad_channel", channel)])
    q = qservice.definition(version)
    columns = _columns(header, q)
    checked = _check_rows(session, rows, columns, q, actor, timezone)
    result = ImportResult(rows=len(checked))
    stored = _stored_ids(session, [r.submission_id for r in checked])
    fresh = [r for r in checked if r.submission_id not in stored]
    result.skipped = len(checked) - len(fresh)
    result.imported = len(fresh)
    result.answers = sum(len(r.answers) - r.answers.count(NOT_ANSWERED) for r in fresh)
    result.comments = sum(1 for r in fresh if r.comment)
    desk_codes = {d.id: d.code for d in session.scalars(select(Desk))}
    result.desks = {desk_codes[r.desk_id] for r in fresh}
    if dry_run or not fresh:
        return result
    # The audit row first: on SQLite its INSERT takes the write lock, so the ids
    # counted from max(id) below cannot be taken by another writer meanwhile.
    audit.record(
        session,
        actor=actor.username,
        user_id=actor.id,
        action="responses.import",
        entity="questionnaire_version",
        entity_id=version.id,
        after={
            "source": source,
            "questionnaire": q.key,
            "channel": channel,
            "imported": result.imported,
            "skipped": result.skipped,
            "desks": sorted(result.desks),
        },
    )
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        _write_pg(session, fresh, version.id, channel, timezone, progress)
    else:
        _write_sqlite(session, fresh, version.id, channel, timezone, progress)
    # A closed month written into has a stale summary: drop it in this transaction.
    result.dropped = rollup.invalidate(session, {r.day for r in fresh})
    return result


def _columns(header: list[str], q: Questionnaire) -> dict[str, int]:
    items = q.all_item_codes()
    known = {*REQUIRED, *OPTIONAL, *IGNORED, *items}
    issues: list[RowIssue] = []
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        if name in index:
            issues.append(RowIssue(0, name, "duplicate_column"))
        elif name not in known:
            issues.append(RowIssue(0, name, "unknown_column", q.key))
        index[name] = i
    for name in (*REQUIRED, *items):
        if name not in index:
            issues.append(RowIssue(0, name, "missing_column", q.key))
    if issues:
        raise ImportRefused(issues[:MAX_ISSUES])
    return index


# Markers of the cell lookup: not an answer at all, NA where it is not offered.
_MISS, _REFUSED = "", "!"


def _scale(q: Questionnaire, allow_na: bool) -> dict[str, str]:
    """Cell text -> the stored answer code (``encode_answers``), or ``_REFUSED``."""
    out: dict[str, str] = {"": NOT_ANSWERED}
    for point in q.scale.points:
        out[str(point.value)] = str(point.value)
        out[f"{point.value}.0"] = str(point.value)
    for spelling in (NA, NA.lower(), "N/A", "n/a"):
        out[spelling] = NA_CODE if allow_na else _REFUSED
    return out


def _check_rows(
    session: Session,
    rows: list[list[str]],
    columns: dict[str, int],
    q: Questionnaire,
    actor: access.Actor,
    timezone: str,
) -> list[_Row]:
    if not access.can_anywhere(actor, "desk.manage"):
        raise ImportRefused([RowIssue(0, "--as", "forbidden", actor.username)])
    scope = access.scope_ids(session, actor)
    desks = {d.code: d for d in session.scalars(select(Desk))}
    for old in session.scalars(select(DeskCodeHistory)):
        desk = session.get(Desk, old.desk_id)
        if desk is not None:
            desks.setdefault(old.code, desk)
    desk_sectors = {d.id: [s.id for s in d.sectors] for d in desks.values()}
    sectors = {s.code: s.id for s in session.scalars(select(Sector))}
    with_na, without_na = _scale(q, True), _scale(q, False)
    items = [
        (code, columns[code], with_na if allow else without_na) for code, allow in _items_na(q)
    ]
    i_desk, i_day = columns["desk"], columns["day"]
    i_sector = columns.get("sector")
    i_comment = columns.get("comment")
    i_id = columns.get("response_id")
    width = len(columns)
    today = clock.local_today(timezone)
    clean = _clean_file(rows, columns, items, desks, scope, desk_sectors, sectors, today)
    if clean is not None:
        return clean
    # Some row has a problem: check row by row, for the exact issues in row order.
    days: dict[str, date | None] = {}
    seen: dict[str, int] = {}
    issues: list[RowIssue] = []
    out: list[_Row] = []

    def bad(n: int, column: str, code: str, value: str = "") -> None:
        issues.append(RowIssue(n, column, code, value))

    for n, cells in enumerate(rows, start=1):
        if len(issues) >= MAX_ISSUES:
            break
        if not any(c.strip() for c in cells):
            continue  # Excel leaves empty lines at the end
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        code = cells[i_desk].strip().upper()
        desk = desks.get(code)
        if desk is None:
            bad(n, "desk", "unknown_desk" if code else "empty", code)
            continue
        if scope is not None and desk.unit_id not in scope:
            bad(n, "desk", "out_of_scope", code)
            continue
        raw_day = cells[i_day].strip()
        if raw_day not in days:
            days[raw_day] = _parse_day(raw_day)
        day = days[raw_day]
        if day is None:
            bad(n, "day", "bad_day", raw_day)
            continue
        if day > today:
            bad(n, "day", "future_day", raw_day)
            continue
        sector_id = None
        raw_sector = cells[i_sector].strip().upper() if i_sector is not None else ""
        if raw_sector and raw_sector != NO_SECTOR:
            sector_id = sectors.get(raw_sector)
            if sector_id is None:
                bad(n, "sector", "unknown_sector", raw_sector)
                continue
        elif not raw_sector and len(desk_sectors[desk.id]) == 1:
            # As on the QR path: a one-sector desk gives its responses that sector.
            sector_id = desk_sectors[desk.id][0]
        chars: list[str] = []
        for item, i, table in items:
            ch = table.get(cells[i], _MISS) or table.get(cells[i].strip(), _MISS)
            if not ch:
                bad(n, item, "bad_value", cells[i].strip())
                break
            if ch == _REFUSED:
                bad(n, item, "na_not_allowed", cells[i].strip())
                break
            chars.append(ch)
        else:
            comment = cells[i_comment].strip() if i_comment is not None else ""
            if len(comment) > MAX_COMMENT:
                bad(n, "comment", "comment_too_long", str(len(comment)))
                continue
            rid = cells[i_id].strip() if i_id is not None else ""
            if i_id is not None:
                if not rid:
                    bad(n, "response_id", "empty")
                    continue
                if len(rid) > MAX_RESPONSE_ID:
                    bad(n, "response_id", "response_id_too_long", rid[:20] + "…")
                    continue
                if rid in seen:
                    bad(n, "response_id", "duplicate_response_id", f"{rid}@{seen[rid]}")
                    continue
                seen[rid] = n
                submission_id = PREFIX + rid
            else:
                submission_id = f"{PREFIX}{_random_id()}"
            answers = "".join(chars)
            out.append(_Row(submission_id, desk.id, desk.unit_id, day, sector_id, answers, comment))
    if issues:
        raise ImportRefused(issues)
    if not out:
        raise ImportRefused([RowIssue(0, "", "no_rows")])
    return out


def _clean_file(rows, columns, items, desks, scope, desk_sectors, sectors, today):
    """Every row checked column by column (C-speed maps), or None at the first doubt.

    The common case, a file without a problem, needs no Python loop over its
    cells; any row that is short, blank or has a value this path does not
    accept sends the whole file to the row-by-row check, which names each issue.
    Keys that repeat (desks, days, sectors) are looked at once each.
    """
    width = len(columns)
    if not rows or any(len(r) != width for r in rows):
        return None
    cols = list(zip(*rows, strict=True))

    def column(name: str) -> tuple[str, ...] | None:
        i = columns.get(name)
        return None if i is None else cols[i]

    desk_raw = column("desk")
    desk_of: dict[str, tuple[int, int, str]] = {}  # raw cell -> (desk id, unit id, code)
    for raw in set(desk_raw):
        desk = desks.get(raw.strip().upper())
        if desk is None or (scope is not None and desk.unit_id not in scope):
            return None
        desk_of[raw] = (desk.id, desk.unit_id, raw.strip().upper())
    day_raw = column("day")
    day_of = {raw: _parse_day(raw.strip()) for raw in set(day_raw)}
    if any(d is None or d > today for d in day_of.values()):
        return None
    sector_raw = column("sector") or ("",) * len(rows)
    sector_of: dict[tuple[str, str], int | None] = {}
    for raw, desk in set(zip(sector_raw, desk_raw, strict=True)):
        code = raw.strip().upper()
        desk_id = desk_of[desk][0]
        if code and code != NO_SECTOR:
            if code not in sectors:
                return None
            sector_of[(raw, desk)] = sectors[code]
        elif not code and len(desk_sectors[desk_id]) == 1:
            sector_of[(raw, desk)] = desk_sectors[desk_id][0]
        else:
            sector_of[(raw, desk)] = None
    chars = np.empty((len(rows), len(items)), dtype="<U1")
    for k, (_item, i, table) in enumerate(items):
        mapped = pd.Series(cols[i], dtype=object).map(table)
        if mapped.isna().any() or (mapped == _REFUSED).any():
            return None  # a spelling this map lacks (" 5 "), or NA not offered
        chars[:, k] = mapped.to_numpy(dtype="<U1")
    answers = chars.view(f"<U{len(items)}").ravel().tolist() if items else [""] * len(rows)
    comment = column("comment")
    comments = [""] * len(rows) if comment is None else [c.strip() for c in comment]
    if any(len(c) > MAX_COMMENT for c in comments):
        return None
    rid = column("response_id")
    if rid is None:
        ids = [f"{PREFIX}{_random_id()}" for _ in rows]
    else:
        ids = [PREFIX + r.strip() for r in rid]
        if len(set(ids)) < len(ids) or any(
            not 0 < len(i) - len(PREFIX) <= MAX_RESPONSE_ID for i in ids
        ):
            return None
    return [
        _Row(sid, *desk_of[desk][:2], day_of[day], sector_of[(sector, desk)], packed, text)
        for sid, desk, day, sector, packed, text in zip(
            ids, desk_raw, day_raw, sector_raw, answers, comments, strict=True
        )
    ]


def _items_na(q: Questionnaire) -> Iterable[tuple[str, bool]]:
    for item in q.items():
        yield item.code, item.allow_na
    if q.overall_item is not None:
        yield q.overall_item.code, q.overall_item.allow_na


def _parse_day(raw: str) -> date | None:
    """ISO (YYYY-MM-DD), as ``survey analyze`` reads, or D/M/YYYY as Vietnamese Excel writes."""
    try:
        if _ISO.match(raw):
            return date.fromisoformat(raw)
        m = _DMY.match(raw)
        if m:
            return date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        return None
    return None


def _random_id() -> str:
    import secrets

    return secrets.token_hex(16)


def _stored_ids(session: Session, ids: list[str]) -> set[str]:
    """The submission ids among ``ids`` already stored (one array query on PostgreSQL)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        with conn.connection.driver_connection.cursor() as cur:
            cur.execute("SELECT submission_id FROM responses WHERE submission_id = ANY(%s)", (ids,))
            return {r[0] for r in cur.fetchall()}
    stored: set[str] = set()
    cur = conn.connection.driver_connection.cursor()
    try:
        for start in range(0, len(ids), 900):  # SQLite's bound-parameter limit is 999
            chunk = ids[start : start + 900]
            marks = ", ".join("?" * len(chunk))
            cur.execute(
                f"SELECT submission_id FROM responses WHERE submission_id IN ({marks})", chunk
            )
            stored.update(r[0] for r in cur.fetchall())
    finally:
        cur.close()
    return stored


def _noon(day: date, timezone: str, cache: dict[date, datetime]) -> datetime:
    """The stored instant of an imported response: noon of its local day (in UTC)."""
    if day not in cache:
        cache[day] = clock.utc_start_of(day, timezone) + timedelta(hours=12)
    return cache[day]


NULL = "\\N"  # COPY's text format
_RESPONSE_COLUMNS = (
    "id, submission_id, desk_id, unit_id, questionnaire_version_id, submitted_at, day, "
    "channel, sector_id, locale, quality_flags, answers"
)


def _copy_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _write_pg(session, rows, version_id, channel, timezone, progress) -> None:
    conn = session.connection().connection.driver_connection
    noon: dict[date, datetime] = {}
    now = datetime.utcnow().isoformat(sep=" ")  # noqa: DTZ003 (naive UTC, as stored)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT nextval(pg_get_serial_sequence('responses', 'id')) FROM generate_series(1, %s)",
            (len(rows),),
        )
        ids = [r[0] for r in cur.fetchall()]
        for start in range(0, len(rows), CHUNK):
            chunk = list(zip(ids[start : start + CHUNK], rows[start : start + CHUNK], strict=True))
            resp = io.StringIO()
            com = io.StringIO()
            for rid, r in chunk:
                sector = NULL if r.sector_id is None else str(r.sector_id)
                resp.write(
                    f"{rid}\t{_copy_text(r.submission_id)}\t{r.desk_id}\t{r.unit_id}\t"
                    f"{version_id}\t{_noon(r.day, timezone, noon).isoformat(sep=' ')}\t"
                    f"{r.day.isoformat()}\t{channel}\t{sector}\tvi\t\t{r.answers}\n"
                )
                if r.comment:
                    com.write(f"{rid}\t{_copy_text(r.comment)}\tcomment\tnew\t{now}\n")
            with cur.copy(f"COPY responses ({_RESPONSE_COLUMNS}) FROM STDIN") as copy:
                copy.write(resp.getvalue())
            if com.tell():
                with cur.copy(
                    "COPY comments (response_id, text, kind, status, created_at) FROM STDIN"
                ) as copy:
                    copy.write(com.getvalue())
            if progress:
                progress(len(chunk))


def _write_sqlite(session, rows, version_id, channel, timezone, progress) -> None:
    from survey.models import Response

    conn = session.connection()
    first = (session.scalar(select(func.max(Response.id))) or 0) + 1
    noon: dict[date, datetime] = {}
    now = datetime.utcnow()  # noqa: DTZ003 (naive UTC, as stored)
    # SQLAlchemy's SQLite format for DateTime / Date, as every other write stores them.
    cursor = conn.connection.driver_connection.cursor()
    try:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            base = first + start
            cursor.executemany(
                f"INSERT INTO responses ({_RESPONSE_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'vi', '', ?)",
                [
                    (
                        base + k,
                        r.submission_id,
                        r.desk_id,
                        r.unit_id,
                        version_id,
                        _noon(r.day, timezone, noon).isoformat(sep=" ", timespec="microseconds"),
                        r.day.isoformat(),
                        channel,
                        r.sector_id,
                        r.answers,
                    )
                    for k, r in enumerate(chunk)
                ],
            )
            cursor.executemany(
                "INSERT INTO comments (response_id, text, kind, status, created_at) "
                "VALUES (?, ?, 'comment', 'new', ?)",
                [
                    (base + k, r.comment, now.isoformat(sep=" ", timespec="microseconds"))
                    for k, r in enumerate(chunk)
                    if r.comment
                ],
            )
            if progress:
                progress(len(chunk))
    finally:
        cursor.close()
