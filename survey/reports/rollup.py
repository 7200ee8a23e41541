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

import io
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
from survey.models import QuestionnaireVersion, Response, RollupCell, RollupMonth
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
def encode(pat: pd.DataFrame, forms: dict[int, Questionnaire]) -> bytes:
    """The blob of one desk-month's answer patterns.

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
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def decode(data: bytes) -> dict[int, dict[str, np.ndarray]]:
    """form id -> its arrays (``encode``)."""
    out: dict[int, dict[str, np.ndarray]] = {}
    with np.load(io.BytesIO(data)) as npz:
        for name in npz.files:
            form, _, key = name.partition("/")
            out.setdefault(int(form[1:]), {})[key] = npz[name]
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
    cells, mkeys, mn, aa, ya, yy = [], [], [], [], [], []
    for desk_id, month, data in session.execute(stmt):
        for form, arr in decode(data).items():
            if sel.version is not None and form != sel.version.id:
                continue
            if form not in maps:
                maps[form] = _FormMap(_definition(session, lookup, form), q)
            fmap = maps[form]
            if not fmap.ok:
                return None
            keep = np.isin(arr["keys"][:, 0], units)
            if keep.any():
                cells.append(_fine(arr, keep, fmap, desk_id, form, codes, q))
            mkeep = np.isin(arr["mkeys"][:, 0], units)
            if not mkeep.any():
                continue
            mk = arr["mkeys"][mkeep]
            mkeys.append(
                pd.DataFrame(
                    {
                        "unit_id": mk[:, 0],
                        "desk_id": desk_id,
                        "sector_id": mk[:, 1],
                        "excluded": mk[:, 2],
                        "form_id": form,
                        "channel": np.asarray(CHANNELS, dtype=object)[mk[:, 3]],
                        "month": f"{month:%Y-%m}",
                    }
                )
            )
            mn.append(arr["mn"][mkeep])
            names = ("sa", "ss") if part == "share" else ("xa", "xx")
            for out, name in ((aa, "aa"), (ya, names[0]), (yy, names[1])):
                full = np.zeros((int(mkeep.sum()), j, j), dtype=np.int64)
                block = arr[name][mkeep][:, fmap.src][:, :, fmap.src]
                full[:, fmap.dst[:, None], fmap.dst[None, :]] = block
                out.append(full)
    if not cells:
        empty = np.zeros((0, j, j), dtype=np.int64)
        return Stored(pd.DataFrame(), pd.DataFrame(), np.zeros(0, np.int64), empty, empty, empty)
    return Stored(
        cells=pd.concat(cells, ignore_index=True),
        mkeys=pd.concat(mkeys, ignore_index=True),
        n=np.concatenate(mn),
        aa=np.concatenate(aa),
        ya=np.concatenate(ya),
        yy=np.concatenate(yy),
    )


def _definition(session: Session, lookup: Lookup, form: int) -> Questionnaire:
    lookup.codes_of(session, form)  # registers the form's key for the labels
    return qservice.definition(session.get(QuestionnaireVersion, form))


def _fine(arr, keep, fmap: _FormMap, desk_id, form, codes, q: Questionnaire) -> pd.DataFrame:
    """A stored form's fine cells as ``cells_sql`` rows: id keys and the totals."""
    keys = arr["keys"][keep]
    counts = arr["counts"][keep][:, fmap.src, :]  # (rows, J', values + NA)
    any_ = arr["any"][keep]
    t = len(keys)
    values = np.asarray(q.scale.values, dtype=np.int64)  # the stored form's, too (_FormMap)
    smin = q.scale.satisfied_min
    answered = counts[:, :, :-1].sum(axis=2)
    out: dict[str, np.ndarray] = {
        "unit_id": keys[:, 0],
        "desk_id": np.full(t, desk_id, dtype=np.int64),
        "sector_id": keys[:, 1],
        "day": (_EPOCH + keys[:, 2]).astype("datetime64[ns]"),
        "excluded": keys[:, 3],
        "form_id": np.full(t, form, dtype=np.int64),
        "channel": np.asarray(CHANNELS, dtype=object)[keys[:, 4]],
        COUNT: arr["n"][keep],
    }
    zeros = np.zeros(t, dtype=np.int64)
    at = {int(d): i for i, d in enumerate(fmap.dst)}
    for jj, code in enumerate(codes):
        i = at.get(jj)
        if i is None:
            for name in ("answered", "satisfied", "sum", "sumsq", "na"):
                out[stat(code, name)] = zeros
            continue
        c = counts[:, i, :]
        out[stat(code, "answered")] = answered[:, i]
        out[stat(code, "satisfied")] = c[:, :-1][:, values >= smin].sum(axis=1)
        out[stat(code, "sum")] = c[:, :-1] @ values
        out[stat(code, "sumsq")] = c[:, :-1] @ (values * values)
        out[stat(code, "na")] = c[:, -1]
    for g, src in enumerate(fmap.groups):
        out[f"{ANY}{g}"] = zeros if src is None else any_[:, src]
    return pd.DataFrame(out)


# --- building -------------------------------------------------------------------
# A month is closed once its last local day has ended and SETTLE has passed (a
# POST that began before midnight commits within seconds: the worker timeout is
# 30 s).  After that only ``survey responses import`` writes into it, and it
# drops the month's summary in its own transaction (``services.rollup``).
SETTLE = timedelta(minutes=10)


def closed_before(now: datetime, tz: str) -> date:
    """The first day of the earliest month not yet closed at ``now`` (naive UTC)."""
    return month_start(clock.local_day(now - SETTLE, tz))


def pending(session: Session, tz: str, now: datetime | None = None) -> list[date]:
    """Closed months with responses and no summary, oldest first."""
    first, last = session.execute(select(func.min(Response.day), func.max(Response.day))).one()
    if first is None:
        return []
    limit = closed_before(now or utcnow(), tz)
    built = set(session.scalars(select(RollupMonth.month)))
    out, m = [], month_start(first)
    while m < limit and m <= last:
        if m not in built:
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
        session.add(
            RollupCell(
                month=month,
                desk_id=int(desk_id),
                responses=int(rows[cells_sql.COUNT].sum()),
                data=encode(rows.reset_index(drop=True), forms),
            )
        )
    session.flush()
    return total


def refresh(
    session: Session,
    tz: str,
    *,
    now: datetime | None = None,
    progress: Callable[[date, int], None] | None = None,
) -> list[date]:
    """Build every pending month, each in its own transaction; the months built."""
    done = []
    for month in pending(session, tz, now):
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
