"""A closed desk-month's summary (``survey.models.rollup``): what it holds, how it is
built (``refresh``: the worker every 5 minutes, ``survey responses rollup``) and
how a report reads it (``read``).

One blob per desk-month (``encode``; ``decode`` reads it back), holding for every
questionnaire version F answered there, in F's stored item order:

* fine cells, one per (unit, sector, day, flagged, channel): ``keys`` (rows, 5),
  ``n`` respondents, ``counts`` (rows, J_F, 6) respondents answering each scale
  value 1..5 and N/A per item, ``any`` (rows, C_F + 1) respondents answering at
  least one item of each criterion of F, then of any criterion item;
* coarse cells, one per (unit, sector, flagged, channel) of the month: ``mkeys``
  (R, 4), ``mn`` and the moment sums of ``analysis.cell_table.Moments`` for both
  parts: ``aa``, ``sa``, ``ss`` (s: answered and satisfied) and ``xa``, ``xx``
  (x: the value above the lowest), (R, J_F, J_F).

Value counts give the cell totals of any report exactly (any satisfied
threshold); the moments serve a report on the same scale, and the criterion
counts a report whose criteria hold F's items by criterion code (a combined
questionnaire merges criteria by code, so it does).  Any other report reads the
responses instead (``read`` returns None): exact either way, never approximate.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from analysis.cell_table import ANY, COUNT, Moments, moments_from_patterns, stat
from analysis.estimators import Structure
from questionnaires.model import Questionnaire
from survey import clock
from survey.models import Desk, QuestionnaireVersion, Response, RollupCell, RollupMonth
from survey.models._types import utcnow
from survey.models.response import CHANNELS
from survey.reports.frame import NA_VALUE, Lookup
from survey.reports.packed import unpack
from survey.reports.selection import Selection, month_end, month_start, next_month
from survey.services import questionnaires as qservice

FINE_KEYS = ("unit_id", "sector_id", "day", "excluded", "channel")
COARSE_KEYS = ("unit_id", "sector_id", "excluded", "channel")
ID_KEYS = ("unit_id", "desk_id", "sector_id", "day", "excluded", "form_id", "channel")
_EPOCH = np.datetime64("1970-01-01", "D")


# --- writing ----------------------------------------------------------------------
def encode(pat: pd.DataFrame, forms: dict[int, Questionnaire]) -> tuple[bytes, int]:
    """The blob of one desk-month's answer patterns, and how many fine cells it holds.

    ``pat``: the rows of ``cells_sql.statement`` for the desk-month (``ID_KEYS``,
    ``answers``, ``_n``); ``forms``: form id -> its ``Questionnaire``.
    """
    arrays: dict[str, np.ndarray] = {}
    pat = pat.assign(
        sector_id=pat["sector_id"].fillna(-1).astype(np.int64),
        channel=pat["channel"].map({c: i for i, c in enumerate(CHANNELS)}).astype(np.int64),
        day=(pd.to_datetime(pat["day"]).to_numpy().astype("datetime64[D]") - _EPOCH).astype(
            np.int64
        ),
    )
    for form, rows in pat.groupby("form_id", sort=True):
        q = forms[int(form)]
        stored = q.all_item_codes()
        items = unpack(
            rows["answers"].fillna("").to_numpy(),
            rows["form_id"].to_numpy(),
            stored,
            lambda _form, stored=stored: stored,
        )
        count = rows[COUNT].to_numpy(dtype=np.int64)
        prefix = f"f{int(form)}/"
        keys = rows[list(FINE_KEYS)].to_numpy(dtype=np.int64)
        fine, cid = np.unique(keys, axis=0, return_inverse=True)
        cid = cid.reshape(-1)
        t = len(fine)

        def per_cell(x, cid=cid, count=count, t=t) -> np.ndarray:
            return np.bincount(cid, weights=count * x, minlength=t).round().astype(np.int64)

        values = list(q.scale.values)
        counts = np.zeros((t, items.shape[1], len(values) + 1), dtype=np.int64)
        for k in range(items.shape[1]):
            for v, value in enumerate(values):
                counts[:, k, v] = per_cell(items[:, k] == value)
            counts[:, k, -1] = per_cell(items[:, k] == NA_VALUE)
        struct = Structure.of(q)
        groups = struct.groups()
        any_ = np.zeros((t, len(groups)), dtype=np.int64)
        for g, members in enumerate(groups):
            any_[:, g] = per_cell((items[:, members] > 0).any(axis=1)) if members else 0
        arrays |= {
            prefix + "keys": fine,
            prefix + "n": per_cell(1),
            prefix + "counts": counts,
            prefix + "any": any_,
        }
        codes = q.all_item_codes()
        frame = rows[list(COARSE_KEYS)].reset_index(drop=True)
        frame = pd.concat([frame, pd.DataFrame(items, columns=codes)], axis=1)
        frame[COUNT] = count
        share = moments_from_patterns(frame, q, "share")
        score = moments_from_patterns(frame, q, "score")
        mkeys = share.keys[list(COARSE_KEYS)].to_numpy(dtype=np.int64)
        assert (score.keys[list(COARSE_KEYS)].to_numpy(dtype=np.int64) == mkeys).all()
        arrays |= {
            prefix + "mkeys": mkeys,
            prefix + "mn": np.asarray(share.n, dtype=np.int64),
            prefix + "aa": np.asarray(share.aa, dtype=np.int64),
            prefix + "sa": np.asarray(share.ya, dtype=np.int64),
            prefix + "ss": np.asarray(share.yy, dtype=np.int64),
            prefix + "xa": np.asarray(score.ya, dtype=np.int64),
            prefix + "xx": np.asarray(score.yy, dtype=np.int64),
        }
    cells = sum(len(a) for name, a in arrays.items() if name.endswith("/keys"))
    return _pack(arrays), cells


# The blob: a JSON header line naming each array's shape, then the arrays'
# int32 bytes, zlib-compressed.  Every value is a count below 2^31 (the largest,
# a coarse cell's sum of squared values, is at most 16 per respondent) or an id.
# A report decodes hundreds of blobs: one decompress and views, no zip members.
FORMAT = 1  # a blob of another format is not read (``survey responses rollup --rebuild``)


def _pack(arrays: dict[str, np.ndarray]) -> bytes:
    header = {"format": FORMAT} | {name: list(a.shape) for name, a in arrays.items()}
    body = b"".join(np.ascontiguousarray(a, dtype="<i4").tobytes() for a in arrays.values())
    return zlib.compress(json.dumps(header).encode() + b"\n" + body, 1)


def decode(data: bytes) -> dict[int, dict[str, np.ndarray]]:
    """form id -> its arrays (``encode``)."""
    raw = zlib.decompress(data)
    cut = raw.index(b"\n")
    header = json.loads(raw[:cut])
    if header.pop("format", None) != FORMAT:
        raise ValueError("a summary of another format")
    out: dict[int, dict[str, np.ndarray]] = {}
    offset = cut + 1
    for name, shape in header.items():
        size = int(np.prod(shape, dtype=np.int64))
        arr = np.frombuffer(raw, dtype="<i4", count=size, offset=offset).reshape(shape)
        offset += 4 * size
        form, _, key = name.partition("/")
        out.setdefault(int(form[1:]), {})[key] = arr
    return out


# --- reading ----------------------------------------------------------------------
def covered_months(session: Session, sel: Selection) -> list[date]:
    """The built months lying whole inside the selection's period (first days)."""
    months = session.scalars(
        select(RollupMonth.month).where(
            RollupMonth.month >= sel.start, RollupMonth.month <= month_start(sel.end)
        )
    ).all()
    return sorted(m for m in months if month_end(m) <= sel.end)


def summarised(session: Session, sel: Selection, months: list[date]) -> tuple[int, int]:
    """(responses, cells) the selection would read from the summaries of ``months``.

    By the desks' units now (a summary's rows keep the unit they were answered
    at): an estimate for the dashboard's budget, never a figure of the report.
    """
    if not months:
        return 0, 0
    stmt = (
        select(
            func.coalesce(func.sum(RollupCell.responses), 0),
            func.coalesce(func.sum(RollupCell.cells), 0),
        )
        .join(Desk, RollupCell.desk_id == Desk.id)
        .where(RollupCell.month.in_(months), Desk.unit_id.in_(sorted(sel.unit_ids)))
    )
    if sel.desk is not None:
        stmt = stmt.where(RollupCell.desk_id == sel.desk.id)
    responses, cells = session.execute(stmt).one()
    return int(responses), int(cells)


def ranges(months: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive months merged into (first day, last day) ranges."""
    out: list[tuple[date, date]] = []
    for m in sorted(months):
        if out and out[-1][1] + timedelta(days=1) == m:
            out[-1] = (out[-1][0], month_end(m))
        else:
            out.append((m, month_end(m)))
    return out


@dataclass
class Stored:
    """The covered months' cells (``ID_KEYS`` + totals) and moments (ids, not labels)."""

    cells: pd.DataFrame
    mkeys: pd.DataFrame  # unit_id, desk_id, sector_id, excluded, form_id, channel, month
    n: np.ndarray
    aa: np.ndarray
    ya: np.ndarray
    yy: np.ndarray


class _FormMap:
    """How a stored form's arrays become the report questionnaire's columns."""

    def __init__(self, form: Questionnaire, q: Questionnaire) -> None:
        self.ok = tuple(form.scale.values) == tuple(q.scale.values) and (
            form.scale.satisfied_min == q.scale.satisfied_min
        )
        codes = q.all_item_codes()
        pos = {c: j for j, c in enumerate(codes)}
        stored = form.all_item_codes()
        self.src = np.array([k for k, c in enumerate(stored) if c in pos], dtype=np.int64)
        self.dst = np.array([pos[c] for c in stored if c in pos], dtype=np.int64)
        # Each report group from the form's own: the same items, or none of them.
        f_struct, q_struct = Structure.of(form), Structure.of(q)
        f_sets = [frozenset(stored[k] for k in g) for g in f_struct.groups()]
        self.groups: list[int | None] = []
        for members in q_struct.groups():
            wanted = frozenset(codes[j] for j in members) & frozenset(stored)
            if not wanted:
                self.groups.append(None)
            elif wanted in f_sets:
                self.groups.append(f_sets.index(wanted))
            else:
                self.ok = False
                self.groups.append(None)


def read(
    session: Session, sel: Selection, q: Questionnaire, lookup: Lookup, months: list[date]
) -> Stored | None:
    """The stored summaries of ``months`` within the selection, or None if the
    report cannot use them (then it reads those months' responses)."""
    part = "score" if q.aggregation == "mean" else "share"
    codes = q.all_item_codes()
    j = len(codes)
    stmt = select(RollupCell.desk_id, RollupCell.month, RollupCell.data).where(
        RollupCell.month.in_(months)
    )
    if sel.desk is not None:
        stmt = stmt.where(RollupCell.desk_id == sel.desk.id)
    units = np.array(sorted(sel.unit_ids), dtype=np.int64)
    maps: dict[int, _FormMap] = {}
    fine: list[tuple[np.ndarray, np.ndarray]] = []  # (id keys, totals) per blob and form
    coarse: list[np.ndarray] = []
    mn, aa, ya, yy = [], [], [], []
    names = ("sa", "ss") if part == "share" else ("xa", "xx")
    for desk_id, month, data in session.execute(stmt):
        try:
            stored = decode(data)
        except (ValueError, zlib.error):  # written by another version: read the responses
            return None
        for form, arr in stored.items():
            if sel.version is not None and form != sel.version.id:
                continue
            if form not in maps:
                maps[form] = _FormMap(_definition(session, lookup, form), q)
            fmap = maps[form]
            if not fmap.ok:
                return None
            keep = np.isin(arr["keys"][:, 0], units)
            if keep.any():
                fine.append(_fine(arr, keep, fmap, desk_id, form, j, q))
            mkeep = np.isin(arr["mkeys"][:, 0], units)
            if not mkeep.any():
                continue
            mk = arr["mkeys"][mkeep].astype(np.int64)
            m = len(mk)
            ordinal = (np.datetime64(month, "M") - np.datetime64("1970-01", "M")).astype(np.int64)
            ids = np.column_stack([mk[:, 0], np.full(m, desk_id), mk[:, 1], mk[:, 2]])
            coarse.append(np.column_stack([ids, np.full(m, form), mk[:, 3], np.full(m, ordinal)]))
            mn.append(arr["mn"][mkeep].astype(np.int64))
            idx = np.ix_(np.arange(m), fmap.dst, fmap.dst)
            for out, name in ((aa, "aa"), (ya, names[0]), (yy, names[1])):
                full = np.zeros((m, j, j), dtype=np.int64)
                full[idx] = arr[name][mkeep][:, fmap.src][:, :, fmap.src]
                out.append(full)
    empty = np.zeros((0, j, j), dtype=np.int64)
    if not fine:
        return Stored(pd.DataFrame(), pd.DataFrame(), np.zeros(0, np.int64), empty, empty, empty)
    keys = np.concatenate([k for k, _t in fine])
    totals = np.concatenate([t for _k, t in fine])
    cells = pd.DataFrame(
        {
            "unit_id": keys[:, 0],
            "desk_id": keys[:, 1],
            "sector_id": keys[:, 2],
            "day": (_EPOCH + keys[:, 3]).astype("datetime64[ns]"),
            "excluded": keys[:, 4],
            "form_id": keys[:, 5],
            "channel": np.asarray(CHANNELS, dtype=object)[keys[:, 6]],
        }
    )
    cells = pd.concat([cells, pd.DataFrame(totals, columns=_stored_columns(codes, q))], axis=1)
    if coarse:
        ck = np.concatenate(coarse)
        mkeys = pd.DataFrame(
            {
                "unit_id": ck[:, 0],
                "desk_id": ck[:, 1],
                "sector_id": ck[:, 2],
                "excluded": ck[:, 3],
                "form_id": ck[:, 4],
                "channel": np.asarray(CHANNELS, dtype=object)[ck[:, 5]],
                "month": np.datetime_as_string(
                    np.datetime64("1970-01", "M") + ck[:, 6], unit="M"
                ).astype(object),
            }
        )
        return Stored(cells, mkeys, np.concatenate(mn), *map(np.concatenate, (aa, ya, yy)))
    return Stored(cells, pd.DataFrame(), np.zeros(0, np.int64), empty, empty, empty)


def _stored_columns(codes: list[str], q: Questionnaire) -> list[str]:
    """The totals' column names, in ``_fine``'s order (``analysis.cell_table``)."""
    names = [COUNT]
    for name in ("answered", "satisfied", "sum", "sumsq", "na"):
        names += [stat(code, name) for code in codes]
    return names + [f"{ANY}{g}" for g in range(len(Structure.of(q).groups()))]


def _definition(session: Session, lookup: Lookup, form: int) -> Questionnaire:
    lookup.codes_of(session, form)  # registers the form's key for the labels
    return qservice.definition(session.get(QuestionnaireVersion, form))


def _fine(arr, keep, fmap: _FormMap, desk_id: int, form: int, j: int, q: Questionnaire):
    """A stored form's fine cells: (id keys (t, 7), totals (t, 1 + 5J + G)) as ``cells_sql``
    rows, the report questionnaire's items in its order (zeros for items F lacks)."""
    keys = arr["keys"][keep].astype(np.int64)
    t = len(keys)
    counts = arr["counts"][keep][:, fmap.src, :].astype(np.int64)  # (t, J', values + NA)
    values = np.asarray(q.scale.values, dtype=np.int64)  # the stored form's too (_FormMap)
    on_scale = counts[:, :, :-1]
    per_item = np.zeros((5, t, j), dtype=np.int64)
    per_item[0][:, fmap.dst] = on_scale.sum(axis=2)
    per_item[1][:, fmap.dst] = on_scale[:, :, values >= q.scale.satisfied_min].sum(axis=2)
    per_item[2][:, fmap.dst] = on_scale @ values
    per_item[3][:, fmap.dst] = on_scale @ (values * values)
    per_item[4][:, fmap.dst] = counts[:, :, -1]
    any_ = arr["any"][keep].astype(np.int64)
    groups = np.zeros((t, len(fmap.groups)), dtype=np.int64)
    for g, src in enumerate(fmap.groups):
        if src is not None:
            groups[:, g] = any_[:, src]
    # int32: every total is a count of respondents, or of their values (at most 25 each).
    totals = np.hstack([arr["n"][keep][:, None], *per_item, groups]).astype(np.int32)
    ids = np.column_stack(
        [
            keys[:, 0],
            np.full(t, desk_id),
            keys[:, 1],
            keys[:, 2],
            keys[:, 3],
            np.full(t, form),
            keys[:, 4],
        ]
    )
    return ids, totals


# --- building -------------------------------------------------------------------
# A month is closed once its last local day has ended and SETTLE has passed (a
# POST that began before midnight commits within seconds: the worker timeout is
# 30 s).  After that only ``survey responses import`` writes into it, and it
# drops the month's summary in its own transaction (``services.rollup``).
SETTLE = timedelta(minutes=10)


def closed_before(now: datetime, tz: str) -> date:
    """The first day of the earliest month not yet closed at ``now`` (naive UTC)."""
    return month_start(clock.local_day(now - SETTLE, tz))


def pending(
    session: Session, tz: str, now: datetime | None = None, only: Iterable[date] | None = None
) -> list[date]:
    """Closed months with responses and no summary, oldest first (of ``only``, if given)."""
    first, last = session.execute(select(func.min(Response.day), func.max(Response.day))).one()
    if first is None:
        return []
    limit = closed_before(now or utcnow(), tz)
    built = set(session.scalars(select(RollupMonth.month)))
    wanted = None if only is None else set(only)
    out, m = [], month_start(first)
    while m < limit and m <= last:
        if m not in built and (wanted is None or m in wanted):
            out.append(m)
        m = next_month(m)
    return out


def build_month(session: Session, month: date) -> int:
    """Summarise one month (the caller commits); returns its responses."""
    from survey.reports import cells_sql  # which reads the summaries through this module

    stmt, columns = cells_sql.statement([Response.day >= month, Response.day <= month_end(month)])
    pat = cells_sql.fetch(session, stmt, columns)
    total = int(pat[cells_sql.COUNT].sum()) if len(pat) else 0
    session.add(RollupMonth(month=month, responses=total))
    session.flush()  # the month's key first: a racing refresh fails here
    if not total:
        return 0
    forms = {
        int(f): qservice.definition(session.get(QuestionnaireVersion, int(f)))
        for f in pat["form_id"].unique()
    }
    for desk_id, rows in pat.groupby("desk_id", sort=True):
        data, cells = encode(rows.reset_index(drop=True), forms)
        session.add(
            RollupCell(
                month=month,
                desk_id=int(desk_id),
                responses=int(rows[cells_sql.COUNT].sum()),
                cells=cells,
                data=data,
            )
        )
    session.flush()
    return total


def refresh(
    session: Session,
    tz: str,
    *,
    now: datetime | None = None,
    only: Iterable[date] | None = None,
    progress: Callable[[date, int], None] | None = None,
) -> list[date]:
    """Build every pending month (of ``only``, if given), each in its own transaction;
    the months built."""
    done = []
    for month in pending(session, tz, now, only):
        try:
            n = build_month(session, month)
            session.commit()
        except IntegrityError:  # built meanwhile by another refresh
            session.rollback()
            continue
        done.append(month)
        if progress is not None:
            progress(month, n)
    return done


__all__ = [
    "Moments",
    "Stored",
    "build_month",
    "covered_months",
    "decode",
    "encode",
    "pending",
    "ranges",
    "read",
    "refresh",
]
