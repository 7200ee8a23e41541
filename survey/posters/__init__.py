"""QR posters for desks: A4 wall posters, A5 table tents, A6 sticker sheets.

Rendering (``render_posters``, ``qr_png``, ``qr_svg``) is a pure function of
plain data; only ``posters_for_unit`` reads the database.
"""

from survey.posters.model import SIZES, PosterDesk, PosterError
from survey.posters.qr import qr_png, qr_svg
from survey.posters.render import render_posters
from survey.posters.service import posters_for_unit

__all__ = [
    "SIZES",
    "PosterDesk",
    "PosterError",
    "posters_for_unit",
    "qr_png",
    "qr_svg",
    "render_posters",
]
