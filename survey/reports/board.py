"""The public results board of a unit: its figures, the web page's rows and the A4 poster.

``public_board`` is the citizen-side summary (latest complete month and
quarter) of a unit's subtree.  Only aggregates leave it, and none for a
period with fewer than the configured minimum of responses; ``periods`` and
``poster`` format what it gives for the page and the printed A4 sheet.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta

from markupsafe import Markup
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.config import DEFAULTS
from survey.models import Desk, Response, Unit
from survey.posters.fonts import register_fonts
from survey.posters.qr import draw_qr
from survey.reports import charts, texts
from survey.reports import fmt as f
from survey.reports.build import build_for
from survey.reports.inputs import TargetInfo
from survey.reports.selection import build_selection, latest_complete_month, latest_complete_quarter
from survey.reports.texts import Gettext
from survey.services import feedback as feedback_cases
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
    # Enough responses, withheld so that a smaller unit's figure cannot be
    # derived from this one and its neighbours' (complementary suppression).
    protected: bool = False
    # The report's overall figure (estimate, interval, target, verdict), for the verdict.
    stat: dict = field(default_factory=dict)


@dataclass
class Board:
    unit: Unit
    periods: list[BoardPeriod]
    min_n: int
    # How the quarter's suggestions and complaints were handled, and the last
    # public replies of the subtree (the reply only, never the citizen's text).
    feedback: feedback_cases.Measure = field(default_factory=feedback_cases.Measure)
    replies: list[feedback_cases.PublicReply] = field(default_factory=list)
    # The last TREND_MONTHS complete months: (first day, index or None when withheld).
    trend: list[tuple[date, float | None]] = field(default_factory=list)


TREND_MONTHS = 6


def _trend(session: Session, unit: Unit, today: date, end: date, min_n: int):
    """Each of the last months' index, under the same small-cell rules as a period."""
    first = end.replace(day=1)
    for _i in range(TREND_MONTHS - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    sel = build_selection(session, unit, today=today, start=first, end=end)
    report = build_for(session, sel, by=("month",))
    found = {e["key"]: e for e in report.months()}
    out, month = [], first
    while month <= end:
        last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        e = found.get(month.strftime("%Y-%m"))
        shown = (
            e is not None
            and e["n"] >= min_n
            and unit.id in published_units(session, month, last, min_n)
        )
        out.append([month, e["overall"]["estimate"] if shown else None, e["n"] if e else 0])
        month = last + timedelta(days=1)
    return out


def _protect_quarter(trend: list, quarter: BoardPeriod, min_n: int) -> None:
    """The quarter shown beside its months: the months not shown must not be
    derivable from it either (the same rule as between units)."""
    if not quarter.shown:
        return
    inside = [row for row in trend if quarter.start <= row[0] <= quarter.end]
    while inside:
        shown = [row for row in inside if row[1] is not None]
        rest = quarter.n - sum(row[2] for row in shown)
        if rest <= 0 or rest >= min_n or not shown:
            return
        min(shown, key=lambda row: (row[2], row[0]))[1] = None


# --- small-cell protection across boards ---------------------------------------
def _counts(session: Session, start: date, end: date) -> dict[int, int]:
    """Counted (unflagged) responses of each unit itself in the period."""
    return dict(
        session.execute(
            select(Response.unit_id, func.count())
            .where(Response.day >= start, Response.day <= end, Response.quality_flags == "")
            .group_by(Response.unit_id)
        ).all()
    )


def published_units(session: Session, start: date, end: date, min_n: int) -> set[int]:
    """The units whose board may show the period: complementary suppression.

    Every unit has a board of its subtree, so a parent's figure minus its shown
    children's is the figure of the rest (hidden children and the parent's own
    desks). A unit is published when its subtree has at least ``min_n``
    responses and, for every published unit, the rest of it beyond its nearest
    published descendants has either none or at least ``min_n`` responses;
    otherwise its smallest published descendant is withheld too, and again,
    until that holds (docs/privacy.md, "Small cells"). Inactive units have no
    board: their responses count as hidden.
    """
    own = _counts(session, start, end)
    rows = session.execute(select(Unit.id, Unit.parent_id, Unit.active, Unit.code)).all()
    children: dict[int | None, list[int]] = {}
    for uid, parent, _active, _code in rows:
        children.setdefault(parent, []).append(uid)
    code_of = {uid: code for uid, _p, _a, code in rows}
    total: dict[int, int] = {}

    def subtree(uid: int) -> int:
        if uid not in total:
            total[uid] = own.get(uid, 0) + sum(subtree(c) for c in children.get(uid, ()))
        return total[uid]

    order: list[int] = []  # top-down
    stack = list(children.get(None, ()))
    while stack:
        uid = stack.pop()
        order.append(uid)
        stack.extend(children.get(uid, ()))
    for uid in order:
        subtree(uid)
    active = {uid for uid, _p, a, _c in rows if a}
    shown = {uid for uid in order if uid in active and total[uid] >= min_n}

    def nearest_shown(uid: int) -> list[int]:
        out, todo = [], list(children.get(uid, ()))
        while todo:
            child = todo.pop()
            if child in shown:
                out.append(child)
            else:
                todo.extend(children.get(child, ()))
        return out

    changed = True
    while changed:
        changed = False
        for uid in order:
            while uid in shown:
                below = nearest_shown(uid)
                rest = total[uid] - sum(total[m] for m in below)
                if rest == 0 or rest >= min_n or not below:
                    break
                shown.discard(min(below, key=lambda m: (total[m], code_of[m])))
                changed = True
    return shown


def public_board(
    session: Session, code: str, *, today: date, min_n: int, tz: str = DEFAULTS["TIMEZONE"]
) -> Board | None:
    """Latest complete month and quarter of a unit's subtree; None for an unknown unit.

    Only aggregates, and none at all for a period with fewer than ``min_n``
    responses counted (flagged ones are not counted), or whose figure would let
    a hidden unit's be derived by subtraction (``published_units``).
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
        protected = n >= min_n and unit.id not in published_units(session, start, end, min_n)
        period = BoardPeriod(kind, start, end, quarter, n, shown=n >= min_n and not protected)
        period.protected = protected
        if period.shown:
            period.overall = report.overall["estimate"]
            period.adequate = report.overall.get("adequate", True)
            period.criteria = [
                (c["code"], c["name"], c["estimate"]) for c in report.result["criteria"]
            ]
            period.stat = dict(report.overall)
            if report.targets.overall.threshold is not None:
                period.target, period.year = report.targets.overall, report.targets.year
        periods.append(period)
    handled, replies = feedback_cases.public_summary(
        session, units.subtree_ids(session, unit.id), q_start, q_end, tz
    )
    trend = _trend(session, unit, today, m_end, min_n)
    month, quarter = periods
    _protect_quarter(trend, quarter, min_n)
    last = trend[-1] if trend else None
    if month.shown and last is not None and last[1] is None and quarter.start <= month.start:
        # The month is the quarter's last and was withheld for its sake.
        month.shown, month.protected, month.overall, month.criteria = False, True, None, []
    return Board(
        unit=unit,
        periods=periods,
        min_n=min_n,
        feedback=handled,
        replies=replies,
        trend=[(row[0], row[1]) for row in trend],
    )


def trend_rows(board: Board, locale: str, _: Gettext = texts.plain) -> list[tuple[str, str]]:
    """The trend as (month, index or "–"), oldest first."""
    return [(f.month(month, locale), f.pct(value, locale)) for month, value in board.trend]


@dataclass
class FeedbackView:
    received: str
    on_time: str  # "8/10 (80%)" or "" when nothing was due yet
    replies: list[dict]


def feedback_view(board: Board, locale: str, _: Gettext = texts.plain) -> FeedbackView:
    m = board.feedback
    on_time = ""
    if m.due:
        on_time = f"{f.num(m.on_time, locale)}/{f.num(m.due, locale)} ({f.pct(m.share_on_time, locale, 0)})"
    replies = [
        {
            "kind": texts.kind_label(r.kind, _),
            "received": r.received.strftime("%d/%m/%Y"),
            "replied": r.replied.strftime("%d/%m/%Y"),
            "unit": r.unit_name,
            "reply": r.reply,
        }
        for r in board.replies
    ]
    return FeedbackView(f.num(m.received, locale), on_time, replies)


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
    protected: bool = False  # withheld by complementary suppression
    verdict: str = ""  # "Đạt — chắc chắn cao hơn chỉ tiêu", "" without a target


def protected_text(_: Gettext) -> str:
    """Why a period with enough responses is withheld (page and poster)."""
    return _(
        "Kết quả kỳ này tạm không công bố: nếu công bố, có thể suy ra kết quả của một đơn vị "
        "có ít phiếu bằng phép trừ. Xem kết quả tại đơn vị cấp trên."
    )


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
            protected=p.protected,
        )
        if p.shown:
            view.adequate = p.adequate
            view.index = f.pct(p.overall, locale)
            view.n = f.num(p.n, locale)
            view.target, view.target_source = _target(p, locale, _)
            if p.target is not None:
                view.verdict = texts.verdict_sentence(p.stat, locale, _, short=True)
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


@dataclass(frozen=True)
class PosterDesk:
    """The desk a results poster hangs at: its QR code opens that desk's survey."""

    name: str
    survey_url: str


def poster_desk(session: Session, board: Board, code: str | None, base_url: str):
    """The desk of a results poster: ``code`` (an active desk of the unit's
    subtree), else the unit's only active desk; None when there is no such
    one (the poster then points to the QR code at the desk). LookupError for a
    ``code`` that is not one of the unit's active desks."""
    subtree = units.subtree_ids(session, board.unit.id)
    query = select(Desk).where(Desk.active.is_(True), Desk.unit_id.in_(sorted(subtree)))
    if code:
        desk = session.scalar(query.where(Desk.code == code.strip().upper()))
        if desk is None:
            raise LookupError(code)
    else:
        desks = session.scalars(query.where(Desk.unit_id == board.unit.id).limit(2)).all()
        if len(desks) != 1:
            return None
        desk = desks[0]
    return PosterDesk(desk.name, f"{base_url}/s/{desk.code}")


def poster(
    board: Board, url: str, locale: str, _: Gettext, desk: PosterDesk | None = None
) -> bytes:
    """A printable A4 page of the board: both periods, the criteria, how to respond,
    and two labelled QR codes: the survey of the desk it hangs at (citizens scan
    a poster to rate) and the results page."""
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
            text = (
                protected_text(_)
                if p.protected
                else _(
                    "Chưa đủ %(n)s phiếu đánh giá để công bố kết quả.",
                    n=f.num(board.min_n, locale),
                )
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

    # What became of the quarter's suggestions and complaints (the sixth criterion).
    handled = feedback_view(board, locale, _)
    story = _(
        "%(quarter)s: đã nhận %(n)s kiến nghị, phản ánh.",
        quarter=_title(board.periods[1], locale),
        n=handled.received,
    )
    if handled.on_time:
        story += " " + _("Trả lời đúng hạn: %(v)s.", v=handled.on_time)
    y = lowest - 9 * mm
    c.setFillColor(ACCENT)
    c.setFont(bold, 11)
    c.drawString(margin, y, _("Ý kiến của Ông/Bà — Việc chúng tôi đã làm"))
    for line in _wrap(c, story, regular, 10, inner):
        y -= 5 * mm
        c.setFillColor(MUTED)
        c.setFont(regular, 10)
        c.drawString(margin, y, line)
    lowest = y

    # How to give feedback, with the desk's survey QR code and the results one.
    y = lowest - 10 * mm
    c.setStrokeColor(LIGHT)
    c.line(margin, y + 4 * mm, w - margin, y + 4 * mm)
    side = 42 * mm
    small_side = 28 * mm
    text_w = inner - side - small_side - 16 * mm
    c.setFillColor(ACCENT)
    c.setFont(bold, 14)
    c.drawString(margin, y - 4 * mm, _("Ông/Bà đánh giá thế nào?"))
    yy = y - 11 * mm
    c.setFillColor(HexColor("#1a1a1a"))
    how = (
        _(
            "Sau khi được phục vụ, xin quét mã “Đánh giá” bên cạnh bằng camera điện thoại "
            "hoặc Zalo. Phiếu không ghi tên và chỉ mất khoảng một phút."
        )
        if desk is not None
        else _(
            "Sau khi được phục vụ, xin quét mã QR dán tại quầy bằng camera điện thoại hoặc Zalo "
            "để đánh giá. Phiếu không ghi tên và chỉ mất khoảng một phút."
        )
    )
    for line in _wrap(c, how, regular, 11, text_w):
        c.setFont(regular, 11)
        c.drawString(margin, yy, line)
        yy -= 5.5 * mm
    yy -= 2 * mm
    for line in _wrap(
        c,
        _("Xem kết quả mới nhất: quét mã “Kết quả” hoặc mở %(url)s", url=url),
        regular,
        10,
        text_w,
    ):
        c.setFont(regular, 10)
        c.setFillColor(MUTED)
        c.drawString(margin, yy, line)
        yy -= 5 * mm
    # Each code says what it opens: a citizen scanning to rate must not land on results.
    results_x = w - margin - side - 8 * mm - small_side
    if desk is not None:
        draw_qr(c, desk.survey_url, w - margin - side, y - side, side)
        c.setFillColor(ACCENT)
        c.setFont(bold, 11)
        c.drawCentredString(w - margin - side / 2, y - side - 4.5 * mm, _("Đánh giá"))
        c.setFillColor(MUTED)
        for k, line in enumerate(_wrap(c, desk.name, regular, 8, side)[:2]):
            c.setFont(regular, 8)
            c.drawCentredString(w - margin - side / 2, y - side - (8.5 + 3.5 * k) * mm, line)
    else:
        results_x = w - margin - small_side
    draw_qr(c, url, results_x, y - small_side, small_side)
    c.setFillColor(ACCENT)
    c.setFont(bold, 10)
    c.drawCentredString(results_x + small_side / 2, y - small_side - 4.5 * mm, _("Kết quả"))
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
