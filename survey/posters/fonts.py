"""The embedded Vietnamese font (DejaVu Sans, shipped in static/fonts)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

# survey/posters/fonts.py -> the project's static/fonts.
FONT_DIR = Path(__file__).resolve().parents[2] / "static" / "fonts"
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}


@cache
def register_fonts() -> tuple[str, str]:
    """Register the fonts with reportlab once per process (parsing costs ~0.1 s).

    The project's copies are used, not the system's, so a PDF looks the same
    wherever it is made. Returns (regular, bold) font names.
    """
    for name, filename in _FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
    return REGULAR, BOLD


def missing_glyphs(text: str, font: str = REGULAR) -> set[str]:
    """Characters of ``text`` the font cannot draw (they would print as boxes)."""
    register_fonts()
    cmap = pdfmetrics.getFont(font).face.charToGlyph
    return {ch for ch in text if not ch.isspace() and ord(ch) not in cmap}
