"""PDF posters: a pure function from a list of desks to PDF bytes."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from survey.posters import texts
from survey.posters.fonts import BOLD, REGULAR, register_fonts
from survey.posters.layout import QR, Space, Steps, Text, fit_lines, stack
from survey.posters.model import SIZES, PosterDesk, PosterError
from survey.posters.qr import QUIET_ZONE
from survey.text import clean_for_file

ACCENT = Color(0.05, 0.27, 0.55)
MUTED = Color(0.35, 0.35, 0.35)
GUIDE = Color(0.7, 0.7, 0.7)
PAGE_W, PAGE_H = A4

# Smallest QR symbol (quiet zone excluded) per size: about 1/10 of the reading
# distance, so an A4 poster scans from one metre.
MIN_SYMBOL = {"a4": 100 * mm, "a5": 60 * mm, "a6": 45 * mm}


@dataclass(frozen=True)
class Style:
    """Font sizes (points) and room for one poster face."""

    title: float
    unit: float
    desk: float
    url: float
    steps: float
    privacy: float
    qr: float  # QR side with its quiet zone, before the minimum-size check
    margin: float


STYLES = {
    "a4": Style(
        title=30, unit=17, desk=26, url=16, steps=15, privacy=12, qr=145 * mm, margin=16 * mm
    ),
    # One face of the tent: A5 landscape, laid out in two columns.
    "a5": Style(
        title=22, unit=13, desk=17, url=11, steps=11, privacy=9, qr=84 * mm, margin=10 * mm
    ),
    "a6": Style(
        title=12.5, unit=8.5, desk=11, url=8, steps=7.5, privacy=6.5, qr=66 * mm, margin=7 * mm
    ),
}


TENT_GAP = 4 * mm  # between the tent's text column and its QR code

# The quiet zone's share of the side is largest for version 1 (21 modules), so
# checking that version guarantees the minimum symbol for any URL.
_V1_SHARE = 21 / (21 + 2 * QUIET_ZONE)
if any(STYLES[s].qr * _V1_SHARE < MIN_SYMBOL[s] for s in SIZES):  # pragma: no cover
    raise RuntimeError("a poster style's QR code is below its minimum size")


def _nfc(text: str) -> str:
    # Names typed on some systems arrive decomposed (e + combining marks); the
    # PDF text layer has no shaping, so only precomposed letters print right.
    # Controls are dropped: stored names may predate the input checks.
    return clean_for_file(unicodedata.normalize("NFC", text))


# Cached: a tent draws each desk twice, and fitting text is the costly part.
@lru_cache(maxsize=256)
def _names(desk: PosterDesk, st: Style, width: float) -> tuple[Text, Text]:
    unit, unit_size = fit_lines(_nfc(desk.unit_name), REGULAR, st.unit, width, 2, st.unit * 0.7)
    name, name_size = fit_lines(_nfc(desk.desk_name), BOLD, st.desk, width, 2, st.desk * 0.65)
    return Text(unit, REGULAR, unit_size), Text(name, BOLD, name_size)


@lru_cache(maxsize=256)
def _url(desk: PosterDesk, st: Style, width: float) -> Text:
    lines, size = fit_lines(texts.display_url(desk.url), BOLD, st.url, width, 1, st.url * 0.5)
    return Text(lines, BOLD, size)


class _Face:
    """The parts shared by every desk of one size, fitted once per document."""

    def __init__(self, size: str, width: float) -> None:
        st = self.style = STYLES[size]
        self.size = size
        # The tent's text shares the width with the QR code; elsewhere it is below.
        self.text_width = width - st.qr - TENT_GAP if size == "a5" else width
        text_width = self.text_width
        title, title_size = fit_lines(texts.TITLE, BOLD, st.title, width, 2, st.title * 0.6)
        self.title = Text(title, BOLD, title_size, ACCENT)
        self.steps = Steps.fit(texts.STEPS, REGULAR, st.steps, text_width)
        privacy, p_size = fit_lines(texts.PRIVACY, REGULAR, st.privacy, text_width, 2, 5)
        self.privacy = Text(privacy, REGULAR, p_size, MUTED)


def _portrait(
    c: Canvas, face: _Face, desk: PosterDesk, x: float, y: float, w: float, h: float
) -> None:
    """A4 poster or A6 sticker: everything in one centred column."""
    st = face.style
    m = st.margin
    width = w - 2 * m
    gap = st.steps * 0.8
    blocks = [
        Space(0, 0.3),
        face.title,
        Space(gap * 0.5, 0.6),
        *_names(desk, st, width),
        Space(0, 1),  # the QR's own quiet zone already separates it
        QR(desk.url, st.qr),
        _url(desk, st, width),
        Space(gap, 1),
        face.steps,
        Space(gap * 0.6, 0.6),
        face.privacy,
        Space(0, 0.3),
    ]
    stack(c, blocks, x + m, y + h - m, width, h - 2 * m)


def _landscape(
    c: Canvas, face: _Face, desk: PosterDesk, x: float, y: float, w: float, h: float
) -> None:
    """One face of the table tent: title on top, text left, QR right."""
    st = face.style
    m = st.margin
    side = st.qr
    top = y + h - m
    stack(c, [face.title], x + m, top, w - 2 * m, face.title.height)
    top -= face.title.height
    body_h = top - (y + m)
    right_x = x + w - m - side
    stack(
        c,
        [Space(0, 1), QR(desk.url, side), _url(desk, st, side), Space(0, 1)],
        right_x,
        top,
        side,
        body_h,
    )
    left_w = face.text_width
    gap = st.steps
    blocks = [
        Space(0, 1),
        *_names(desk, st, left_w),
        Space(gap, 1),
        face.steps,
        Space(gap * 0.6, 0.6),
        face.privacy,
        Space(0, 1),
    ]
    stack(c, blocks, x + m, top, left_w, body_h)


def _dashed(c: Canvas, x1: float, y1: float, x2: float, y2: float) -> None:
    c.saveState()
    c.setStrokeColor(GUIDE)
    c.setLineWidth(0.5)
    c.setDash(3, 3)
    c.line(x1, y1, x2, y2)
    c.restoreState()


def _page_a4(c: Canvas, face: _Face, desks: Sequence[PosterDesk]) -> None:
    _portrait(c, face, desks[0], 0, 0, PAGE_W, PAGE_H)


def _page_tent(c: Canvas, face: _Face, desks: Sequence[PosterDesk]) -> None:
    # Fold along the middle: the lower half reads upright on one side, the
    # upper half, drawn upside down, reads upright on the other side.
    half = PAGE_H / 2
    _landscape(c, face, desks[0], 0, 0, PAGE_W, half)
    c.saveState()
    c.translate(PAGE_W, PAGE_H)
    c.rotate(180)
    _landscape(c, face, desks[0], 0, 0, PAGE_W, half)
    c.restoreState()
    _dashed(c, 0, half, PAGE_W, half)


def _page_stickers(c: Canvas, face: _Face, desks: Sequence[PosterDesk]) -> None:
    w, h = PAGE_W / 2, PAGE_H / 2
    for i, desk in enumerate(desks):
        col, row = i % 2, i // 2
        _portrait(c, face, desk, col * w, PAGE_H - (row + 1) * h, w, h)
    _dashed(c, w, 0, w, PAGE_H)
    _dashed(c, 0, h, PAGE_W, h)


# size -> (desks per page, face width, page painter)
_PAGES = {
    "a4": (1, PAGE_W, _page_a4),
    "a5": (1, PAGE_W, _page_tent),
    "a6": (4, PAGE_W / 2, _page_stickers),
}


def render_posters(desks: Sequence[PosterDesk], size: str = "a4") -> bytes:
    """PDF (A4 sheets) of the desks' posters, in the given order.

    a4: one wall poster per page; a5: one table tent per page (fold in half);
    a6: four stickers per page, with cut guides.
    """
    if size not in SIZES:
        raise PosterError(f"unknown poster size {size!r} (expected one of {', '.join(SIZES)})")
    if not desks:
        raise PosterError("no desks to print")
    register_fonts()
    per_page, face_w, paint = _PAGES[size]
    face = _Face(size, face_w - 2 * STYLES[size].margin)
    buf = io.BytesIO()
    # invariant: no timestamps or random ids, so the same desks give the same bytes.
    c = Canvas(
        buf,
        pagesize=A4,
        invariant=True,
        # Uncompressed: reportlab's pure-Python ASCII85 pass over compressed
        # pages would cost more than drawing them; the text is mostly fonts.
        pageCompression=0,
        lang="vi",
        # Else every page starts in Helvetica, an unembedded font preflight flags.
        initialFontName=REGULAR,
    )
    c.setTitle(f"Mã QR khảo sát – {len(desks)} quầy")
    c.setCreator("survey")
    for start in range(0, len(desks), per_page):
        paint(c, face, desks[start : start + per_page])
        c.showPage()
    c.save()
    return buf.getvalue()
