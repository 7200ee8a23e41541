"""The PDF report as an administrative document (Nghị định 30/2020/NĐ-CP, Phụ lục I).

The first page carries the issuing agency (cơ quan chủ quản above, cơ quan
ban hành below), the national name and motto (Quốc hiệu, Tiêu ngữ), the
số/ký hiệu to fill in, place and date, and the document's kind and subject;
the last page the recipients (nơi nhận) and the signature block. The body is
in a Times-like serif (Liberation Serif, embedded) at 13 pt, on A4 with the
decree's margins (top and bottom 20 mm, left 30 mm, right 15 mm), page numbers
centred in the top margin from page 2 on.

The body is built once as ``blocks`` (headings, paragraphs, tables, charts),
which this module and ``docx`` both lay out, so the PDF and the DOCX say the
same thing. Numbers are printed as in vi_VN (85,3%).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from sqlalchemy.orm import Session

from survey.posters.fonts import FONT_DIR, register_fonts
from survey.reports import charts, inputs, texts
from survey.reports import fmt as f
from survey.reports.build import Report
from survey.reports.scene import Scene
from survey.text import clean_for_file

LOCALE = "vi"
KIND = "BÁO CÁO"
QUOC_HIEU = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
TIEU_NGU = "Độc lập - Tự do - Hạnh phúc"
MAX_QUOTES = 8
PAGE_W, PAGE_H = A4
# NĐ 30/2020, Phụ lục I: top and bottom 20-25 mm, left 30-35 mm, right 15-20 mm.
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = 20 * mm, 20 * mm, 30 * mm, 15 * mm
WIDTH = PAGE_W - MARGIN_LEFT - MARGIN_RIGHT
BODY_SIZE = 13  # the decree: 13-14 pt

SERIF = "LiberationSerif"
SERIF_BOLD = "LiberationSerif-Bold"
SERIF_ITALIC = "LiberationSerif-Italic"
SERIF_BOLD_ITALIC = "LiberationSerif-BoldItalic"
_SERIF_FILES = {
    SERIF: "LiberationSerif-Regular.ttf",
    SERIF_BOLD: "LiberationSerif-Bold.ttf",
    SERIF_ITALIC: "LiberationSerif-Italic.ttf",
    SERIF_BOLD_ITALIC: "LiberationSerif-BoldItalic.ttf",
}


def register_serif() -> None:
    """The project's copy of Liberation Serif, so the PDF prints the same anywhere."""
    if SERIF in pdfmetrics.getRegisteredFontNames():
        return
    for name, filename in _SERIF_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
    pdfmetrics.registerFontFamily(
        SERIF, normal=SERIF, bold=SERIF_BOLD, italic=SERIF_ITALIC, boldItalic=SERIF_BOLD_ITALIC
    )


# --- the document, independent of the file format ------------------------------------
@dataclass
class Heading:
    text: str


@dataclass
class Para:
    text: str
    style: str = "body"  # body | big | big_small (greyed: below the minimum design) | quote


@dataclass
class Grid:
    """A table with a header row; ``widths`` in points summing to ``WIDTH``;
    columns in ``left`` are text, the others numbers (right-aligned)."""

    rows: list[list[str]]
    widths: list[float]
    left: tuple[int, ...] = (0,)


@dataclass
class Chart:
    scene: Scene
    heading: str = ""  # kept on the same page as the chart


@dataclass
class Letterhead:
    parent: str  # cơ quan chủ quản ("" for none)
    issuer: str  # cơ quan ban hành
    number: str  # số, ký hiệu: to be filled in by the office
    place_date: str  # "Cam Ranh, ngày 01 tháng 12 năm 2026"
    kind: str  # "BÁO CÁO"
    subject: str  # trích yếu
    recipients: list[str] = field(default_factory=list)
    signer_title: str = ""
    signer_name: str = ""


ADMIN_PREFIXES = (
    "Thành phố",
    "Tỉnh",
    "Phường",
    "Xã",
    "Đặc khu",
    "Thị trấn",
    "Thị xã",
    "Huyện",
    "Quận",
)


def place_name(names: list[str]) -> str:
    """The place of the date line from the unit and its ancestors (nearest first):
    the first name that starts with an administrative level, without it and without
    a parenthesis ("Phường Cam Ranh" -> "Cam Ranh"); else the unit's own name."""
    for name in names:
        bare = re.sub(r"\s*\(.*?\)\s*", " ", name).strip()
        for prefix in ADMIN_PREFIXES:
            if bare.startswith(prefix + " "):
                return bare[len(prefix) :].strip()
    return re.sub(r"\s*\(.*?\)\s*", " ", names[0]).strip() if names else ""


def date_line(place: str, day: date) -> str:
    """ "Cam Ranh, ngày 01 tháng 12 năm 2026": days below 10 and months 1 and 2 take a
    leading zero (NĐ 30/2020, Phụ lục I)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def letterhead(
    session: Session, report: Report, issuer: str = "", place: str = "", signer_title: str = ""
) -> Letterhead:
    """The header and closing of the report, from the unit tree and the settings
    (``REPORT_ISSUER``, ``REPORT_PLACE``, ``REPORT_SIGNER_TITLE``)."""
    from survey.models import Unit

    sel = report.selection
    chain = []  # the unit and its ancestors, nearest first
    unit = session.get(Unit, sel.unit.id)
    while unit is not None and len(chain) < 20:
        chain.append(unit.name)
        unit = session.get(Unit, unit.parent_id) if unit.parent_id else None
    if "|" in issuer:
        parent, own = (part.strip() for part in issuer.split("|", 1))
    elif issuer.strip():
        parent, own = chain[0], issuer.strip()
    else:
        parent, own = (chain[1] if len(chain) > 1 else ""), chain[0]
    day = report.generated_on
    period = f"từ ngày {f.day(sel.start, LOCALE)} đến ngày {f.day(sel.end, LOCALE)}"
    subject = (
        "Kết quả khảo sát mức độ hài lòng của người dân, tổ chức đối với sự phục vụ của "
        f"{sel.unit.name}, {period}"
    )
    recipients = [f"{parent} (để báo cáo);" if parent else "Cơ quan cấp trên (để báo cáo);"]
    recipients += ["Các đơn vị trực thuộc;", "Lưu: VT, …"]
    return Letterhead(
        parent=clean_for_file(parent).upper(),
        issuer=clean_for_file(own).upper(),
        # Filled in by the office when it registers the document; no-break spaces
        # keep room for the number in PDF and DOCX alike.
        number="Số:" + "\u00a0" * 10 + "/BC-……",
        place_date=date_line(place.strip() or place_name(chain), day),
        kind=KIND,
        subject=clean_for_file(subject),
        recipients=[clean_for_file(r) for r in recipients],
        signer_title=(signer_title.strip() or "THỦ TRƯỞNG CƠ QUAN").upper(),
        signer_name="[Họ và tên người ký]",
    )


def settings_letterhead(session: Session, report: Report) -> Letterhead:
    """``letterhead`` with the deployment's settings (defaults outside an app)."""
    from flask import has_app_context

    if not has_app_context():
        return letterhead(session, report)
    from survey import config

    s = config.settings()
    return letterhead(session, report, s.REPORT_ISSUER, s.REPORT_PLACE, s.REPORT_SIGNER_TITLE)


# --- the body ---------------------------------------------------------------------------
STAT_HEAD = ["Số phiếu", "Tỷ lệ hài lòng", "Khoảng tin cậy 95%", "Chỉ tiêu", "Kết luận"]
STAT_W = [14 * mm, 16 * mm, 22 * mm, 13 * mm, 46 * mm]
VERDICT_COLUMN = 5  # in tables of a label and the ``_stat_cells``
VERSUS_W = 20 * mm  # "So với chung" in the rankings
VERSUS_VERDICT_W = 36 * mm  # the verdict column beside it, narrower


def _stat_cells(s: dict, n: int, level: float) -> list[str]:
    """n, estimate, interval, target, verdict in words (with "cần thêm")."""
    return [
        f.num(n, LOCALE),
        f.pct(s["estimate"], LOCALE),
        f.interval(*texts.shown_interval(s), LOCALE),
        f.pct(s["target"], LOCALE, 0) if s["target"] is not None else "",
        texts.verdict_sentence(s, LOCALE, level=level, short=True),
    ]


def _stat_grid(rows: list[list[str]]) -> Grid:
    return Grid(rows, [WIDTH - sum(STAT_W), *STAT_W], (0, VERDICT_COLUMN))


def _scope(report: Report) -> list:
    sel, r = report.selection, report.result
    facts = [
        f"Đơn vị: {sel.unit.name} ({sel.unit.code}) và các đơn vị trực thuộc.",
        f"Kỳ báo cáo: từ {f.day(sel.start, LOCALE)} đến {f.day(sel.end, LOCALE)}.",
    ]
    if sel.desk:
        facts.append(f"Quầy: {sel.desk.name} ({sel.desk.code}).")
    if sel.group:
        facts.append(f"Nhóm lĩnh vực: {sel.group.name}.")
    if sel.sector:
        facts.append(f"Lĩnh vực: {sel.sector.name}.")
    facts.append(
        f"Mẫu phiếu: {texts.forms_text(report)}, "
        f"{len(report.questionnaire.criteria)} tiêu chí, {len(report.questionnaire.items())} câu hỏi."
    )
    n_units = len(report.result["groups"].get("unit", []))
    n_desks = len(report.result["groups"].get("desk", []))
    facts.append(
        f"Số phiếu tính vào chỉ số: {f.num(r['n_responses'], LOCALE)} phiếu của {n_desks} quầy "
        f"thuộc {n_units} đơn vị; {f.num(r['n_excluded'], LOCALE)} phiếu bị gắn cờ nghi ngờ "
        "không được tính."
    )
    if report.rate is not None and report.rate.share is not None:
        facts.append(
            f"Số hồ sơ được giải quyết tại các quầy trong kỳ: {f.num(report.rate.volume, LOCALE)}; "
            f"tỷ lệ phản hồi (số phiếu / số hồ sơ): {f.pct(report.rate.share, LOCALE)}."
        )
    return [Para(x) for x in facts]


def _headline(report: Report) -> list:
    r, o = report.result, report.overall
    ok = texts.adequate(o)
    big = f"Chỉ số hài lòng chung: {f.pct(o['estimate'], LOCALE)}"
    if not ok and o["estimate"] is not None:
        big += f" ({texts.small_tag(o) or 'ít phiếu'})"
    lines = [
        Para(big, "big" if ok else "big_small"),
        Para(
            (
                f"Khoảng tin cậy {f.pct(r['level'], LOCALE, 0)}: "
                f"{f.interval(o['ci_low'], o['ci_high'], LOCALE)}. "
                if ok
                else (f"n = {f.num(o['n'], LOCALE)}. " if o["n"] else "")
                + texts.small_sample_text(o["n"], r["design"].get("n_days"), LOCALE)
                + " "
            )
            + (
                f"Điểm trung bình {f.num(r['mean_score']['estimate'], LOCALE, 2)}/5."
                if r["mean_score"]["estimate"] is not None
                else ""
            )
        ),
        Para(texts.target_text(report, LOCALE)),
    ]
    sentence = texts.verdict_sentence(o, LOCALE, level=r["level"])
    if sentence:
        more = texts.more_needed_text(o, LOCALE)
        if more and o["verdict"] != "chua_du_can_cu":
            sentence += f"; {more[0].lower()}{more[1:]}"
        lines.append(
            Para(f"Kết luận: {sentence}" + (" (nếu kết quả giữ nguyên)." if more else "."))
        )
    return lines


def _verdicts(report: Report) -> list:
    """The overall index and every sector group against the target that applies to it."""
    level = report.result["level"]
    rows = [["Phạm vi", *STAT_HEAD]]
    o = report.overall
    rows.append(["Chỉ số hài lòng chung", *_stat_cells(o, o["n"], level)])
    t = report.targets.overall
    groups = {e["key"]: e for e in report.result["groups"].get("sector_group", [])}
    for code, info in report.targets.groups.items():
        entry = groups.get(code)
        if entry is None or info.threshold is None:
            continue
        rows.append(
            [
                report.label("sector_group", code),
                *_stat_cells(entry["overall"], entry["n"], level),
            ]
        )
    out: list = [_stat_grid(rows)]
    if t.threshold is None:
        out.append(Para(f"Chưa có chỉ tiêu năm {report.targets.year} cho đơn vị này."))
    for line in texts.target_lines(report, LOCALE):
        out.append(Para("Nguồn chỉ tiêu — " + line))
    return out


def _breakdown(report: Report, name: str, title: str) -> list:
    entries = report.months() if name == "month" else report.ranked(name)
    if not entries:
        return []
    level = report.result["level"]
    # A ranking says which rows differ from the overall index (Holm-adjusted).
    ranked = name != "month"
    rows = [[title, *STAT_HEAD, *(["So với chung"] if ranked else [])]]
    for e in entries:
        label = texts.group_name(report, name, e["key"])
        if name == "month":
            label = f.month(date.fromisoformat(e["key"] + "-01"), LOCALE)
        if name == "desk" and len(report.labels.units) > 1:
            label += f" ({report.labels.desk_units.get(e['key']) or e['key']})"
        if not texts.adequate(e["overall"]):
            label += f" ({texts.small_tag(e['overall'])})"
        # Beside every unit and desk index: how many of its transactions answered.
        rate = report.rates.get(name, {}).get(e["key"])
        if rate is not None and rate.share is not None:
            # A no-break space: the figure stays on the line of its words.
            label += f" — tỷ lệ phản hồi\u00a0{f.pct(rate.share, LOCALE)}"
        rows.append(
            [
                label,
                *_stat_cells(e["overall"], e["n"], level),
                *([texts.versus_label(e)] if ranked else []),
            ]
        )
    if not ranked:
        # Months: each against the month before (design-based, analysis.compare.pairs).
        if any(e.get("vs_previous") for e in entries):
            rows[0].append("So với tháng trước")
            for row, e in zip(rows[1:], entries, strict=True):
                row.append(texts.pair_label(e.get("vs_previous"), LOCALE))
            widths = [*STAT_W[:-1], VERSUS_VERDICT_W, VERSUS_W + 6 * mm]
            return [
                Grid(rows, [WIDTH - sum(widths), *widths], (0, VERDICT_COLUMN, len(widths))),
                Para(texts.plain(texts.PAIRS_NOTE)),
            ]
        return [_stat_grid(rows)]
    widths = [*STAT_W[:-1], VERSUS_VERDICT_W, VERSUS_W]
    versus = len(widths)  # the last column, text
    return [
        Grid(rows, [WIDTH - sum(widths), *widths], (0, VERDICT_COLUMN, versus)),
        Para(texts.ranking_note() + "."),
    ]


def _items(report: Report) -> list:
    q = report.questionnaire
    item_texts = {it.code: it.text.get("vi", "") for it in q.items()}
    rows = [
        ["Câu hỏi", "Số phiếu", "Không áp dụng", "Tỷ lệ hài lòng", "Khoảng tin cậy 95%", "Điểm TB"]
    ]
    for i in report.result["items"]:
        mean = i["mean_score"]["estimate"]
        rows.append(
            [
                f"{i['code']}. {item_texts.get(i['code'], '')}",
                f.num(i["n"], LOCALE),
                f.num(i["n_na"], LOCALE),
                f.pct(i["estimate"], LOCALE),
                f.interval(*texts.shown_interval(i), LOCALE),
                f.num(mean, LOCALE, 2) if mean is not None else "",
            ]
        )
    widths = [15 * mm, 17 * mm, 17 * mm, 24 * mm, 14 * mm]
    return [Grid(rows, [WIDTH - sum(widths), *widths])]


def _comments(session: Session, report: Report) -> list:
    counts = report.comment_counts
    total = sum(counts.values())
    if not total:
        return [Para("Trong kỳ không có ý kiến nào được ghi thêm.")]
    parts = ", ".join(
        f"{f.num(n, LOCALE)} {texts.kind_label(k).lower()}" for k, n in sorted(counts.items())
    )
    out: list = [Para(f"Người dân đã ghi thêm {f.num(total, LOCALE)} ý kiến ({parts}).")]
    rows, _total = inputs.comments(session, report.selection, limit=400)
    order = {"complaint": 0, "suggestion": 1, "comment": 2}
    chosen = sorted((c for c in rows if not c.flagged), key=lambda c: order.get(c.kind, 3))[
        :MAX_QUOTES
    ]
    if chosen:
        out.append(Para("Một số ý kiến gần đây:"))
        for c in chosen:
            out.append(
                Para(f"• {f.day(c.day, LOCALE)}, {texts.kind_label(c.kind)}: “{c.text}”", "quote")
            )
    return out


def blocks(session: Session, report: Report) -> list:
    """The body of the report, section by section, for the PDF and the DOCX alike."""
    r, o = report.result, report.overall
    out: list = [Heading("1. Phạm vi và mẫu khảo sát"), *_scope(report)]
    out += [Heading("2. Kết quả chung"), *_headline(report)]
    out += [Heading("3. Đánh giá so với chỉ tiêu"), *_verdicts(report)]

    crit_rows = [["Tiêu chí", *STAT_HEAD]]
    bars = []
    for c in r["criteria"]:
        name = c["name"].get("vi", c["code"])
        crit_rows.append([name, *_stat_cells(c, c["n"], r["level"])])
        bars.append((name, c["estimate"], *texts.shown_interval(c)))
    out += [
        Chart(
            charts.labelled_bars(bars, o["target"], LOCALE, width=WIDTH, label_width=170),
            heading="4. Kết quả theo tiêu chí",
        ),
        _stat_grid(crit_rows),
    ]
    months = report.months()
    if months:
        points = [
            (
                f.month(date.fromisoformat(e["key"] + "-01"), LOCALE, short=True).split("/")[0],
                e["overall"]["estimate"],
                *texts.shown_interval(e["overall"]),
            )
            for e in months
        ]
        chart = charts.trend_chart(points, o["target"], LOCALE, width=WIDTH, height=170, font=9)
        out += [
            Chart(chart, heading="5. Xu hướng theo tháng"),
            Para(
                "Đường liền: chỉ số hài lòng chung của từng tháng; dải màu: khoảng tin cậy 95%; "
                "đường đứt nét đỏ: chỉ tiêu."
            ),
            *_breakdown(report, "month", "Tháng"),
        ]
        if texts.year_month_applies(report):
            out.append(Para(texts.year_month_text()))
    out += [
        Heading("6. Kết quả theo đơn vị"),
        *_breakdown(report, "unit", "Đơn vị"),
        Heading("7. Kết quả theo quầy"),
        *_breakdown(report, "desk", "Quầy"),
        Heading("8. Kết quả theo lĩnh vực"),
        *_breakdown(report, "sector", "Lĩnh vực"),
        Heading("9. Kết quả theo câu hỏi"),
        *_items(report),
        Heading("10. Ý kiến của người dân"),
        *_comments(session, report),
        Heading("11. Phương pháp tính"),
        *[Para(line) for line in texts.method_lines(report, LOCALE)],
        *[Para(texts.note_text(n)) for n in report.notes],
        Para(
            f"Báo cáo lập ngày {f.day(report.generated_on, LOCALE)} từ dữ liệu của hệ "
            "thống khảo sát; các tỷ lệ được làm tròn đến một chữ số thập phân."
        ),
    ]
    return out


# --- the PDF layout ----------------------------------------------------------------------
class _Styles:
    def __init__(self) -> None:
        register_serif()
        s = BODY_SIZE

        def style(name, font=SERIF, size=s, **kw):
            kw.setdefault("leading", size * 1.2)
            return ParagraphStyle(name, fontName=font, fontSize=size, **kw)

        self.parent = style("parent", size=12.5, alignment=TA_CENTER)
        self.issuer = style("issuer", SERIF_BOLD, 12.5, alignment=TA_CENTER)
        self.quoc_hieu = style("qh", SERIF_BOLD, 12.5, alignment=TA_CENTER)
        self.tieu_ngu = style("tn", SERIF_BOLD, 13.5, alignment=TA_CENTER)
        self.number = style("number", alignment=TA_CENTER)
        self.place = style("place", SERIF_ITALIC, alignment=TA_CENTER)
        self.kind = style("kind", SERIF_BOLD, 14, alignment=TA_CENTER, spaceBefore=6 * mm)
        self.subject = style("subject", SERIF_BOLD, 14, alignment=TA_CENTER)
        self.h = style("h", SERIF_BOLD, s, spaceBefore=8, spaceAfter=4)
        # Body: justified, first line indented 1 cm, 6 pt between paragraphs.
        self.body = style(
            "body", alignment=TA_JUSTIFY, firstLineIndent=10 * mm, spaceAfter=6, leading=s * 1.25
        )
        self.big = style("big", SERIF_BOLD, 18, spaceAfter=4, leading=23)
        # Below the minimum design the share is greyed: it concludes nothing.
        self.big_small = ParagraphStyle(
            "bigsmall", parent=self.big, textColor=colors.HexColor("#7d8791")
        )
        self.quote = ParagraphStyle(
            "quote", parent=self.body, firstLineIndent=0, leftIndent=8 * mm, alignment=TA_LEFT
        )
        self.cell = style("cell", size=9.5, leading=11.5)
        self.cell_bold = style("cellb", SERIF_BOLD, 9.5, leading=11.5)
        self.cell_num = style("celln", size=9.5, leading=11.5, alignment=TA_RIGHT)
        self.recipients_head = style("nn", SERIF_BOLD_ITALIC, 12)
        self.recipients = style("nni", size=11, leading=13)
        self.signer = style("signer", SERIF_BOLD, s, alignment=TA_CENTER)


def _p(text: str, style) -> Paragraph:
    # Stored text may predate the input checks; reportlab fails on lone surrogates.
    return Paragraph(escape(clean_for_file(text)), style)


def _rule(line: float):
    """A centred horizontal line (under the issuer, the motto and the subject), drawn
    in a box of its own below the text so it never crosses the descenders."""
    from reportlab.graphics.shapes import Drawing, Line

    d = Drawing(line, 8)
    d.add(Line(0, 3, line, 3, strokeWidth=0.6))
    d.hAlign = "CENTER"
    return d


def _grid(g: Grid, st: _Styles) -> Table:
    def style(i: int, j: int):
        if i == 0:
            return st.cell_bold
        return st.cell if j in g.left else st.cell_num

    body = [[_p(str(c), style(i, j)) for j, c in enumerate(row)] for i, row in enumerate(g.rows)]
    t = Table(body, colWidths=g.widths, repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dce6f0")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b8c4d0")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return t


def _header_table(lh: Letterhead, st: _Styles) -> Table:
    left_w, right_w = 68 * mm, WIDTH - 68 * mm
    issuer_w = min(
        pdfmetrics.stringWidth(lh.issuer, SERIF_BOLD, 12.5), left_w - 6 * mm
    )  # the rule: a third to a half of the issuer's line
    motto_w = pdfmetrics.stringWidth(TIEU_NGU, SERIF_BOLD, 13.5)
    left = [_p(lh.parent, st.parent)] if lh.parent else []
    left += [_p(lh.issuer, st.issuer), _rule(max(issuer_w * 0.45, 20 * mm))]
    right = [_p(QUOC_HIEU, st.quoc_hieu), _p(TIEU_NGU, st.tieu_ngu), _rule(motto_w)]
    t = Table(
        [[left, right], [_p(lh.number, st.number), _p(lh.place_date, st.place)]],
        colWidths=[left_w, right_w],
    )
    t.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 1), (-1, 1), 6),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
            ]
        )
    )
    return t


def _closing(lh: Letterhead, st: _Styles) -> KeepTogether:
    left = [_p("Nơi nhận:", st.recipients_head)]
    left += [_p(f"- {r}", st.recipients) for r in lh.recipients]
    right = [
        _p(lh.signer_title, st.signer),
        Spacer(1, 25 * mm),  # room for the signature and the seal
        _p(lh.signer_name, st.signer),
    ]
    t = Table([[left, right]], colWidths=[WIDTH * 0.48, WIDTH * 0.52])
    t.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return KeepTogether([Spacer(1, 6 * mm), t])


def _flowables(items: list, st: _Styles) -> list:
    out: list = []
    styles = {"body": st.body, "big": st.big, "big_small": st.big_small, "quote": st.quote}
    for b in items:
        if isinstance(b, Heading):
            out.append(_p(b.text, st.h))
        elif isinstance(b, Para):
            out.append(_p(b.text, styles[b.style]))
        elif isinstance(b, Grid):
            out.append(_grid(b, st))
            out.append(Spacer(1, 2 * mm))
        elif isinstance(b, Chart):
            head = [_p(b.heading, st.h)] if b.heading else []
            out.append(KeepTogether([*head, b.scene.drawing()]))
            out.append(Spacer(1, 2 * mm))
    return out


def _page_number(canvas, doc) -> None:
    """From page 2 on, the page number centred in the top margin (NĐ 30/2020)."""
    if doc.page < 2:
        return
    canvas.saveState()
    canvas.setFont(SERIF, BODY_SIZE)
    canvas.drawCentredString(MARGIN_LEFT + WIDTH / 2, PAGE_H - 12 * mm, str(doc.page))
    canvas.restoreState()


def render(session: Session, report: Report) -> bytes:
    register_fonts()  # the charts are drawn in DejaVu Sans
    st = _Styles()
    sel = report.selection
    lh = settings_letterhead(session, report)
    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN_LEFT,
        rightMargin=MARGIN_RIGHT,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=clean_for_file(f"{KIND} {lh.subject}"),
        author=clean_for_file(lh.issuer) or "Hệ thống khảo sát mức độ hài lòng",
        subject=f"{sel.unit.code} {sel.start.isoformat()} {sel.end.isoformat()}",
    )
    story: list = [
        _header_table(lh, st),
        _p(lh.kind, st.kind),
        _p(lh.subject, st.subject),
        _rule(40 * mm),
        Spacer(1, 4 * mm),
        *_flowables(blocks(session, report), st),
        _closing(lh, st),
    ]
    # No frame padding: the text runs exactly from margin to margin.
    frame = Frame(
        MARGIN_LEFT,
        MARGIN_BOTTOM,
        WIDTH,
        PAGE_H - MARGIN_TOP - MARGIN_BOTTOM,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc.addPageTemplates([PageTemplate("page", [frame], onPage=_page_number)])
    doc.build(story)
    return buf.getvalue()
