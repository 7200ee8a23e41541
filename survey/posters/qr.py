"""QR codes of survey URLs: module matrix, PNG, SVG and vector drawing in a PDF."""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
import qrcode.constants
from qrcode.image.pil import PilImage
from qrcode.image.svg import SvgPathFillImage
from reportlab.lib.colors import black, white
from reportlab.pdfgen.canvas import Canvas

# Q (25 % recovery) rather than the minimum M: wall posters get scratched,
# stained and glared on; survey URLs are short, so the symbol stays small.
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_Q
QUIET_ZONE = 4  # modules of white around the symbol, as the standard requires


def _build(url: str, **kwargs) -> qrcode.QRCode:
    if not url:
        raise ValueError("empty URL: nothing to encode")
    qr = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=QUIET_ZONE, **kwargs)
    # Exactly as given: upper-casing the URL for the compact alphanumeric mode
    # would also turn "/s/" into "/S/", which the server does not route.
    qr.add_data(url)
    qr.make(fit=True)
    return qr


@lru_cache(maxsize=4096)
def matrix(url: str) -> tuple[tuple[bool, ...], ...]:
    """Dark modules row by row, quiet zone included (cached: posters repeat URLs)."""
    return tuple(tuple(row) for row in _build(url).get_matrix())


@lru_cache(maxsize=4096)
def _fill_ops(url: str) -> str:
    """PDF operators filling the dark modules, in module units (row 0 at top).

    One rectangle per horizontal run of dark modules, all in a single path:
    touching rectangles are filled as one shape, so renderers leave no hairline
    seams. Cached as text because formatting ~300 rectangles through
    reportlab's path API costs more than the rest of a poster page.
    """
    ops = []
    for r, row in enumerate(matrix(url)):
        start = None
        for col, dark in enumerate((*row, False)):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                ops.append(f"{start} {r} {col - start} 1 re")
                start = None
    ops.append("f")
    return "\n".join(ops)


def clear_cache() -> None:
    matrix.cache_clear()
    _fill_ops.cache_clear()


def symbol_side(url: str, side: float) -> float:
    """Side of the symbol itself (quiet zone excluded) when drawn ``side`` wide."""
    n = len(matrix(url))
    return side * (n - 2 * QUIET_ZONE) / n


def draw_qr(c: Canvas, url: str, x: float, y: float, side: float) -> None:
    """Draw the QR code, quiet zone included, in the square at (x, y) of ``side``."""
    n = len(matrix(url))
    c.saveState()
    # Work in module units with rows going down, as in the matrix.
    c.translate(x, y + side)
    c.scale(side / n, -side / n)
    c.setFillColor(white)
    c.rect(0, 0, n, n, stroke=0, fill=1)
    c.setFillColor(black)
    c.addLiteral(_fill_ops(url))
    c.restoreState()


def qr_png(url: str, box_size: int = 10) -> bytes:
    """PNG of the QR code alone, ``box_size`` pixels per module."""
    img = _build(url, box_size=box_size).make_image(image_factory=PilImage)
    buf = io.BytesIO()
    img.save(buf)
    return buf.getvalue()


def qr_svg(url: str, box_size: int = 10) -> str:
    """SVG of the QR code alone (one path on a white square; 10 = 1 mm a module)."""
    img = _build(url, box_size=box_size).make_image(image_factory=SvgPathFillImage)
    return img.to_string(encoding="unicode")
