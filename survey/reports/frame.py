"""The tidy table ``analysis.analyze`` takes, read from the database for a selection.

``read_frame`` builds one row per response with ``response_id, unit, desk,
sector, sector_group, day, excluded, flags, questionnaire`` (the form it
answered, "standard@1") and one column per item code of the selection's
questionnaire: by default the union of every form answered, so an item a
response's form does not ask is "not answered" (0) in its row.
With ``survey_channel=True`` it also holds ``survey_channel``, how the answers
came in (qr, link, kiosk, import), for the report's breakdown; not the
demographic ``channel`` (how the citizen used the service), and not a column
``analyze`` takes unless told to break down by it.
Each response's answers come as its stored string (``reports.packed``), read in
chunks and unpacked per questionnaire version; item columns are int8 in the encoding
``analysis.tidy`` accepts as is (1..5, -1 = N/A, 0 = not answered).
``text_items`` gives the 1..5 / "NA" / "" form for files.  ``Labels`` names
the codes the frame holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from questionnaires.model import Questionnaire
from survey.models import Desk, QuestionnaireVersion, Response, Sector, SectorGroup, Unit
from survey.models.response import DEMOGRAPHIC_COLUMNS
from survey.reports.packed import BLANK_VALUE, NA_VALUE, unpack
from survey.reports.selection import Selection, filters
from survey.services import questionnaires as qservice

# Responses without a sector, sectors without a group.  Real codes start with a
# letter or digit (survey.services.org.sectors.SECTOR_CODE), so this never meets one.
NONE_CODE = "_NONE"
SURVEY_CHANNEL = "survey_channel"
CHUNK = 20_000
BASE_COLUMNS = (
    "response_id",
    "unit",
    "desk",
    "sector",
    "sector_group",
    "day",
    "excluded",
    "flags",
    "questionnaire",
)

Progress = Callable[[int], None]


# --- labels -------------------------------------------------------------------
@dataclass
class Labels:
    """Names of the codes in a frame (for tables, files and the codebook)."""

    units: dict[str, str] = field(default_factory=dict)
    desks: dict[str, str] = field(default_factory=dict)
    desk_units: dict[str, str] = field(default_factory=dict)  # desk code -> unit code now
    sectors: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    sector_groups: dict[str, str] = field(default_factory=dict)  # sector code -> group code


@dataclass
class Lookup:
    """Ids to codes for the small tables (units, desks, sectors, groups)."""

    units: dict[int, tuple[str, str]]
    sectors: dict[int, tuple[str, str, str]]  # id -> (code, name, group code)
    groups: dict[str, str]  # code -> name
    desks: dict[int, tuple[str, str, int]] = field(default_factory=dict)
    forms: dict[int, str] = field(default_factory=dict)  # questionnaire version id -> key
    # questionnaire version id -> its item codes in stored order (``codes_of``)
    form_codes: dict[int, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, sel: Selection) -> Lookup:
        group_rows = session.execute(select(SectorGroup.id, SectorGroup.code, SectorGroup.name))
        group_by_id = {gid: (code, name) for gid, code, name in group_rows}
        return cls(
            units={
                uid: (code, name)
                for uid, code, name in session.execute(
                    select(Unit.id, Unit.code, Unit.name).where(Unit.id.in_(sorted(sel.unit_ids)))
                )
            },
            sectors={
                sid: (code, name, group_by_id[gid][0] if gid in group_by_id else NONE_CODE)
                for sid, code, name, gid in session.execute(
                    select(Sector.id, Sector.code, Sector.name, Sector.group_id)
                )
            },
            groups={code: name for code, name in group_by_id.values()},
            forms={v.id: v.key for v, _n in sel.versions} | {v.id: v.key for v in sel.forms},
            form_codes={
                v.id: qservice.definition(v).all_item_codes()
                for v in [*(v for v, _n in sel.versions), *sel.forms]
            },
        )

    def codes_of(self, session: Session, form_id: int) -> list[str]:
        """A version's item codes in stored order (``encode_answers``)."""
        if form_id not in self.form_codes:
            version = session.get(QuestionnaireVersion, form_id)
            self.form_codes[form_id] = qservice.definition(version).all_item_codes()
            self.forms.setdefault(form_id, version.key)
        return self.form_codes[form_id]

    def add_desks(self, session: Session, ids) -> None:
        wanted = sorted(set(int(i) for i in ids) - set(self.desks))
        for start in range(0, len(wanted), 1000):
            for did, code, name, unit_id in session.execute(
                select(Desk.id, Desk.code, Desk.name, Desk.unit_id).where(
                    Desk.id.in_(wanted[start : start + 1000])
                )
            ):
                self.desks[did] = (code, name, unit_id)

    def labels(self, frame: pd.DataFrame) -> Labels:
        unit_codes = {code: name for code, name in self.units.values()}
        out = Labels()
        for code in sorted(set(frame["unit"])):
            out.units[code] = unit_codes.get(code, code)
        by_code = {code: (name, unit_id) for code, name, unit_id in self.desks.values()}
        for code in sorted(set(frame["desk"])):
            name, unit_id = by_code.get(code, (code, None))
            out.desks[code] = name
            out.desk_units[code] = self.units.get(unit_id, ("", ""))[0] if unit_id else ""
        sectors = {code: (name, grp) for code, name, grp in self.sectors.values()}
        for code in sorted(set(frame["sector"])):
            name, grp = sectors.get(code, ("", NONE_CODE))
            out.sectors[code] = name
            out.sector_groups[code] = grp
        for code in sorted(set(frame["sector_group"])):
            out.groups[code] = self.groups.get(code, "")
        return out


# --- the tidy frame -----------------------------------------------------------
def _statement(sel: Selection, extra: tuple = ()):
    keys = (
        Response.id,
        Response.unit_id,
        Response.desk_id,
        Response.sector_id,
        Response.day,
        Response.quality_flags,
        Response.questionnaire_version_id,
        Response.channel,
        *extra,
        Response.answers,
    )
    return select(*keys).where(*filters(sel)).order_by(Response.id)


def iter_chunks(
    session: Session,
    sel: Selection,
    lookup: Lookup,
    *,
    extra_columns: dict[str, object] | None = None,
    chunk: int = CHUNK,
) -> Iterator[pd.DataFrame]:
    """The selection's responses as tidy DataFrames of at most ``chunk`` rows each.

    ``extra_columns`` maps output names to further ``Response`` columns (e.g.
    demographics); they follow the base columns, before the items.
    """
    extra_columns = extra_columns or {}
    codes = sel.questionnaire.all_item_codes()
    stmt = _statement(sel, tuple(extra_columns.values()))
    names = [
        "_id",
        "_unit",
        "_desk",
        "_sector",
        "day",
        "_flags",
        "_form",
        "_channel",
        *extra_columns,
        "_answers",
    ]
    result = session.execute(stmt.execution_options(yield_per=chunk))
    for part in result.partitions(chunk):
        raw = pd.DataFrame.from_records(part, columns=names)
        lookup.add_desks(session, raw["_desk"].unique())
        items = unpack(
            raw["_answers"].to_numpy(),
            raw["_form"].to_numpy(),
            codes,
            lambda form: lookup.codes_of(session, form),
        )
        yield _tidy(raw, lookup, list(extra_columns), codes, items)


def _tidy(
    raw: pd.DataFrame, lookup: Lookup, extra: list[str], codes: list[str], items: np.ndarray
) -> pd.DataFrame:
    sector_code = {sid: code for sid, (code, _name, _grp) in lookup.sectors.items()}
    sector_group = {sid: grp for sid, (_code, _name, grp) in lookup.sectors.items()}
    frame = pd.DataFrame(
        {
            "response_id": raw["_id"].astype(np.int64),
            "unit": raw["_unit"].map({uid: code for uid, (code, _n) in lookup.units.items()}),
            "desk": raw["_desk"].map({did: code for did, (code, _n, _u) in lookup.desks.items()}),
            "sector": raw["_sector"].map(sector_code).fillna(NONE_CODE),
            "sector_group": raw["_sector"].map(sector_group).fillna(NONE_CODE),
            "day": pd.to_datetime(raw["day"]),
            "excluded": raw["_flags"].fillna("").astype(str).ne(""),
            "flags": raw["_flags"].fillna("").astype(str),
            "questionnaire": raw["_form"].map(lookup.forms).fillna("").astype(str),
            SURVEY_CHANNEL: raw["_channel"].astype(str),
        }
    )
    for name in extra:
        frame[name] = raw[name].astype(object).where(raw[name].notna(), "")
    item_frame = pd.DataFrame(items, columns=codes, index=frame.index)
    return pd.concat([frame, item_frame], axis=1)


def empty_frame(sel: Selection, extra: list[str] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "response_id": pd.Series(dtype=np.int64),
            "unit": pd.Series(dtype=object),
            "desk": pd.Series(dtype=object),
            "sector": pd.Series(dtype=object),
            "sector_group": pd.Series(dtype=object),
            "day": pd.Series(dtype="datetime64[ns]"),
            "excluded": pd.Series(dtype=bool),
            "flags": pd.Series(dtype=object),
            "questionnaire": pd.Series(dtype=object),
            SURVEY_CHANNEL: pd.Series(dtype=object),
        }
    )
    for name in extra or ():
        frame[name] = pd.Series(dtype=object)
    for code in sel.questionnaire.all_item_codes():
        frame[code] = pd.Series(dtype=np.int8)
    return frame


def read_frame(
    session: Session,
    sel: Selection,
    progress: Progress | None = None,
    *,
    survey_channel: bool = False,
) -> tuple[pd.DataFrame, Labels]:
    """The whole tidy frame (items int8-encoded) and the names of its codes."""
    lookup = Lookup.load(session, sel)
    parts = []
    for part in iter_chunks(session, sel, lookup):
        parts.append(part)
        if progress is not None:
            progress(len(part))
    frame = pd.concat(parts, ignore_index=True) if parts else empty_frame(sel)
    if not survey_channel:
        frame = frame.drop(columns=[SURVEY_CHANNEL])
    return frame, lookup.labels(frame)


def demographic_columns(q: Questionnaire) -> dict[str, object]:
    """Questionnaire demographic code -> Response column, for the response file."""
    return {
        d.code: getattr(Response, DEMOGRAPHIC_COLUMNS[d.code])
        for d in q.demographics
        if d.code in DEMOGRAPHIC_COLUMNS
    }


def text_items(frame: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """Item columns as files show them: "1".."5", "NA" or "" (not answered)."""
    out = frame.copy()
    for code in codes:
        col = frame[code].to_numpy()
        text = col.astype(str).astype(object)
        text[col == NA_VALUE] = "NA"
        text[col == BLANK_VALUE] = ""
        out[code] = text
    return out
