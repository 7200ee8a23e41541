"""`survey posters`: print QR posters (PDF) or a desk's QR code alone (PNG/SVG)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from survey.cli.common import fail, output_option, refused, transaction
from survey.config import settings
from survey.files import write_atomically


@click.command("posters")
@click.option("--unit", "unit_code", required=True, help="Unit code: its whole subtree is printed.")
@click.option("--desk", "desk_code", help="Only this desk (must belong to the unit's subtree).")
@click.option(
    "--size",
    type=click.Choice(["a4", "a5", "a6"]),
    default="a4",
    show_default=True,
    help="a4 wall poster; a5 table tent (A4 folded in half); a6 four stickers per A4.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pdf", "png", "svg"]),
    default="pdf",
    show_default=True,
    help="png/svg: the QR code alone, for one desk (--desk).",
)
@output_option
@with_appcontext
def posters(unit_code: str, desk_code: str | None, size: str, fmt: str, output: Path) -> None:
    """QR posters of the active desks of a unit, or one desk's QR code."""
    from survey.posters import PosterError, posters_for_unit, qr_png, qr_svg, render_posters

    if fmt != "pdf" and desk_code is None:
        fail(f"--format {fmt} makes one QR image: give --desk CODE")
    if not output.parent.is_dir():
        fail(f"output directory {str(output.parent)!r} does not exist")
    with transaction() as session, refused(PosterError):
        desks = posters_for_unit(session, settings().BASE_URL, unit_code, desk_code)
    if fmt == "png":
        # 20 px a module: about 300 dpi when printed 7 cm wide.
        data = qr_png(desks[0].url, box_size=20)
    elif fmt == "svg":
        data = qr_svg(desks[0].url).encode()
    else:
        data = render_posters(desks, size)
    try:
        write_atomically(output, data)
    except OSError as exc:
        fail(f"cannot write {str(output)!r}: {exc.strerror}")
    what = f"{len(desks)} {size} poster(s)" if fmt == "pdf" else f"QR code of {desks[0].code}"
    click.echo(f"wrote {what} to {output}")
