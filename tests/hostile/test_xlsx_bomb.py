"""Volume workbooks are checked from their zip directory before openpyxl opens them.

An 80 KiB upload whose shared strings unpack to 32 MiB used to cost 12-24 s
of a worker's CPU (160 KiB got the worker killed); a 4 KiB sheet claiming
A1:XFD50001 as its dimension made every row 16,384 cells wide (gigabytes).
"""

from __future__ import annotations

import io
import struct
import time
import zipfile
from datetime import date

import openpyxl
from click.testing import CliRunner
from sqlalchemy import func, select

from survey.cli import cli
from survey.models import AuditEvent, Volume
from survey.models.planning import VolumeUpload
from survey.services import volumes
from survey.services.demo import demo_code
from tests.support import TEST_SECRET

TODAY = date(2026, 11, 22)
CR1 = demo_code("cr-1")
MIB = 1024 * 1024
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHARED = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SHEET = "xl/worksheets/sheet1.xml"


def _workbook(rows=(("desk", "month", "count"), (CR1, "2026-01", 7))) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rezip(data: bytes, replace: dict[str, bytes] | None = None, add=None, types="") -> bytes:
    """The workbook with parts replaced or added, and Overrides added to its content types."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for info in src.infolist():
            body = (replace or {}).get(info.filename, src.read(info.filename))
            if info.filename == "[Content_Types].xml" and types:
                body = body.replace(b"</Types>", types.encode() + b"</Types>")
            z.writestr(info.filename, body)
        for name, body in (add or {}).items():
            z.writestr(name, body)
    return out.getvalue()


def _shared_strings(size: int, item: bytes = b"<si><t>a</t></si>") -> bytes:
    head = f'<?xml version="1.0"?><sst xmlns="{MAIN}">'.encode()
    return head + item * (size // len(item)) + b"</sst>"


def _override(part: str, content_type: str) -> str:
    return f'<Override PartName="/{part}" ContentType="{content_type}"/>'


def shared_strings_bomb(unpacked: int = 32 * MIB) -> bytes:
    """The attack of the issue: tiny shared strings, parsed whole before the first row."""
    return _rezip(
        _workbook(),
        add={"xl/sharedStrings.xml": _shared_strings(unpacked)},
        types=_override("xl/sharedStrings.xml", SHARED),
    )


def _staged(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(VolumeUpload))


def _written(db) -> tuple[int, int, int]:
    """(volumes, sum of counts, volume.import audit events)."""
    with db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Volume)),
            s.scalar(select(func.sum(Volume.count))),
            s.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "volume.import")
            ),
        )


def _upload(client, data: bytes, name="so-lieu.xlsx"):
    return client.post("/staff/volumes", data={"file": (io.BytesIO(data), name)}, buffered=True)


def _cli(url, path):
    env = {"SURVEY_DATABASE_URL": url, "SURVEY_SECRET_KEY": TEST_SECRET, "SURVEY_ENV": "testing"}
    return CliRunner().invoke(
        cli, ["volumes", "import", str(path)], env=env, catch_exceptions=False
    )


def _codes(data: bytes) -> list[str]:
    return [i.code for i in volumes.parse(data, TODAY).issues]


# --- the decompression bomb ---------------------------------------------------------
def test_shared_strings_bomb_is_refused_in_under_a_second(
    demo_client,
    demo_db,
    world,
    nocsrf,
    sign_in_as,
):
    bomb = shared_strings_bomb()
    assert len(bomb) < 200 * 1024  # small upload, 32 MiB unpacked
    sign_in_as("unit_manager")
    before = _written(demo_db)
    started = time.perf_counter()
    resp = _upload(demo_client, bomb)
    elapsed = time.perf_counter() - started
    assert resp.status_code == 422
    assert (
        f"Tệp XLSX khi giải nén quá lớn (tối đa {volumes.MAX_XLSX_UNPACKED // MIB} MiB)"
        in resp.get_data(as_text=True)
    )
    assert elapsed < 1.0, f"refusal took {elapsed:.2f} s"
    assert _staged(demo_db) == 0 and _written(demo_db) == before


def test_bomb_is_refused_by_the_cli_without_writing(demo_db_url, demo_db, tmp_path):
    path = tmp_path / "bom.xlsx"
    path.write_bytes(shared_strings_bomb())
    before = _written(demo_db)
    started = time.perf_counter()
    assert _codes(path.read_bytes()) == ["xlsx_too_large"]
    assert time.perf_counter() - started < 1.0
    result = _cli(demo_db_url, path)
    assert result.exit_code == 2
    assert (
        f"The XLSX file is too large when unpacked (at most {volumes.MAX_XLSX_UNPACKED // MIB} MiB)"
        in result.stderr
    )
    assert "nothing imported" in result.stderr
    assert _written(demo_db) == before


def test_highly_compressed_part_is_refused():
    # 3 MiB of blanks in the sheet: within the total, but 1000 to 1.
    sheet = zipfile.ZipFile(io.BytesIO(_workbook())).read(SHEET)
    padded = sheet.replace(b"<sheetData>", b"<!--" + b" " * 3 * MIB + b"--><sheetData>")
    assert _codes(_rezip(_workbook(), replace={SHEET: padded})) == ["xlsx_too_large"]


def test_oversized_shared_strings_are_refused_even_when_they_compress_poorly():
    # 2 MiB of distinct strings (ratio about 4): parsed whole before the first row.
    items = b"".join(b"<si><t>%07d</t></si>" % (i * 7919 % 10**7) for i in range(100_000))
    data = _rezip(
        _workbook(),
        add={"xl/sharedStrings.xml": f'<sst xmlns="{MAIN}">'.encode() + items + b"</sst>"},
        types=_override("xl/sharedStrings.xml", SHARED),
    )
    assert _codes(data) == ["xlsx_too_large"]


def test_a_part_cannot_pass_as_a_worksheet_and_be_read_as_shared_strings():
    items = b"".join(b"<si><t>%06d</t></si>" % i for i in range(120_000))
    big = f'<sst xmlns="{MAIN}">'.encode() + items + b"</sst>"
    assert len(big) > volumes.MAX_XLSX_PART
    worksheet = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    data = _rezip(
        _workbook(),
        add={"xl/worksheets/sheet9.xml": big},
        types=_override("xl/worksheets/sheet9.xml", worksheet)
        + _override("xl/worksheets/sheet9.xml", SHARED),
    )
    assert _codes(data) == ["xlsx_too_large"]


def test_rows_are_cut_at_max_columns_whatever_the_dimension_claims():
    sheet = (
        f'<?xml version="1.0"?><worksheet xmlns="{MAIN}"><dimension ref="A1:XFD1000"/>'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>desk</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>month</t></is></c>'
        '<c r="C1" t="inlineStr"><is><t>count</t></is></c></row>'
        f'<row r="2"><c r="A2" t="inlineStr"><is><t>{CR1}</t></is></c>'
        '<c r="B2" t="inlineStr"><is><t>2026-01</t></is></c><c r="C2"><v>7</v></c></row>'
        '<row r="1000"><c r="XFD1000"><v>1</v></c></row></sheetData></worksheet>'
    ).encode()
    data = _rezip(_workbook(), replace={SHEET: sheet})
    assert len(data) < 8 * 1024
    cells, issues = volumes.read_cells(data)
    assert issues == [] and len(cells) == 1000
    assert max(len(row) for _n, row in cells) <= volumes.MAX_COLUMNS
    parsed = volumes.parse(data, TODAY)
    assert parsed.issues == [] and parsed.rows == [
        {"row": 2, "desk": CR1, "month": "2026-01", "count": 7}
    ]


def test_an_honest_workbook_of_max_rows_passes_the_archive_check():
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["desk", "month", "count"])
    for i in range(volumes.MAX_ROWS):
        sheet.append([f"D{i:07d}", f"2026-{i % 12 + 1:02d}", 1_000_000 + i])
    out = io.BytesIO()
    book.save(out)
    assert volumes.check_xlsx_archive(out.getvalue()) is None


# --- files that are not workbooks ------------------------------------------------------
def _zip_encrypted(data: bytes) -> bytes:
    """Set the "encrypted" flag of every entry, as a password-protecting zip tool does."""
    raw = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = raw.find(signature)
        while start != -1:
            (flags,) = struct.unpack_from("<H", raw, start + offset)
            struct.pack_into("<H", raw, start + offset, flags | 0x1)
            start = raw.find(signature, start + 4)
    return bytes(raw)


def _plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("ghi-chu.txt", "không phải bảng tính")
    return out.getvalue()


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504  # a .xls or an encrypted .xlsx
CASES = [
    (
        "ole2",
        OLE2,
        "bảng tính Excel 97–2003 (.xls) hoặc bảng tính có đặt mật khẩu",
        "Excel 97–2003 workbook (.xls) or a password-protected workbook",
    ),
    (
        "encrypted zip",
        _zip_encrypted(_workbook()),
        "Tệp XLSX có đặt mật khẩu",
        "The XLSX file is password-protected",
    ),
    (
        "truncated zip",
        _workbook()[:1500],
        "Không đọc được tệp",
        "The file cannot be read",
    ),
    ("zip without a workbook", _plain_zip(), "Không đọc được tệp", "The file cannot be read"),
]


def test_files_that_are_not_workbooks_get_a_clear_error(
    demo_client,
    demo_db,
    demo_db_url,
    world,
    nocsrf,
    tmp_path,
    sign_in_as,
):
    sign_in_as("unit_manager")
    before = _written(demo_db)
    for name, data, web, english in CASES:
        resp = _upload(demo_client, data)
        assert resp.status_code == 422, name
        assert web in resp.get_data(as_text=True), name
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(data)
        result = _cli(demo_db_url, path)
        assert result.exit_code == 2, name
        assert english in result.stderr and "nothing imported" in result.stderr, name
    assert _staged(demo_db) == 0 and _written(demo_db) == before
