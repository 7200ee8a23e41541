"""Tiny vertical layout: measured blocks stacked in a box, spare space shared out.

Blocks are measured before drawing, so a long unit or desk name shrinks (and,
at worst, is cut with an ellipsis) instead of running into the QR code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reportlab.lib.colors import Color
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from survey.posters.qr import draw_qr

INK = Color(0.1, 0.1, 0.1)
LEADING = 1.22  # line height / font size
ELLIPSIS = "…"


def _clip(line: str, font: str, size: float, width: float) -> str:
    if stringWidth(line, font, size) <= width:
        return line
    while line and stringWidth(line + ELLIPSIS, font, size) > width:
        line = line[:-1]
    return line.rstrip() + ELLIPSIS


def fit_lines(
    text: str, font: str, size: float, width: float, max_lines: int, min_size: float
) -> tuple[list[str], float]:
    """Wrap ``text`` into at most ``max_lines`` lines, shrinking the font down to
    ``min_size`` if needed; if it still does not fit, cut it with an ellipsis."""
    while True:
        lines = simpleSplit(text, font, size, width) or [""]
        fits = len(lines) <= max_lines and all(stringWidth(x, font, size) <= width for x in lines)
        if fits or size <= min_size:
            break
        size = max(min_size, size * 0.93)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] += ELLIPSIS  # forces the clip below to mark the cut
    return [_clip(x, font, size, width) for x in lines], size


@dataclass
class Text:
    """Lines of one font, centred (or left-aligned as a centred block)."""

    lines: list[str]
    font: str
    size: float
    color: Color = INK
    centred: bool = True

    @property
    def height(self) -> float:
        return len(self.lines) * self.size * LEADING

    def draw(self, c: Canvas, x: float, top: float, width: float) -> None:
        c.setFont(self.font, self.size)
        c.setFillColor(self.color)
        lead = self.size * LEADING
        for i, line in enumerate(self.lines):
            # Baseline leaves room for Vietnamese stacked marks above (Ấ, Ở...).
            y = top - (i + 1) * lead + 0.28 * self.size
            if self.centred:
                c.drawCentredString(x + width / 2, y, line)
            else:
                c.drawString(x, y, line)


@dataclass
class Steps:
    """Numbered steps with a hanging indent, the whole list centred in its box."""

    items: list[tuple[str, list[str]]]  # (number label, wrapped lines)
    font: str
    size: float
    indent: float
    color: Color = INK

    @classmethod
    def fit(cls, steps: list[str], font: str, size: float, width: float) -> Steps:
        indent = stringWidth("0. ", font, size)
        items = []
        for step in steps:
            label, _, body = step.partition(" ")
            items.append((label, simpleSplit(body, font, size, width - indent)))
        return cls(items, font, size, indent)

    @property
    def height(self) -> float:
        return sum(len(lines) for _, lines in self.items) * self.size * LEADING

    def draw(self, c: Canvas, x: float, top: float, width: float) -> None:
        c.setFont(self.font, self.size)
        c.setFillColor(self.color)
        text_width = max(
            stringWidth(line, self.font, self.size) for _, ls in self.items for line in ls
        )
        left = x + max(0.0, (width - self.indent - text_width) / 2)
        lead = self.size * LEADING
        row = 0
        for label, lines in self.items:
            for j, line in enumerate(lines):
                y = top - (row + 1) * lead + 0.28 * self.size
                if j == 0:
                    c.drawString(left, y, label)
                c.drawString(left + self.indent, y, line)
                row += 1


@dataclass
class QR:
    url: str
    side: float  # quiet zone included

    @property
    def height(self) -> float:
        return self.side

    def draw(self, c: Canvas, x: float, top: float, width: float) -> None:
        draw_qr(c, self.url, x + (width - self.side) / 2, top - self.side, self.side)


@dataclass
class Space:
    """Flexible gap: at least ``minimum``, plus a ``weight`` share of spare room."""

    minimum: float = 0.0
    weight: float = 1.0
    extra: float = field(default=0.0, init=False)

    @property
    def height(self) -> float:
        return self.minimum + self.extra

    def draw(self, c: Canvas, x: float, top: float, width: float) -> None:
        pass


def stack(c: Canvas, blocks: list, x: float, top: float, width: float, height: float) -> float:
    """Draw blocks top-down in the box; returns the unused height (negative: overflow)."""
    spaces = [b for b in blocks if isinstance(b, Space)]
    spare = height - sum(b.height for b in blocks)
    weights = sum(s.weight for s in spaces)
    for s in spaces:
        s.extra = max(0.0, spare) * s.weight / weights if weights else 0.0
    for block in blocks:
        block.draw(c, x, top, width)
        top -= block.height
    return spare
