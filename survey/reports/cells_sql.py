"""The report's cell table, summed from one aggregate SQL query (``analysis.cell_table``).

A cell is a PSU (desk × day) crossed with what varies within one: unit, sector
(and so its group), survey channel, questionnaire version and the quality flag.
The query counts respondents per cell and answer pattern, the stored answer
string (``responses.answers``, one character per item: no join, no pivot):
finer than the cell totals, so it gives them exactly (respondents, and per item
answered, top-two-box, sum and sum of squares of the value, N/A; per criterion
and the composite, who answered at least one item) and also the one statistic
cell totals cannot give, a composite's SRS variance (``deff_composite``), a
cross-product of items within respondents.  It is read from the live tables at
each report (no rollup table to keep current: the write path stays one INSERT
and the numbers never lag the responses); the cost is one scan of the
responses of the selection (bench/reports).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from analysis.cell_table import ANY, COUNT, STATS, coarsen, stat
from analysis.estimators import Structure
from survey.models import Response
from survey.reports.frame import NA_VALUE, NONE_CODE, SURVEY_CHANNEL, Labels, Lookup
from survey.reports.packed import unpack
from survey.reports.selection import Selection, filters

KEYS = ("unit", "desk", "sector", "day", "excluded", "questionnaire", SURVEY_CHANNEL)
# The SRS patterns' own packing: 3 bits an item (0 not answered, 1..5, 6 N/A),
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


def _statement(sel: Selection):
    """The one aggregate query: respondents per cell and stored answer string."""
    keys = _keys_of()
    stmt = (
        select(*keys, Response.answers.label("answers"), func.count().label(COUNT))
        .where(*filters(sel))
        .group_by(*keys, Response.answers)
    )
    return stmt, [*(k.name for k in keys), "answers", COUNT]


def _fetch(session: Session, stmt, columns: list[str]) -> pd.DataFrame:
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
    session: Session, sel: Selection, *, patterns: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame | None, Labels]:
    """(cell table, answer patterns or None, labels) of the selection's responses."""
    q = sel.questionnaire
    codes = q.all_item_codes()
    stmt, columns = _statement(sel)
    pat = _fetch(session, stmt, columns)
    key_cols = [k.name for k in _keys_of()]
    if pat.empty:
        return _empty(sel, codes, patterns)
    pat["sector_id"] = pat["sector_id"].fillna(-1).astype(np.int64)
    pat["day"] = pd.to_datetime(pat["day"])
    cid = pat.groupby(key_cols, sort=True).ngroup().to_numpy(dtype=np.int64)
    t = int(cid.max()) + 1
    lookup = Lookup.load(session, sel)
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
    first = np.unique(cid, return_index=True)[1]
    flat = pat.iloc[first][key_cols].reset_index(drop=True)
    flat["sector_id"] = flat["sector_id"].where(flat["sector_id"] >= 0, np.nan)
    table = pd.concat([_keys(flat, lookup), pd.DataFrame(out)], axis=1)
    labels = lookup.labels(table)
    if not patterns:
        return table, None, labels
    return table, _srs_patterns(pat, digits, count, q, lookup), labels


def _srs_patterns(pat, digits, count, q, lookup: Lookup) -> pd.DataFrame:
    """The patterns as the SRS variance reads them: answers reduced to what the
    reported part uses (satisfied or not, for shares) and days merged into months
    (it never reads the PSU), so fewer rows to carry and sum over."""
    codes = q.all_item_codes()
    part = "score" if q.aggregation == "mean" else "share"
    mapping = coarsen(part, q) or {}
    keys = pat[["unit_id", "desk_id", "sector_id", "excluded", "form_id", "channel"]].copy()
    keys["_mon"] = pat["day"].to_numpy().astype("datetime64[M]").astype(np.int64)
    coarse = {}
    for k, code in enumerate(codes):
        d = digits[code].copy()
        for v, to in mapping.items():
            d[digits[code] == v] = to
        coarse[code] = d
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


def _empty(sel: Selection, codes: list[str], patterns: bool):
    """No responses: the columns, no rows."""
    names = ["unit", "desk", "sector", "sector_group", "day", "excluded", "questionnaire"]
    base = {n: pd.Series(dtype=object) for n in names}
    base["day"] = pd.Series(dtype="datetime64[ns]")
    base["excluded"] = pd.Series(dtype=bool)
    base[SURVEY_CHANNEL] = pd.Series(dtype=object)
    counts = [COUNT] + [stat(c, n) for c in codes for n in STATS]
    counts += [f"{ANY}{g}" for g in range(len(Structure.of(sel.questionnaire).groups()))]
    table = pd.DataFrame(base | {c: pd.Series(dtype=np.int64) for c in counts})
    pats = None
    if patterns:
        items = {c: pd.Series(dtype=np.int8) for c in codes}
        pats = pd.DataFrame(base | items | {COUNT: pd.Series(dtype=np.int64)})
    return table, pats, Labels()
