"""The PDF report "BÁO CÁO KẾT QUẢ KHẢO SÁT MỨC ĐỘ HÀI LÒNG …" (A4, DejaVu Sans embedded).

Scope and sample, results with charts, verdicts against every applicable
target (overall and sector groups), the monthly trend, units and desks,
items, a summary of comments, and the method in plain words.  Numbers are
printed as in vi_VN (85,3%).
"""

from __future__ import annotations

import io
from datetime import date
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from sqlalchemy.orm import Session

from survey.posters.fonts import register_fonts
from survey.reports import charts, inputs, texts
from survey.reports import fmt as f
from survey.reports.build import Report
from survey.text import clean_for_file

LOCALE = "vi"
TITLE = "BÁO CÁO KẾT QUẢ KHẢO SÁT MỨC ĐỘ HÀI LÒNG"
MAX_QUOTES = 8
PAGE_W, PAGE_H = A4
MARGIN = 18 * mm
WIDTH = PAGE_W - 2 * MARGIN


class _Styles:
    def __init__(self) -> None:
        regular, bold = register_fonts()
        self.regular, self.bold = regular, bold
        self.title = ParagraphStyle(
            "title", fontName=bold, fontSize=15, leading=19, alignment=TA_CENTER
        )
        self.subtitle = ParagraphStyle(
            "sub", fontName=regular, fontSize=11, leading=15, alignment=TA_CENTER
        )
        self.h = ParagraphStyle(
            "h", fontName=bold, fontSize=12, leading=16, spaceBefore=10, spaceAfter=4
        )
        self.body = ParagraphStyle("body", fontName=regular, fontSize=9.5, leading=13, spaceAfter=3)
        self.big = ParagraphStyle("big", fontName=bold, fontSize=20, leading=26, spaceAfter=2)
        # Below the minimum design the share is greyed: it concludes nothing.
        self.big_small = ParagraphStyle(
            "bigsmall", parent=self.big, textColor=colors.HexColor("#7d8791")
        )
        self.cell = ParagraphStyle("cell", fontName=regular, fontSize=8, leading=10)
        self.cell_bold = ParagraphStyle("cellb", fontName=bold, fontSize=8, leading=10)
        self.cell_num = ParagraphStyle("celln", parent=self.cell, alignment=TA_RIGHT)
        self.quote = ParagraphStyle(
            "quote", parent=self.body, leftIndent=8, textColor=colors.HexColor("#333333")
        )


def _p(text: str, style) -> Paragraph:
    # Stored text may predate the input checks; reportlab fails on lone surrogates.
    return Paragraph(escape(clean_for_file(text)), style)


VERDICT_COLUMN = 5  # in tables of a label and the ``_stat_cells``


def _table(rows: list[list], widths: list[float], st: _Styles, left=(0, VERDICT_COLUMN)) -> Table:
    """A grid with a header row; numbers right-aligned, the ``left`` columns (text) not."""

    def style(i: int, j: int):
        if i == 0:
            return st.cell_bold
        return st.cell if j in left else st.cell_num

    body = [
        [(_p(str(c), style(i, j)) if isinstance(c, str) else c) for j, c in enumerate(row)]
        for i, row in enumerate(rows)
    ]
    t = Table(body, colWidths=widths, repeatRows=1)
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


def _stat_cells(s: dict, n: int) -> list[str]:
    """n, estimate, interval, target, verdict, responses needed (verdict is text)."""
    return [
        f.num(n, LOCALE),
        f.pct(s["estimate"], LOCALE),
        f.interval(*texts.shown_interval(s), LOCALE),
        f.pct(s["target"], LOCALE, 0) if s["target"] is not None else "",
        texts.verdict_label(s["verdict"]),
        _more(s),
    ]


def _more(s: dict) -> str:
    """ "1.240 để khẳng định Đạt" (a plausible count only)."""
    if not texts.more_needed_text(s, LOCALE):
        return ""
    confirms = "Đạt" if s["more_needed_direction"] == "to_confirm_pass" else "Không đạt"
    return f"{f.num(s['more_needed'], LOCALE)} để khẳng định {confirms}"


STAT_HEAD = [
    "Số phiếu",
    "Tỷ lệ hài lòng",
    "Khoảng tin cậy 95%",
    "Chỉ tiêu",
    "Kết luận",
    "Cần thêm (phiếu)",
]
STAT_W = [15 * mm, 18 * mm, 26 * mm, 13 * mm, 25 * mm, 17 * mm]
VERSUS_W = 21 * mm  # "So với chung" in the rankings


def _scope(report: Report, st: _Styles) -> list:
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
    return [_p(x, st.body) for x in facts]


def _verdicts(report: Report, st: _Styles) -> list:
    """The overall index and every sector group against the target that applies to it."""
    rows = [["Phạm vi", *STAT_HEAD]]
    o = report.overall
    rows.append(["Chỉ số hài lòng chung", *_stat_cells(o, o["n"])])
    t = report.targets.overall
    groups = {e["key"]: e for e in report.result["groups"].get("sector_group", [])}
    for code, info in report.targets.groups.items():
        entry = groups.get(code)
        if entry is None or info.threshold is None:
            continue
        rows.append(
            [report.label("sector_group", code), *_stat_cells(entry["overall"], entry["n"])]
        )
    out = [_table(rows, [WIDTH - sum(STAT_W)] + STAT_W, st)]
    if t.threshold is None:
        out.append(_p(f"Chưa có chỉ tiêu năm {report.targets.year} cho đơn vị này.", st.body))
    for line in texts.target_lines(report, LOCALE):
        out.append(_p("Nguồn chỉ tiêu — " + line, st.body))
    return out


def _breakdown(report: Report, name: str, st: _Styles, title: str) -> list:
    entries = report.months() if name == "month" else report.ranked(name)
    if not entries:
        return []
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
            label += f" — tỷ lệ phản hồi {f.pct(rate.share, LOCALE)}"
        rows.append(
            [
                label,
                *_stat_cells(e["overall"], e["n"]),
                *([texts.versus_label(e)] if ranked else []),
            ]
        )
    if not ranked:
        return [_table(rows, [WIDTH - sum(STAT_W)] + STAT_W, st)]
    widths = [*STAT_W, VERSUS_W]
    versus = len(widths)  # the last column, text
    return [
        _table(rows, [WIDTH - sum(widths)] + widths, st, left=(0, VERDICT_COLUMN, versus)),
        _p(texts.ranking_note() + ".", st.body),
    ]


def _items(report: Report, st: _Styles) -> list:
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
    widths = [16 * mm, 16 * mm, 19 * mm, 27 * mm, 14 * mm]
    return [_table(rows, [WIDTH - sum(widths)] + widths, st, left=(0,))]


def _comments(session: Session, report: Report, st: _Styles) -> list:
    counts = report.comment_counts
    total = sum(counts.values())
    if not total:
        return [_p("Trong kỳ không có ý kiến nào được ghi thêm.", st.body)]
    parts = ", ".join(
        f"{f.num(n, LOCALE)} {texts.kind_label(k).lower()}" for k, n in sorted(counts.items())
    )
    out = [_p(f"Người dân đã ghi thêm {f.num(total, LOCALE)} ý kiến ({parts}).", st.body)]
    rows, _total = inputs.comments(session, report.selection, limit=400)
    order = {"complaint": 0, "suggestion": 1, "comment": 2}
    chosen = sorted((c for c in rows if not c.flagged), key=lambda c: order.get(c.kind, 3))[
        :MAX_QUOTES
    ]
    if chosen:
        out.append(_p("Một số ý kiến gần đây:", st.body))
        for c in chosen:
            out.append(
                _p(
                    f"• {f.day(c.day, LOCALE)}, {texts.kind_label(c.kind)}: “{c.text}”",
                    st.quote,
                )
            )
    return out


def _footer(canvas, doc) -> None:
    canvas.saveState()
    canvas.setFont("DejaVuSans", 7.5)
    canvas.setFillColor(colors.HexColor("#555555"))
    canvas.drawString(MARGIN, 10 * mm, doc.title)
    canvas.drawRightString(PAGE_W - MARGIN, 10 * mm, f"Trang {doc.page}")
    canvas.restoreState()


def render(session: Session, report: Report) -> bytes:
    st = _Styles()
    sel, r = report.selection, report.result
    o = report.overall
    buf = io.BytesIO()
    period = f"từ {f.day(sel.start, LOCALE)} đến {f.day(sel.end, LOCALE)}"
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=clean_for_file(f"{TITLE} – {sel.unit.name} – {period}"),
        author="Hệ thống khảo sát mức độ hài lòng",
        subject=f"{sel.unit.code} {sel.start.isoformat()} {sel.end.isoformat()}",
    )
    story: list = [
        _p(TITLE, st.title),
        _p(f"của người dân, tổ chức đối với sự phục vụ của {sel.unit.name}", st.subtitle),
        _p(f"Kỳ báo cáo {period}", st.subtitle),
        Spacer(1, 6 * mm),
        _p("1. Phạm vi và mẫu khảo sát", st.h),
        *_scope(report, st),
        _p("2. Kết quả chung", st.h),
        _p(
            f"Chỉ số hài lòng chung: {f.pct(o['estimate'], LOCALE)}",
            st.big if texts.adequate(o) else st.big_small,
        ),
        _p(
            (
                f"Khoảng tin cậy {f.pct(r['level'], LOCALE, 0)}: "
                f"{f.interval(o['ci_low'], o['ci_high'], LOCALE)}. "
                if texts.adequate(o)
                else (f"n = {f.num(o['n'], LOCALE)}. " if o["n"] else "")
                + texts.small_sample_text(o["n"], r["design"].get("n_days"), LOCALE)
                + " "
            )
            + (
                f"Điểm trung bình {f.num(r['mean_score']['estimate'], LOCALE, 2)}/5."
                if r["mean_score"]["estimate"] is not None
                else ""
            ),
            st.body,
        ),
        _p(texts.target_text(report, LOCALE), st.body),
    ]
    if o["verdict"]:
        verdict = f"Kết luận: {texts.verdict_label(o['verdict'])}"
        more = texts.more_needed_text(o, LOCALE)
        if more:
            verdict += f" — {more[0].lower()}{more[1:]} (nếu kết quả giữ nguyên)."
        story.append(_p(verdict, st.body))
    story += [_p("3. Đánh giá so với chỉ tiêu", st.h), *_verdicts(report, st)]

    crit_rows = [["Tiêu chí", *STAT_HEAD]]
    bars = []
    for c in r["criteria"]:
        name = c["name"].get("vi", c["code"])
        crit_rows.append([name, *_stat_cells(c, c["n"])])
        bars.append((name, c["estimate"], *texts.shown_interval(c)))
    story += [
        _p("4. Kết quả theo tiêu chí", st.h),
        charts.labelled_bars(bars, o["target"], LOCALE, width=WIDTH, label_width=205).drawing(),
        Spacer(1, 2 * mm),
        _table(crit_rows, [WIDTH - sum(STAT_W)] + STAT_W, st),
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
        story += [
            KeepTogether([_p("5. Xu hướng theo tháng", st.h), chart.drawing()]),
            _p(
                "Đường liền: chỉ số hài lòng chung của từng tháng; dải màu: khoảng tin cậy 95%; "
                "đường đứt nét đỏ: chỉ tiêu.",
                st.body,
            ),
            *_breakdown(report, "month", st, "Tháng"),
        ]
    story += [
        _p("6. Kết quả theo đơn vị", st.h),
        *_breakdown(report, "unit", st, "Đơn vị"),
        _p("7. Kết quả theo quầy", st.h),
        *_breakdown(report, "desk", st, "Quầy"),
        _p("8. Kết quả theo lĩnh vực", st.h),
        *_breakdown(report, "sector", st, "Lĩnh vực"),
        _p("9. Kết quả theo câu hỏi", st.h),
        *_items(report, st),
        _p("10. Ý kiến của người dân", st.h),
        *_comments(session, report, st),
        _p("11. Phương pháp tính", st.h),
        *[_p(line, st.body) for line in texts.method_lines(report, LOCALE)],
        *[_p(texts.note_text(n), st.body) for n in report.notes],
        Spacer(1, 4 * mm),
        _p(
            f"Báo cáo lập ngày {f.day(report.generated_at.date(), LOCALE)} từ dữ liệu của hệ "
            "thống khảo sát; các tỷ lệ được làm tròn đến một chữ số thập phân.",
            st.body,
        ),
    ]
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buf.getvalue()
