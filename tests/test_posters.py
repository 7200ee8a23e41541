"""QR posters: every printed QR code scans to exactly the right survey URL.

PDFs are rasterised with poppler (pdftoppm) and decoded with zbar (zbarimg),
as a phone would see them; sizes are measured on the rendered pages.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw
from sqlalchemy import select

from survey.cli import cli
from survey.models import Desk, Unit
from survey.posters import PosterDesk, PosterError, posters_for_unit, qr_png, qr_svg, texts
from survey.posters.fonts import BOLD, REGULAR, missing_glyphs
from survey.posters.qr import QUIET_ZONE, matrix, symbol_side
from survey.posters.render import MIN_SYMBOL, STYLES, render_posters
from survey.services import units
from survey.services.demo import DESKS, UNITS
from survey.services.desks import list_desks
from tests.support import TEST_SECRET

BASE = "https://khaosat.example.gov.vn"
DPI = 150
ZBAR_NS = "{http://zbar.sourceforge.net/2008/barcode}"

TOOLS = ("pdftoppm", "zbarimg", "pdffonts", "pdftotext")
pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS),
    reason="needs poppler-utils (pdftoppm, pdffonts, pdftotext) and zbar-tools (zbarimg)",
)


# --- helpers ------------------------------------------------------------------
def rasterise(pdf: bytes, tmp_path: Path) -> list[Image.Image]:
    """Grey pages at DPI (PGM: PNG encoding would take most of the test's time)."""
    src = tmp_path / "in.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", src, tmp_path / "p"], check=True)
    # Zero-padded page numbers sort in page order.
    return [Image.open(p) for p in sorted(tmp_path.glob("p-*.pgm"))]


def cells(page: Image.Image, size: str) -> list[Image.Image]:
    """The page's poster faces: a4 whole, a5 two halves, a6 four quarters (row by row).

    Each face is scanned on its own, as a phone does; zbar can miss one of
    several codes in a single large image.
    """
    w, h = page.size
    boxes = {
        "a4": [(0, 0, w, h)],
        "a5": [(0, 0, w, h // 2), (0, h // 2, w, h)],
        "a6": [(x, y, x + w // 2, y + h // 2) for y in (0, h // 2) for x in (0, w // 2)],
    }[size]
    return [page.crop(box) for box in boxes]


def scan(images: list[Image.Image], tmp_path: Path) -> list[list[tuple[str, str]]]:
    """(data, orientation) of the QR codes found in each image, in one zbarimg run."""
    paths = []
    for i, image in enumerate(images):
        paths.append(tmp_path / f"scan-{i:03}.pgm")
        image.save(paths[-1])
    only_qr = ["-Sdisable", "-Sqrcode.enable"]
    run = subprocess.run(
        ["zbarimg", "--xml", "-q", *only_qr, *paths], capture_output=True, text=True
    )
    found = {
        Path(source.get("href")).name: [
            (sym.find(f"{ZBAR_NS}data").text, sym.get("orientation"))
            for sym in source.iter(f"{ZBAR_NS}symbol")
        ]
        for source in ET.fromstring(run.stdout).iter(f"{ZBAR_NS}source")
    }
    return [found.get(p.name, []) for p in paths]


def scan_faces(pdf: bytes, size: str, tmp_path: Path) -> tuple[list, list[Image.Image]]:
    faces = [face for page in rasterise(pdf, tmp_path) for face in cells(page, size)]
    return scan(faces, tmp_path), faces


def symbol_cm(face: Image.Image) -> float:
    """Side of the QR symbol on a poster face, in cm.

    Only the QR modules are pure black (text is 90 % ink, the title blue), so
    the bounding box of black pixels is the symbol without its quiet zone.
    """
    bbox = face.point(lambda v: 255 if v < 10 else 0).getbbox()
    assert bbox is not None, "no QR code on this face"
    width, height = bbox[2] - bbox[0], bbox[3] - bbox[1]
    assert abs(width - height) <= 2
    return width / DPI * 2.54


def expected_urls(session, unit_code: str) -> list[str]:
    """Active desks of the subtree, by unit code then desk name (the print order)."""
    ids = units.subtree_ids(session, units.by_code(session, unit_code).id)
    rows = [r for r in list_desks(session, BASE, ids) if r["active"]]
    rows.sort(key=lambda r: (r["unit"], r["name"], r["code"]))
    return [r["url"] for r in rows]


def desk_code(session, unit_code: str) -> str:
    return session.scalar(
        select(Desk.code).join(Unit).where(Unit.code == unit_code, Desk.active.is_(True))
    )


def sample(n: int = 2, **names) -> list[PosterDesk]:
    unit = names.get("unit", "Phường Cam Ranh")
    desk = names.get("desk", "Quầy 1 – Hộ tịch")
    return [PosterDesk(unit, desk, f"{BASE}/s/ABCD234{i}", f"ABCD234{i}") for i in range(n)]


# --- the three sizes, checked by scanning ---------------------------------------
def test_a4_one_scannable_poster_per_active_desk(demo_db, tmp_path):
    with demo_db.session() as s:
        desks = posters_for_unit(s, BASE, "KH-NHATRANG")
        expected = expected_urls(s, "KH-NHATRANG")
        inactive = s.scalar(select(Desk.code).where(Desk.active.is_(False)))
    assert len(expected) == 2 and all(inactive not in url for url in expected)
    found, faces = scan_faces(render_posters(desks, "a4"), "a4", tmp_path)
    assert [[data for data, _ in face] for face in found] == [[url] for url in expected]
    assert all(symbol_cm(face) >= 10.0 for face in faces)


def test_a5_tent_has_the_code_on_both_faces(demo_db, tmp_path):
    with demo_db.session() as s:
        desks = posters_for_unit(s, BASE, "KH-CAMRANH")
        expected = expected_urls(s, "KH-CAMRANH")
    assert len(expected) == 3
    found, faces = scan_faces(render_posters(desks, "a5"), "a5", tmp_path)
    # Upper face upside down on the sheet, so that both read upright once folded.
    assert found == [[(url, o)] for url in expected for o in ("DOWN", "UP")]
    assert all(symbol_cm(face) >= 6.0 for face in faces)


def test_a6_sheets_hold_four_stickers_in_order(demo_db, tmp_path):
    with demo_db.session() as s:
        desks = posters_for_unit(s, BASE, "KH")
        expected = expected_urls(s, "KH")
    assert len(expected) == 14  # 15 demo desks, one inactive: pages of 4, 4, 4, 2
    found, faces = scan_faces(render_posters(desks, "a6"), "a6", tmp_path)
    assert len(found) == 16  # four pages
    assert [[data for data, _ in face] for face in found] == [[url] for url in expected] + [[], []]
    assert all(symbol_cm(face) >= 4.5 for face in faces[:14])


def test_long_names_shrink_or_are_cut_but_the_code_still_scans(tmp_path):
    long = "Trung tâm Phục vụ hành chính công " * 8
    desks = sample(4, unit=long, desk="Quầy " + "Đất đai, xây dựng, " * 10)
    for size, copies in (("a4", 1), ("a5", 2), ("a6", 1)):  # a tent carries it twice
        out = tmp_path / size
        out.mkdir()
        found, _ = scan_faces(render_posters(desks[:1], size), size, out)
        assert [data for face in found for data, _ in face] == [desks[0].url] * copies


@pytest.mark.parametrize("size", ["a4", "a5", "a6"])
def test_qr_symbol_is_big_enough_whatever_the_url_length(size):
    for n in (1, 10, 30, 60, 120):
        url = f"https://{'k' * n}.gov.vn/s/ABCD2345"
        assert symbol_side(url, STYLES[size].qr) >= MIN_SYMBOL[size]


# --- fonts and text -------------------------------------------------------------
def test_dejavu_is_embedded_and_the_text_is_vietnamese(tmp_path):
    pdf = tmp_path / "p.pdf"
    pdf.write_bytes(render_posters(sample(1), "a4"))
    fonts = subprocess.run(["pdffonts", pdf], capture_output=True, text=True, check=True)
    rows = [line.split() for line in fonts.stdout.splitlines()[2:]]
    assert {row[0].split("+")[-1] for row in rows} == {REGULAR, BOLD}
    assert all(row[-5] == "yes" for row in rows)  # the "emb" column: nothing left out
    assert b"/FontFile2" in pdf.read_bytes()
    text = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True, check=True)
    for line in (texts.TITLE, *texts.STEPS, texts.PRIVACY, "Phường Cam Ranh", "Quầy 1 – Hộ tịch"):
        assert line in text.stdout
    assert "khaosat.example.gov.vn/s/ABCD2340" in text.stdout


def test_fonts_cover_every_letter_printed():
    names = [u[1] for u in UNITS] + [d.name for d in DESKS]
    everything = " ".join([texts.TITLE, *texts.STEPS, texts.PRIVACY, *names, "…–"])
    vietnamese = "ăâđêôơưĂÂĐÊÔƠƯáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
    for font in (REGULAR, BOLD):
        assert missing_glyphs(everything + vietnamese + vietnamese.upper(), font) == set()


def test_decomposed_names_print_like_precomposed_ones():
    import unicodedata

    nfd = sample(1, desk=unicodedata.normalize("NFD", "Quầy Hộ tịch"))
    assert render_posters(nfd, "a4") == render_posters(sample(1, desk="Quầy Hộ tịch"), "a4")


def test_rendering_is_deterministic_and_validates_input():
    assert render_posters(sample(5), "a6") == render_posters(sample(5), "a6")
    with pytest.raises(ValueError, match="a3"):
        render_posters(sample(1), "a3")
    with pytest.raises(PosterError, match="no desks"):
        render_posters([], "a4")


# --- the QR code alone ----------------------------------------------------------
def test_qr_png_scans_and_keeps_its_quiet_zone(tmp_path):
    url = f"{BASE}/s/ABCD2345"
    path = tmp_path / "qr.png"
    path.write_bytes(qr_png(url, box_size=8))
    image = Image.open(path)
    n = len(matrix(url))
    assert image.size == (n * 8, n * 8)
    bbox = image.convert("L").point(lambda v: 255 if v < 128 else 0).getbbox()
    assert bbox[:2] == (QUIET_ZONE * 8, QUIET_ZONE * 8)
    run = subprocess.run(["zbarimg", "--raw", "-q", path], capture_output=True, text=True)
    assert run.stdout.strip() == url


def test_qr_svg_is_xml_holding_the_same_symbol(tmp_path):
    url = f"{BASE}/s/ABCD2345"
    root = ET.fromstring(qr_svg(url))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    n = len(matrix(url))
    assert root.get("viewBox") == f"0 0 {n} {n}"
    assert root.find("{http://www.w3.org/2000/svg}rect").get("fill") == "white"
    d = root.find("{http://www.w3.org/2000/svg}path").get("d")
    cells = {(int(x), int(y)) for x, y in re.findall(r"M(\d+),(\d+)H", d)}
    assert cells == {
        (x, y) for y, row in enumerate(matrix(url)) for x, dark in enumerate(row) if dark
    }
    # Rasterise the path's squares and scan them, as a print shop's RIP would.
    image = Image.new("L", (n * 10, n * 10), 255)
    draw = ImageDraw.Draw(image)
    for x, y in cells:
        draw.rectangle((x * 10, y * 10, x * 10 + 9, y * 10 + 9), fill=0)
    image.save(tmp_path / "svg.png")
    run = subprocess.run(["zbarimg", "--raw", "-q", tmp_path / "svg.png"], capture_output=True)
    assert run.stdout.decode().strip() == url


# --- which desks ----------------------------------------------------------------
def test_desk_selection_and_its_errors(demo_db):
    with demo_db.session() as s:
        own = desk_code(s, "KH-CAMRANH")
        other = desk_code(s, "KH-CAMLAM")
        inactive = s.scalar(select(Desk.code).where(Desk.active.is_(False)))
        province = s.scalar(select(Unit.id).where(Unit.code == "KH"))
        s.add(Unit(code="KH-EMPTY", name="Xã Trống", kind="commune", parent_id=province))
    with demo_db.session() as s:
        [one] = posters_for_unit(s, BASE, "KH-CAMRANH", own.lower())
        assert (one.code, one.url, one.unit_name) == (own, f"{BASE}/s/{own}", "Phường Cam Ranh")
        for unit, desk, message in [
            ("NOPE", None, "unknown unit code 'NOPE'"),
            ("KH-CAMRANH", other, f"desk '{other}' belongs to unit 'KH-CAMLAM'"),
            ("KH-CAMRANH", "ZZZZ2222", "unknown desk code 'ZZZZ2222'"),
            ("KH", inactive, f"desk '{inactive}' is inactive"),
            ("KH-EMPTY", None, "unit 'KH-EMPTY' has no active desks"),
        ]:
            with pytest.raises(PosterError, match=re.escape(message)):
                posters_for_unit(s, BASE, unit, desk)
    assert issubclass(PosterError, ValueError)


# --- command line ---------------------------------------------------------------
def run_cli(url: str, *args: str):
    env = {
        "SURVEY_DATABASE_URL": url,
        "SURVEY_SECRET_KEY": TEST_SECRET,
        "SURVEY_ENV": "testing",
        "SURVEY_BASE_URL": BASE + "/",
    }
    return CliRunner().invoke(cli, ["posters", *args], env=env, catch_exceptions=False)


def test_cli_writes_pdf_png_and_svg(demo_db_url, demo_db, tmp_path):
    with demo_db.session() as s:
        code = desk_code(s, "KH-DIENKHANH")
    pdf = tmp_path / "posters.pdf"
    result = run_cli(demo_db_url, "--unit", "KH-DIENKHANH", "--size", "a6", "-o", str(pdf))
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF") and "1 a6 poster" in result.output
    png = tmp_path / "qr.png"
    args = ("--unit", "KH-DIENKHANH", "--desk", code, "--format")
    assert run_cli(demo_db_url, *args, "png", "-o", str(png)).exit_code == 0
    run = subprocess.run(["zbarimg", "--raw", "-q", png], capture_output=True, text=True)
    assert run.stdout.strip() == f"{BASE}/s/{code}"  # the configured base, slash trimmed
    svg = tmp_path / "qr.svg"
    assert run_cli(demo_db_url, *args, "svg", "-o", str(svg)).exit_code == 0
    assert ET.parse(svg).getroot().tag.endswith("svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posters.pdf", "qr.png", "qr.svg"]


def test_cli_errors_exit_2_and_write_nothing(demo_db_url, demo_db, tmp_path):
    with demo_db.session() as s:
        other = desk_code(s, "KH-CAMLAM")
    out = tmp_path / "out.pdf"
    cases = [
        (["--unit", "NOPE"], "NOPE"),
        (["--unit", "KH-CAMRANH", "--desk", other], other),
        (["--unit", "KH-CAMRANH", "--format", "png"], "--desk"),
        (["--unit", "KH-CAMRANH", "--size", "a3"], "a3"),
    ]
    for args, needle in cases:
        result = run_cli(demo_db_url, *args, "-o", str(out))
        assert result.exit_code == 2, (args, result.output)
        assert needle in result.stderr
        assert list(tmp_path.iterdir()) == []
    missing = tmp_path / "no-such-dir" / "out.pdf"
    result = run_cli(demo_db_url, "--unit", "KH", "-o", str(missing))
    assert result.exit_code == 2 and "does not exist" in result.stderr
    assert list(tmp_path.iterdir()) == []
