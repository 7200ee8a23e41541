"""The report's cell table and moments (``analysis.cell_table``): closed months from their
stored summaries, the other days from one aggregate SQL query.

A cell is a PSU (desk × day) crossed with what varies within one: unit, sector
(and so its group), survey channel, questionnaire version and the quality flag.
Its totals (respondents, and per item answered, top-two-box, sum and sum of
squares of the value, N/A; per criterion and the composite, who answered at
least one item) give every figure of a report; the composites' SRS variance
(``deff_composite``) needs, besides, the moment sums of ``Moments`` per coarse
cell (the month instead of the day), a cross-product of items within
respondents.

Months that have closed and been summarised (``survey.reports.rollup``) are read
from their blobs, so their cost grows with cells, not responses.  The other days
(the open month, a month cut by the period, a month not yet built) come from
the live tables: one query counting respondents per cell and stored answer
string (``responses.answers``: no join, no pivot), unpacked and summed here.
Both give the same numbers (tests/reports/test_rollup.py).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from sqlalchemy import case, func, not_, select
from sqlalchemy.orm import Session

from analysis.cell_table import ANY, COUNT, STATS, Moments, coarsen, moments_from_patterns, stat
from analysis.estimators import Structure
from survey.models import Response
from survey.reports import rollup
from survey.reports.frame import NA_VALUE, NONE_CODE, SURVEY_CHANNEL, Labels, Lookup
from survey.reports.packed import unpack
from survey.reports.selection import Selection, filters

KEYS = ("unit", "desk", "sector", "day", "excluded", "questionnaire", SURVEY_CHANNEL)
ID_KEYS = rollup.ID_KEYS
# The coarse cells' own packing: 3 bits an item (0 not answered, 1..5, 6 N/A),
# 21 items to a 63-bit integer, so a pattern is a few integer keys to group by.
DIGITS, NA_DIGIT = 21, 6


def _keys_of():
    flagged = case((func.coalesce(Response.quality_flags, "") != "", 1), else_=0)
    return [
        Response.unit_id.label("unit_id"),
        Response.desk_id.label("desk_id"),
        Response.sector_id.label("sector_id"),
        Response.day.label("day"),
        flagged.label("excluded"),
        Response.questionnaire_version_id.label("form_id"),
        Response.channel.label("channel"),
    ]


def statement(where: list):
    """The one aggregate query: respondents per cell and stored answer string."""
    keys = _keys_of()
    stmt = (
        select(*keys, Response.answers.label("answers"), func.count().label(COUNT))
        .where(*where)
        .group_by(*keys, Response.answers)
    )
    return stmt, [*(k.name for k in keys), "answers", COUNT]


def fetch(session: Session, stmt, columns: list[str]) -> pd.DataFrame:
    """The rows of ``stmt`` as a DataFrame.

    On PostgreSQL the server joins them into one CSV text (``string_agg``): one
    message to read and a C parser, where a row per message (or per tuple)
    costs about 10 µs each, seconds at a million rows."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return pd.DataFrame(session.execute(stmt).all(), columns=columns)
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    fields = ", ".join(f"coalesce(s.\"{c}\"::text, '')" for c in columns)
    wrapped = f"SELECT string_agg(concat_ws(',', {fields}), E'\\n') FROM ({sql}) s"
    with conn.connection.driver_connection.cursor() as cur:
        text = cur.execute(wrapped).fetchone()[0]
    if not text:
        return pd.DataFrame(columns=columns)
    data = io.BytesIO(text.encode())  # bytes: a StringIO would hold 4 bytes a character
    del text
    return pd.read_csv(
        data,
        header=None,
        names=columns,
        keep_default_na=False,
        na_values=[""],
        dtype={"channel": str, "answers": str},
    )


def read_cells(
    session: Session, sel: Selection, *, moments: bool = True
) -> tuple[pd.DataFrame, Moments | None, Labels]:
    """(cell table, moments or None, labels) of the selection's responses."""
    q = sel.questionnaire
    codes = q.all_item_codes()
    lookup = Lookup.load(session, sel)
    months = rollup.covered_months(session, sel)
    stored = rollup.read(session, sel, q, lookup, months) if months else None
    where = filters(sel)
    if stored is not None:  # the covered months are read from their summaries
        where += [not_(Response.day.between(a, b)) for a, b in rollup.ranges(months)]
    stmt, columns = statement(where)
    pat = fetch(session, stmt, columns)
    live_cells, live_moments = (None, None)
    if len(pat):
        live_cells, live_moments = _live(session, pat, sel, lookup, moments)
    parts = [c for c in (stored.cells if stored else None, live_cells) if c is not None and len(c)]
    if not parts:
        return _empty(sel, codes, moments)
    raw = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    del parts, live_cells
    if stored is not None:
        stored.cells = None  # its rows are in raw now
    # The order of an all-live read, whichever part a cell came from.
    raw["sector_id"] = raw["sector_id"].fillna(-1).astype(np.int64)
    flat = raw[list(ID_KEYS)]
    order = np.lexsort([flat[k].to_numpy() for k in reversed(ID_KEYS)])
    flat = flat.take(order).reset_index(drop=True)
    lookup.add_desks(session, flat["desk_id"].unique())
    flat["sector_id"] = flat["sector_id"].where(flat["sector_id"] >= 0, np.nan)
    columns = _total_columns(q)
    # One int32 block (every total is a count), whichever part each row came from.
    totals = raw[columns].to_numpy(dtype=np.int32)[order]
    del raw
    table = pd.concat([_keys(flat, lookup), pd.DataFrame(totals, columns=columns)], axis=1)
    labels = lookup.labels(table)
    if not moments:
        return table, None, labels
    parts_m = [m for m in (_stored_moments(stored, q, lookup), live_moments) if m is not None]
    return table, Moments.concat(parts_m), labels


def _part(q) -> str:
    return "score" if q.aggregation == "mean" else "share"


def _live(session: Session, pat: pd.DataFrame, sel: Selection, lookup: Lookup, moments: bool):
    """Cells (``ID_KEYS`` + totals) and moments of the live rows (answer patterns)."""
    q = sel.questionnaire
    codes = q.all_item_codes()
    key_cols = list(ID_KEYS)
    pat["sector_id"] = pat["sector_id"].fillna(-1).astype(np.int64)
    pat["day"] = pd.to_datetime(pat["day"])
    cid = pat.groupby(key_cols, sort=True).ngroup().to_numpy(dtype=np.int64)
    t = int(cid.max()) + 1
    lookup.add_desks(session, pat["desk_id"].unique())
    count = pat[COUNT].to_numpy(dtype=np.int64)
    smin = q.scale.satisfied_min

    def per_cell(x) -> np.ndarray:
        return np.rint(np.bincount(cid, weights=count * x, minlength=t)).astype(np.int64)

    # Unpack the answers: one int8 code per item (tidy's encoding), then the
    # cell totals as respondent-weighted sums over the cell's patterns.
    items = unpack(
        pat["answers"].fillna("").to_numpy(),
        pat["form_id"].to_numpy(),
        codes,
        lambda form: lookup.codes_of(session, form),
    )
    out: dict[str, np.ndarray] = {COUNT: per_cell(1)}
    digits = {}
    for k, code in enumerate(codes):
        d = items[:, k]
        digits[code] = d
        x = d.astype(np.int64)
        ans = x > 0
        out[stat(code, "answered")] = per_cell(ans)
        out[stat(code, "satisfied")] = per_cell(x >= smin)
        out[stat(code, "sum")] = per_cell(np.where(ans, x, 0))
        out[stat(code, "sumsq")] = per_cell(np.where(ans, x * x, 0))
        out[stat(code, "na")] = per_cell(x == NA_VALUE)
    for g, members in enumerate(Structure.of(q).groups()):
        any_ = np.zeros(len(pat), dtype=bool)
        for j in members:
            any_ |= digits[codes[j]] > 0
        out[f"{ANY}{g}"] = per_cell(any_)
    out = {k: v.astype(np.int32) for k, v in out.items()}
    first = np.unique(cid, return_index=True)[1]
    flat = pat.iloc[first][key_cols].reset_index(drop=True)
    cells = pd.concat([flat, pd.DataFrame(out)], axis=1)
    if not moments:
        return cells, None
    pats = _coarse_patterns(pat, digits, count, q, lookup)
    return cells, moments_from_patterns(pats, q, _part(q))


def _coarse_patterns(pat, digits, count, q, lookup: Lookup) -> pd.DataFrame:
    """The patterns as the moments read them: answers reduced to what the
    reported part uses (satisfied or not, for shares) and days merged into months
    (the SRS variance never reads the PSU), so fewer rows to carry and sum over."""
    codes = q.all_item_codes()
    mapping = coarsen(_part(q), q) or {}
    keys = pat[["unit_id", "desk_id", "sector_id", "excluded", "form_id", "channel"]].copy()
    keys["_mon"] = pat["day"].to_numpy().astype("datetime64[M]").astype(np.int64)
    for k, code in enumerate(codes):
        d = digits[code].copy()
        for v, to in mapping.items():
            d[digits[code] == v] = to
        m = f"_c{k // DIGITS}"
        code_digit = np.where(d == NA_VALUE, NA_DIGIT, d).astype(np.int64)
        keys[m] = keys.get(m, 0) + (code_digit << (3 * (k % DIGITS)))
    keys[COUNT] = count
    grouped = keys.groupby([c for c in keys.columns if c != COUNT], sort=False, as_index=False)
    merged = grouped[COUNT].sum()
    out = merged.drop(columns=[c for c in merged.columns if c.startswith("_c")] + ["_mon"])
    out["sector_id"] = out["sector_id"].where(out["sector_id"] >= 0, np.nan)
    pats = _keys(out, lookup, day=False)
    months = merged["_mon"].to_numpy().astype("datetime64[M]")
    pats["month"] = np.datetime_as_string(months, unit="M").astype(object)
    for k, code in enumerate(codes):
        m = merged[f"_c{k // DIGITS}"].to_numpy(dtype=np.int64)
        d = ((m >> (3 * (k % DIGITS))) & 7).astype(np.int8)
        d[d == NA_DIGIT] = NA_VALUE
        pats[code] = d
    pats[COUNT] = merged[COUNT].to_numpy(dtype=np.int64)
    return pats


def _stored_moments(stored: rollup.Stored | None, q, lookup: Lookup) -> Moments | None:
    if stored is None or not len(stored.mkeys):
        return None
    raw = stored.mkeys.copy()
    raw["sector_id"] = raw["sector_id"].where(raw["sector_id"] >= 0, np.nan)
    keys = _keys(raw, lookup, day=False)
    keys["month"] = raw["month"].to_numpy()
    return Moments(part=_part(q), keys=keys, n=stored.n, aa=stored.aa, ya=stored.ya, yy=stored.yy)


def _total_columns(q) -> list[str]:
    """The cell table's totals, in order (``analysis.cell_table``)."""
    names = [COUNT] + [stat(c, n) for c in q.all_item_codes() for n in STATS]
    return names + [f"{ANY}{g}" for g in range(len(Structure.of(q).groups()))]


def _keys(raw: pd.DataFrame, lookup: Lookup, *, day: bool = True) -> pd.DataFrame:
    """Ids to the codes the tidy frame holds (``frame._tidy``)."""
    sector_code = {sid: code for sid, (code, _n, _g) in lookup.sectors.items()}
    sector_group = {sid: grp for sid, (_c, _n, grp) in lookup.sectors.items()}
    out = pd.DataFrame(
        {
            "unit": raw["unit_id"].map({uid: code for uid, (code, _n) in lookup.units.items()}),
            "desk": raw["desk_id"].map({did: c for did, (c, _n, _u) in lookup.desks.items()}),
            "sector": raw["sector_id"].map(sector_code).fillna(NONE_CODE),
            "sector_group": raw["sector_id"].map(sector_group).fillna(NONE_CODE),
        }
    )
    if day:
        out["day"] = pd.to_datetime(raw["day"])
    out["excluded"] = raw["excluded"].astype(int).astype(bool).to_numpy()
    out["questionnaire"] = raw["form_id"].map(lookup.forms).fillna("").astype(str)
    out[SURVEY_CHANNEL] = raw["channel"].astype(str)
    return out


def _empty(sel: Selection, codes: list[str], moments: bool):
    """No responses: the columns, no rows."""
    names = ["unit", "desk", "sector", "sector_group", "day", "excluded", "questionnaire"]
    base = {n: pd.Series(dtype=object) for n in names}
    base["day"] = pd.Series(dtype="datetime64[ns]")
    base["excluded"] = pd.Series(dtype=bool)
    base[SURVEY_CHANNEL] = pd.Series(dtype=object)
    counts = _total_columns(sel.questionnaire)
    table = pd.DataFrame(base | {c: pd.Series(dtype=np.int64) for c in counts})
    return table, None, Labels()
