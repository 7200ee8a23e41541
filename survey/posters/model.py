"""Plain data shared by the poster service and the renderer."""

from __future__ import annotations

from dataclasses import dataclass

# a4: wall poster, one desk per A4 page.
# a5: table tent, one desk per A4 sheet folded in half (two A5 faces).
# a6: stickers, four A6 desks per A4 sheet.
SIZES = ("a4", "a5", "a6")


class PosterError(ValueError):
    """Bad poster request (unknown unit or desk, nothing to print...)."""


@dataclass(frozen=True)
class PosterDesk:
    unit_name: str
    desk_name: str
    url: str  # exactly what the QR code encodes
    code: str
