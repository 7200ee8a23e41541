"""The public results board of a unit: its figures, the web page's rows and the A4 poster.

``public_board`` is the citizen-side summary (latest complete month and
quarter) of a unit's subtree.  Only aggregates leave it, and none for a
period with fewer than the configured minimum of responses; ``periods`` and
``poster`` format what it gives for the page and the printed A4 sheet.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy.orm import Session

from survey.models import Unit
from survey.posters.fonts import register_fonts
from survey.posters.qr import draw_qr
from survey.reports import charts, texts
from survey.reports import fmt as f
from survey.reports.build import build_for
from survey.reports.inputs import TargetInfo
from survey.reports.selection import build_selection, latest_complete_month, latest_complete_quarter
from survey.reports.texts import Gettext
from survey.services import units
from survey.text import clean_for_file


# --- the figures ----------------------------------------------------------------
@dataclass
class BoardPeriod:
    kind: str  # month | quarter
    start: date
    end: date
    quarter: int | None
    n: int
    shown: bool
    overall: float | None = None
    criteria: list[tuple[str, dict[str, str], float | None]] = field(default_factory=list)
    # Below the minimum design (a short period, few days of responses): greyed, "for reference".
    adequate: bool = True
    # The target of the period's year and where it comes from (None: no target).
    target: TargetInfo | None = None
    year: int = 0


@dataclass
class Board:
    unit: Unit
    periods: list[BoardPeriod]
    min_n: int


def public_board(session: Session, code: str, *, today: date, min_n: int) -> Board | None:
    """Latest complete month and quarter of a unit's subtree; None for an unknown unit.

    Only aggregates, and none at all for a period with fewer than ``min_n``
    responses counted (flagged ones are not counted).
    """
    unit = units.by_code(session, code.strip().upper())
    if unit is None or not unit.active:
        return None
    m_start, m_end = latest_complete_month(today)
    year, q, q_start, q_end = latest_complete_quarter(today)
    periods = []
    for kind, start, end, quarter in (
        ("month", m_start, m_end, None),
        ("quarter", q_start, q_end, q),
    ):
        sel = build_selection(session, unit, today=today, start=start, end=end)
        report = build_for(session, sel, by=())
        n = report.result["n_responses"]
        period = BoardPeriod(kind, start, end, quarter, n, shown=n >= min_n)
        if period.shown:
            period.overall = report.overall["estimate"]
            period.adequate = report.overall.get("adequate", True)
            period.criteria = [
                (c["code"], c["name"], c["estimate"]) for c in report.result["criteria"]
            ]
            if report.targets.overall.threshold is not None:
                period.target, period.year = report.targets.overall, report.targets.year
        periods.append(period)
    return Board(unit=unit, periods=periods, min_n=min_n)


# --- the web page ---------------------------------------------------------------
@dataclass
class CriterionView:
    name: str
    value: str
    share: float | None
    bar: Markup


@dataclass
class PeriodView:
    title: str
    dates: str
    shown: bool
    index: str = ""
    n: str = ""
    criteria: list[CriterionView] = field(default_factory=list)
    adequate: bool = True
    target: str = ""  # "Chỉ tiêu năm 2026: 85%"
    target_source: str = ""  # where it comes from (texts.target_provenance)


def _title(p: BoardPeriod, locale: str) -> str:
    if p.kind == "quarter":
        return f.quarter(p.start.year, p.quarter or 1, locale)
    return f.month(p.start, locale)


def _target(p: BoardPeriod, locale: str, _: Gettext) -> tuple[str, str]:
    """The period's target and its provenance, naming units rather than staff."""
    if p.target is None or p.target.threshold is None:
        return "", ""
    value = texts.target_percent(p.target.threshold, locale)
    return (
        _("Chỉ tiêu năm %(year)d: %(value)s", year=p.year, value=value),
        texts.target_provenance(p.target, locale, _, public=True),
    )


def periods(board: Board, locale: str, _: Gettext = texts.plain) -> list[PeriodView]:
    out = []
    for p in board.periods:
        view = PeriodView(
            title=_title(p, locale),
            dates=f"{f.day(p.start, locale)} – {f.day(p.end, locale)}",
            shown=p.shown,
        )
        if p.shown:
            view.adequate = p.adequate
            view.index = f.pct(p.overall, locale)
            view.n = f.num(p.n, locale)
            view.target, view.target_source = _target(p, locale, _)
            for _code, names, share in p.criteria:
                name = names.get(locale) or names.get("vi", "")
                view.criteria.append(
                    CriterionView(
                        name,
                        f.pct(share, locale),
                        share,
                        charts.share_bar(share, f"{name}: {f.pct(share, locale)}").svg(
                            "bar", stretch=True
                        ),
                    )
                )
        out.append(view)
    return out


# --- the A4 poster --------------------------------------------------------------
ACCENT = HexColor("#0a4a8a")
MUTED = HexColor("#444444")
LIGHT = HexColor("#e8edf2")
BAR = HexColor("#5b86b8")
SMALL = HexColor("#7d8791")


def small_text(_: Gettext) -> str:
    """Under a period below the minimum design (the page says the same)."""
    return _("Số phiếu hoặc số ngày khảo sát còn ít: kết quả chỉ để tham khảo.")


def _wrap(c: Canvas, text: str, font: str, size: float, width: float) -> list[str]:
    words, lines, line = clean_for_file(text).split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if c.stringWidth(trial, font, size) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def poster(board: Board, url: str, locale: str, _: Gettext) -> bytes:
    """A printable A4 page of the board: both periods, the criteria, how to respond, a QR code."""
    regular, bold = register_fonts()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(clean_for_file(_("Kết quả khảo sát mức độ hài lòng") + f" – {board.unit.name}"))
    w, h = A4
    margin = 15 * mm
    inner = w - 2 * margin
    y = h - margin

    c.setFillColor(ACCENT)
    c.rect(0, h - 42 * mm, w, 42 * mm, stroke=0, fill=1)
    c.setFillColor(HexColor("#ffffff"))
    y = h - 16 * mm
    for line in _wrap(c, _("KẾT QUẢ KHẢO SÁT MỨC ĐỘ HÀI LÒNG"), bold, 20, inner):
        c.setFont(bold, 20)
        c.drawCentredString(w / 2, y, line)
        y -= 9 * mm
    for line in _wrap(c, board.unit.name, regular, 15, inner):
        c.setFont(regular, 15)
        c.drawCentredString(w / 2, y, line)
        y -= 7 * mm
    y = h - 52 * mm

    col_w = (inner - 8 * mm) / 2
    top = y
    lowest = y
    for i, p in enumerate(periods(board, locale, _)):
        x = margin + i * (col_w + 8 * mm)
        y = top
        c.setFillColor(ACCENT)
        c.setFont(bold, 15)
        c.drawString(x, y, p.title)
        y -= 5.5 * mm
        c.setFillColor(MUTED)
        c.setFont(regular, 9.5)
        c.drawString(x, y, p.dates)
        y -= 6 * mm
        if not p.shown:
            c.setFillColor(MUTED)
            c.setFont(regular, 11)
            text = _(
                "Chưa đủ %(n)s phiếu đánh giá để công bố kết quả.", n=f.num(board.min_n, locale)
            )
            for line in _wrap(c, text, regular, 11, col_w):
                y -= 5.5 * mm
                c.drawString(x, y, line)
            lowest = min(lowest, y)
            continue
        c.setFillColor(MUTED)
        c.setFont(regular, 10.5)
        c.drawString(x, y - 2 * mm, _("Chỉ số hài lòng chung"))
        y -= 17 * mm
        c.setFillColor(ACCENT if p.adequate else SMALL)
        c.setFont(bold, 40)
        c.drawString(x, y, p.index)
        y -= 6.5 * mm
        c.setFillColor(MUTED)
        c.setFont(regular, 10)
        c.drawString(x, y, _("Dựa trên %(n)s phiếu đánh giá", n=p.n))
        if not p.adequate:
            for line in _wrap(c, small_text(_), regular, 9.5, col_w):
                y -= 4.5 * mm
                c.setFont(regular, 9.5)
                c.drawString(x, y, line)
        if p.target:
            for line in _wrap(c, f"{p.target} — {p.target_source}", regular, 8.5, col_w):
                y -= 4.2 * mm
                c.setFont(regular, 8.5)
                c.drawString(x, y, line)
        y -= 4 * mm
        for crit in p.criteria:
            lines = _wrap(c, crit.name, regular, 11, col_w - 18 * mm)
            y -= 1.5 * mm
            for k, line in enumerate(lines):
                y -= 5.2 * mm
                c.setFillColor(HexColor("#1a1a1a"))
                c.setFont(regular, 11)
                c.drawString(x, y, line)
                if k == 0:
                    c.setFont(bold, 12)
                    c.drawRightString(x + col_w, y, crit.value)
            y -= 4 * mm
            c.setFillColor(LIGHT)
            c.rect(x, y, col_w, 2.8 * mm, stroke=0, fill=1)
            if crit.share is not None:
                c.setFillColor(BAR)
                c.rect(x, y, col_w * min(max(crit.share, 0), 1), 2.8 * mm, stroke=0, fill=1)
        lowest = min(lowest, y)

    # How to give feedback, with the QR code of this board's page.
    y = lowest - 10 * mm
    c.setStrokeColor(LIGHT)
    c.line(margin, y + 4 * mm, w - margin, y + 4 * mm)
    side = 42 * mm
    text_w = inner - side - 8 * mm
    c.setFillColor(ACCENT)
    c.setFont(bold, 14)
    c.drawString(margin, y - 4 * mm, _("Ông/Bà đánh giá thế nào?"))
    yy = y - 11 * mm
    c.setFillColor(HexColor("#1a1a1a"))
    how = _(
        "Sau khi được phục vụ, xin quét mã QR dán tại quầy bằng camera điện thoại hoặc Zalo "
        "để đánh giá. Phiếu không ghi tên và chỉ mất khoảng một phút."
    )
    for line in _wrap(c, how, regular, 11, text_w):
        c.setFont(regular, 11)
        c.drawString(margin, yy, line)
        yy -= 5.5 * mm
    yy -= 2 * mm
    for line in _wrap(
        c, _("Xem kết quả mới nhất: quét mã bên cạnh hoặc mở %(url)s", url=url), regular, 10, text_w
    ):
        c.setFont(regular, 10)
        c.setFillColor(MUTED)
        c.drawString(margin, yy, line)
        yy -= 5 * mm
    draw_qr(c, url, w - margin - side, y - side, side)
    note = _(
        "Chỉ số là tỷ lệ người trả lời hài lòng hoặc rất hài lòng, tính trung bình trên các "
        "tiêu chí. Không công bố kết quả khi có dưới %(n)s phiếu.",
        n=f.num(board.min_n, locale),
    )
    yy = margin + 6 * mm
    for line in reversed(_wrap(c, note, regular, 8.5, inner)):
        c.setFont(regular, 8.5)
        c.setFillColor(MUTED)
        c.drawString(margin, yy, line)
        yy += 4 * mm
    c.showPage()
    c.save()
    return buf.getvalue()
