"""The response file: tidy CSV (UTF-8 with BOM) and its codebook.

``data.csv`` holds one row per response (RFC 4180 by default; ``dialect="vn"``
separates fields with ``;`` and writes decimals with a comma, for Excel in a
Vietnamese locale), as ``survey analyze`` reads it back:
``response_id, unit, desk, sector, sector_group, day, excluded, flags``, the
demographics, one column per item (1..5, ``NA`` = không áp dụng, empty = not
answered) and the comment.  The codebook names every column and every code.

Rows are produced chunk by chunk from the database, so a large file streams
(web) or shows a progress bar (command line) without holding every row.

Every text cell that a spreadsheet would read as a formula (starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is prefixed with an
apostrophe, here and in the Excel report.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import Comment, Response
from survey.models.response import DEMOGRAPHIC_COLUMNS
from survey.reports.frame import (
    BASE_COLUMNS,
    NONE_CODE,
    Lookup,
    Progress,
    demographic_columns,
    iter_chunks,
    text_items,
)
from survey.reports.selection import Selection, filters

BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


# RFC 4180 (comma, decimal point) is the default; "vn" is what Excel reads in a
# Vietnamese locale: ";" between fields and a decimal comma.
DIALECTS = ("rfc", "vn")


def _writer(buf, dialect: str = "rfc"):
    if dialect not in DIALECTS:
        raise ValueError(f"unknown CSV dialect {dialect!r}")
    return csv.writer(buf, lineterminator="\r\n", delimiter=";" if dialect == "vn" else ",")


def _value(v, dialect: str):
    if dialect == "vn" and isinstance(v, float):
        return repr(v).replace(".", ",")
    return neutralise(v)


def _line(values, dialect: str = "rfc") -> str:
    buf = io.StringIO()
    _writer(buf, dialect).writerow([_value(v, dialect) for v in values])
    return buf.getvalue()


def columns(sel: Selection) -> list[str]:
    q = sel.questionnaire
    return [
        *BASE_COLUMNS,
        *demographic_columns(q),
        *q.all_item_codes(),
        "comment",
    ]


def rows(
    session: Session, sel: Selection, progress: Progress | None = None, dialect: str = "rfc"
) -> Iterator[str]:
    """The CSV text piece by piece: BOM and header first, then one piece per chunk."""
    q = sel.questionnaire
    codes = q.all_item_codes()
    demographics = demographic_columns(q)
    names = columns(sel)
    yield BOM + _line(names, dialect)
    lookup = Lookup.load(session, sel)
    for chunk in iter_chunks(session, sel, lookup, extra_columns=demographics):
        ids = chunk["response_id"].tolist()
        texts = dict(
            session.execute(
                select(Comment.response_id, Comment.text).where(Comment.response_id.in_(ids))
            ).all()
        )
        chunk = text_items(chunk, codes)
        chunk["day"] = chunk["day"].dt.strftime("%Y-%m-%d")
        chunk["excluded"] = chunk["excluded"].map({True: "true", False: "false"})
        chunk["comment"] = chunk["response_id"].map(texts).fillna("")
        buf = io.StringIO()
        writer = _writer(buf, dialect)
        for record in chunk[names].itertuples(index=False, name=None):
            writer.writerow([_value(v, dialect) for v in record])
        if progress is not None:
            progress(len(chunk))
        yield buf.getvalue()


def codebook_rows(session: Session, sel: Selection) -> list[list[str]]:
    """variable, value, label, description: every column, then the codes it holds."""
    q = sel.questionnaire
    lookup = Lookup.load(session, sel)
    out: list[list[str]] = [["variable", "value", "label", "description"]]
    out += [
        ["response_id", "", "Mã phiếu", "Số định danh của phiếu trong hệ thống"],
        ["unit", "", "Đơn vị", "Mã đơn vị nơi phiếu được ghi nhận (xem danh sách mã bên dưới)"],
        ["desk", "", "Quầy", "Mã quầy (mã in trên áp phích QR)"],
        ["sector", "", "Lĩnh vực", f"Mã lĩnh vực thủ tục; {NONE_CODE} = không rõ lĩnh vực"],
        ["sector_group", "", "Nhóm lĩnh vực", f"Mã nhóm lĩnh vực; {NONE_CODE} = không thuộc nhóm"],
        ["day", "", "Ngày", "Ngày trả lời theo giờ Việt Nam (YYYY-MM-DD)"],
        ["excluded", "", "Bị loại", "true = phiếu bị gắn cờ nghi ngờ, không tính vào chỉ số"],
        ["flags", "", "Cờ chất lượng", "Lý do gắn cờ (burst = gửi dồn dập, ...)"],
    ]
    for d in q.demographics:
        if d.code in DEMOGRAPHIC_COLUMNS:
            out.append(
                [d.code, "", d.label.get("vi", d.code), "Thông tin người trả lời (tùy chọn)"]
            )
            out += [[d.code, c.code, c.label.get("vi", c.code), ""] for c in d.choices]
    scale = [
        *[[str(p.value), p.label.get("vi", "")] for p in q.scale.points],
        ["NA", q.scale.na_label.get("vi", "Không áp dụng")],
        ["", "Không trả lời"],
    ]
    for c in q.criteria:
        for it in c.items:
            out.append(
                [it.code, "", it.text.get("vi", ""), f"Tiêu chí {c.code}: {c.name.get('vi', '')}"]
            )
    if q.overall_item is not None:
        out.append(
            [
                q.overall_item.code,
                "",
                q.overall_item.text.get("vi", ""),
                "Câu hỏi chung (không tính vào chỉ số)",
            ]
        )
    out.append(
        ["(mọi câu hỏi)", "", "Thang đo", f"Mức {q.scale.satisfied_min} trở lên là hài lòng"]
    )
    out += [["(mọi câu hỏi)", value, label, ""] for value, label in scale]
    out.append(["comment", "", "Ý kiến", "Ý kiến, kiến nghị, phản ánh người dân ghi thêm"])
    for uid in sorted(lookup.units, key=lambda i: lookup.units[i][0]):
        code, name = lookup.units[uid]
        out.append(["unit", code, name, ""])
    desks = session.execute(select(Response.desk_id).where(*filters(sel)).distinct()).scalars()
    lookup.add_desks(session, list(desks))
    for code, name, _unit in sorted(lookup.desks.values()):
        out.append(["desk", code, name, ""])
    for code, name, _grp in sorted(lookup.sectors.values()):
        out.append(["sector", code, name, ""])
    for code, name in sorted(lookup.groups.items()):
        out.append(["sector_group", code, name, ""])
    out.append(
        [
            "questionnaire",
            "",
            "Mẫu phiếu",
            "Mẫu phiếu mà người dân đã trả lời; câu hỏi không có trong mẫu đó để trống",
        ]
    )
    out += [["questionnaire", key, q.title.get("vi", ""), ""] for key in sel.form_key.split("+")]
    return out


def codebook(session: Session, sel: Selection, dialect: str = "rfc") -> str:
    return BOM + "".join(_line(r, dialect) for r in codebook_rows(session, sel))
