"""Reading an uploaded volumes file: CSV or XLSX bytes -> numbered rows of cells.

An XLSX file is judged from its zip directory before openpyxl opens it
(``check_xlsx_archive``): its cost is what it unpacks to, not its size.
Problems are ``Issue`` values with ``row`` None (the file itself).
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

# Uploads may be larger than the site-wide request limit (a year of a
# province's desks); the row cap bounds the work for XLSX too.
MAX_UPLOAD_BYTES = 4 * 1024 * 1024
MAX_ROWS = 50_000
_XLSX_MAGIC = b"PK\x03\x04"
# An XLSX file is a zip of XML parts: reading costs what the parts unpack to
# (about 0.3 s a MiB), not what was uploaded (80 KiB of shared strings can
# unpack to 32 MiB and take 20 s).  So the zip directory is checked before
# openpyxl opens anything.  10 MiB admits MAX_ROWS rows of desk,month,count
# as openpyxl writes them (8.1 MiB with 7-digit counts; Excel's are smaller);
# worksheets are streamed, but every other part (shared strings, styles...)
# is parsed whole before the first row, at about 15 µs a string, hence its
# own bound.
MAX_XLSX_UNPACKED = 10 * 1024 * 1024
MAX_XLSX_PART = 1024 * 1024  # any part but a worksheet
MAX_XLSX_RATIO = 100  # unpacked / packed, for parts above _RATIO_FROM
MAX_XLSX_PARTS = 256  # an honest workbook has about ten
MAX_COLUMNS = 64  # cells further right are not read
_RATIO_FROM = 256 * 1024
_CONTENT_TYPES = "[Content_Types].xml"
_WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
# Compound File (OLE2): an Excel 97-2003 .xls, or any password-protected workbook.
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class Issue:
    """One problem: ``row`` as numbered in the spreadsheet (header = its row), None for the file."""

    row: int | None
    column: str | None
    code: str
    value: str = ""
    other_row: int | None = None


def display_name(filename: str | None) -> str:
    """The client's file name made safe to show: no folders, no control characters.

    It is only ever displayed and audited; uploads are read in memory and
    never written to disk under any name.
    """
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    return name.strip()[:200]


# --- reading ------------------------------------------------------------------
def _read_csv(data: bytes) -> tuple[list[tuple[int, list[Any]]], list[Issue]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [Issue(None, None, "encoding")]
    # The separator most used in the first lines: a report title above the headers may
    # hold a comma of its own, and vi-VN exports separate with ";".
    head = "\n".join(text.split("\n", 5)[:5])
    delimiter = max((";", ",", "\t"), key=lambda d: (head.count(d), d == ","))
    rows: list[tuple[int, list[Any]]] = []
    try:
        for n, cells in enumerate(
            csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), 1
        ):
            if n > MAX_ROWS + 1:
                return [], [Issue(None, None, "too_many_rows")]
            rows.append((n, cells))
    except csv.Error:
        return [], [Issue(None, None, "unreadable")]
    return rows, []


def _streamed_parts(archive: zipfile.ZipFile) -> set[str] | None:
    """Parts openpyxl streams (worksheets) rather than parsing whole; None if unusable.

    Taken from [Content_Types].xml, where openpyxl finds the shared strings
    too: a part declared both as a worksheet and as anything else counts as
    parsed whole, so nothing can pass as a worksheet here and be read whole there.
    """
    try:
        info = archive.getinfo(_CONTENT_TYPES)
        if info.file_size > MAX_XLSX_PART:
            return None
        root = ElementTree.fromstring(archive.read(info))
    except Exception:  # untrusted: missing, corrupt, an unsupported compression method...
        return None
    overrides: dict[str, set[str]] = {}
    defaults: dict[str, set[str]] = {}
    for el in root:
        if el.tag.endswith("}Override"):
            # openpyxl opens PartName[1:] ("/xl/x.xml" -> "xl/x.xml"): the same here.
            name = (el.get("PartName") or "")[1:]
            overrides.setdefault(name, set()).add(el.get("ContentType") or "")
        elif el.tag.endswith("}Default"):
            extension = (el.get("Extension") or "").lower()
            defaults.setdefault(extension, set()).add(el.get("ContentType") or "")
    streamed = set()
    for name in archive.namelist():
        found = overrides.get(name) or defaults.get(name.rpartition(".")[2].lower(), set())
        if found == {_WORKSHEET_TYPE}:
            streamed.add(name)
    return streamed


def check_xlsx_archive(data: bytes) -> str | None:
    """An issue code if the workbook must not be opened, from its zip directory alone.

    The sizes are the directory's; zipfile never inflates a part beyond its
    declared size (it fails on the checksum instead), so they bound the work.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # untrusted: not a zip, truncated, a broken directory...
        return "unreadable"
    with archive:
        parts = archive.infolist()
        if len(parts) > MAX_XLSX_PARTS:
            return "xlsx_too_large"
        if any(p.flag_bits & 0x1 for p in parts):
            return "encrypted"
        if sum(p.file_size for p in parts) > MAX_XLSX_UNPACKED:
            return "xlsx_too_large"
        for p in parts:
            if p.file_size > _RATIO_FROM and p.file_size > MAX_XLSX_RATIO * max(p.compress_size, 1):
                return "xlsx_too_large"
        worksheets = _streamed_parts(archive)
        if worksheets is None:
            return "unreadable"
        if any(p.file_size > MAX_XLSX_PART and p.filename not in worksheets for p in parts):
            return "xlsx_too_large"
    return None


def _read_xlsx(data: bytes) -> tuple[list[tuple[int, list[Any]]], list[Issue]]:
    import openpyxl

    problem = check_xlsx_archive(data)
    if problem:
        return [], [Issue(None, None, problem)]
    rows: list[tuple[int, list[Any]]] = []
    try:
        with warnings.catch_warnings():
            # Odd styles in exported files make openpyxl warn; the values matter.
            warnings.simplefilter("ignore")
            # data_only: a formula cell yields its cached value (or nothing), never code.
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                # Bounded: without max_col every row is as wide as the sheet's
                # <dimension> claims (up to 16,384 cells, a few bytes of XML).
                cells = sheet.iter_rows(max_row=MAX_ROWS + 2, max_col=MAX_COLUMNS, values_only=True)
                for n, values in enumerate(cells, 1):
                    if n > MAX_ROWS + 1:
                        return [], [Issue(None, None, "too_many_rows")]
                    rows.append((n, list(values)))
            finally:
                book.close()
    except Exception:  # untrusted input: any failure to read is "unreadable"
        return [], [Issue(None, None, "unreadable")]
    return rows, []


def read_cells(data: bytes) -> tuple[list[tuple[int, list[Any]]], list[Issue]]:
    """Rows of cells with their row numbers; XLSX is recognised by content, not name."""
    if not data.strip():
        return [], [Issue(None, None, "empty")]
    if data.startswith(_XLSX_MAGIC):
        return _read_xlsx(data)
    if data.startswith(_OLE2_MAGIC):
        return [], [Issue(None, None, "xls_or_encrypted")]
    return _read_csv(data)
