"""Transaction volume import: parsing, preview, confirmation, the CLI."""

from __future__ import annotations

import io
import json
import re
from datetime import date, datetime

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from survey.cli import cli
from survey.models import Desk, Sector, Unit, Volume
from survey.models.planning import VolumeUpload
from survey.services import volumes
from survey.services.demo import demo_code
from tests.support import TEST_SECRET, audit_events, csrf_token

TODAY = date(2026, 11, 22)
CR1, CR2, NT1 = demo_code("cr-1"), demo_code("cr-2"), demo_code("nt-1")
TOKEN = re.compile(r'name="token" type="hidden" value="([^"]+)"')


def _codes(parsed):
    return [(i.row, i.column, i.code) for i in parsed.issues]


# --- parsing (no database) ----------------------------------------------------
def test_parse_desk_csv_with_bom_semicolons_and_extra_columns():
    data = "\ufeffDesk;MONTH;count;Tên quầy\nabc;2026-1;12;x\n;;;\nDEF;2026-02;+0;y\n".encode()
    parsed = volumes.parse(data, TODAY)
    assert parsed.issues == []
    assert parsed.kind == volumes.DESK and parsed.ignored_columns == ["tên quầy"]
    assert parsed.rows == [
        {"row": 2, "desk": "ABC", "month": "2026-01", "count": 12},
        {"row": 4, "desk": "DEF", "month": "2026-02", "count": 0},
    ]


def test_parse_reports_every_bad_row_with_its_column():
    data = (
        b"desk,month,count\n"
        b"A,2026-01,10\n"
        b"B,2026-13,5\n"  # row 3
        b"C,2026/01,5\n"  # row 4
        b"D,2027-01,5\n"  # row 5: future
        b"E,2026-01,-3\n"  # row 6
        b"F,2026-01,=1+2\n"  # row 7: a formula is just text
        b"G,2026-01,12.5\n"  # row 8
        b"A,2026-01,11\n"  # row 9: duplicate of row 2
        b",2026-01,\n"  # row 10: two empty cells
    )
    parsed = volumes.parse(data, TODAY)
    assert _codes(parsed) == [
        (3, "month", "bad_month"),
        (4, "month", "bad_month"),
        (5, "month", "future_month"),
        (6, "count", "negative"),
        (7, "count", "not_integer"),
        (8, "count", "not_integer"),
        (9, None, "duplicate_row"),
        (10, "desk", "required"),
        (10, "count", "required"),
    ]
    assert parsed.issues[6].other_row == 2


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", [(None, None, "empty")]),
        (b"desk,count\nA,1\n", [(1, "month", "missing_column")]),
        (b"unit,month,count\nKH,2026-01,1\n", [(1, "sector", "missing_column")]),
        (b"desk,unit,month,count\n", [(1, None, "ambiguous_columns")]),
        (b"desk,month,count\n", [(None, None, "no_rows")]),
        (b"desk,month,count,count\nA,2026-01,1,2\n", [(1, "count", "duplicate_column")]),
        ("desk,month,count\nĐ,2026-01,1\n".encode("cp1258"), [(None, None, "encoding")]),
        (b"PK\x03\x04not really a workbook", [(None, None, "unreadable")]),
        (b"\x89PNG\r\n\x1a\n\x00\x00", [(None, None, "encoding")]),
    ],
)
def test_parse_file_level_problems(data, expected):
    assert _codes(volumes.parse(data, TODAY)) == expected


def _xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_parse_xlsx_with_date_cells_and_float_counts():
    data = _xlsx(
        [
            ["Unit", "Sector", "Month", "Count"],
            ["kh-camranh", "ho_tich", datetime(2026, 3, 1), 120.0],
            [None, None, None, None],
            ["KH", "DAT_DAI", "2026-04", "=SUM(A1:A2)"],
        ]
    )
    parsed = volumes.parse(data, TODAY)
    assert parsed.kind == volumes.UNIT_SECTOR
    assert parsed.rows == [
        {"row": 2, "unit": "KH-CAMRANH", "sector": "HO_TICH", "month": "2026-03", "count": 120}
    ]
    # openpyxl stores the formula without a cached value: not a number. It is either
    # refused or, read as an empty count, left out with its row number shown.
    assert _codes(parsed) == [(4, "count", "not_integer")] or (
        _codes(parsed) == [] and parsed.skipped == [4]
    )


def test_codes_with_control_characters_are_never_looked_up():
    data = _xlsx([["desk", "month", "count"], ["A_x0000_B", "2026-01", 1]])
    # A crafted workbook may carry _x0000_ escapes; a CSV may carry a raw NUL.
    parsed = volumes.parse(data, TODAY)
    assert _codes(parsed) in ([(2, "desk", "bad_code")], [])
    parsed = volumes.parse(("desk,month,count\n" + "K" * 65 + ",2026-01,1\n").encode(), TODAY)
    assert _codes(parsed) == [(2, "desk", "bad_code")]
    nul = volumes.parse(b"desk,month,count\nA\x00B,2026-01,1\n", TODAY)
    assert _codes(nul) == [(2, "desk", "bad_code")] and nul.issues[0].value == "A?B"


def test_display_name_drops_folders_and_control_characters():
    assert volumes.display_name("../../etc/passwd") == "passwd"
    assert volumes.display_name("C:\\Users\\x\\Số liệu.xlsx") == "Số liệu.xlsx"
    assert volumes.display_name("a\x00b\nc.csv") == "abc.csv"
    assert volumes.display_name(None) == ""


# --- web: preview, confirmation ----------------------------------------------
def _volume(db, desk_code, month):
    with db.session() as s:
        return s.scalar(
            select(Volume.count)
            .join(Desk, Volume.desk_id == Desk.id)
            .where(Desk.code == desk_code, Volume.month == month, Volume.sector_id.is_(None))
        )


def _upload(client, data: bytes, name="volumes.csv", **extra):
    return client.post(
        "/staff/volumes", data={"file": (io.BytesIO(data), name), **extra}, buffered=True
    )


def _staged(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(VolumeUpload))


def test_csv_upload_preview_then_confirm(demo_client, demo_db, world, nocsrf, sign_in_as):
    sign_in_as("unit_manager")
    old = _volume(demo_db, CR1, date(2026, 1, 1))
    assert old is not None  # the demo has January
    data = (
        f'\ufeffDesk,Month,Count,Ghi chú\n{CR1},2026-01,600,=HYPERLINK("x")\n{CR2},2025-12,410,\n'
    ).encode()
    preview = _upload(demo_client, data, name="../../tmp/số liệu.csv")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    assert "2 dòng hợp lệ: 1 dòng mới, 1 dòng thay thế số liệu đã có" in html
    assert "số liệu.csv" in html and "../" not in html
    assert f"thay {old}" in html
    # Nothing written before confirmation.
    assert _volume(demo_db, CR1, date(2026, 1, 1)) == old
    assert _volume(demo_db, CR2, date(2025, 12, 1)) is None

    token = TOKEN.search(html).group(1)
    done = demo_client.post("/staff/volumes/confirm", data={"token": token})
    assert done.status_code == 302
    assert _volume(demo_db, CR1, date(2026, 1, 1)) == 600
    assert _volume(demo_db, CR2, date(2025, 12, 1)) == 410
    assert "Đã nhập 2 dòng" in demo_client.get("/staff/volumes").get_data(as_text=True)
    (event,) = audit_events(demo_db, "volume.import")
    assert event.actor == "cr_unit_manager"
    assert json.loads(event.before) == {f"{CR1} 2026-01": old}
    after = json.loads(event.after)
    assert (after["new"], after["replaced"], after["file"]) == (1, 1, "số liệu.csv")
    # The token works once.
    again = demo_client.post("/staff/volumes/confirm", data={"token": token})
    assert again.status_code == 409 and "hết hạn" in again.get_data(as_text=True)
    assert _staged(demo_db) == 0


def test_xlsx_upload_per_unit_and_sector(demo_client, demo_db, world, nocsrf, sign_in_as):
    sign_in_as("admin", "KH")
    data = _xlsx(
        [
            ["unit", "sector", "month", "count"],
            ["KH-NHATRANG", "HO_TICH", datetime(2026, 3, 1), 120],
            ["kh-camranh", "dat_dai", "2026-04", 80],
        ]
    )
    preview = _upload(demo_client, data, name="export.xlsx")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    assert "2 dòng mới, 0 dòng thay thế" in html
    demo_client.post("/staff/volumes/confirm", data={"token": TOKEN.search(html).group(1)})
    with demo_db.session() as s:
        rows = s.execute(
            select(Unit.code, Sector.code, Volume.month, Volume.count)
            .join(Unit, Volume.unit_id == Unit.id)
            .join(Sector, Volume.sector_id == Sector.id)
            .where(Volume.desk_id.is_(None))
            .order_by(Unit.code)
        ).all()
    assert rows == [
        ("KH-CAMRANH", "DAT_DAI", date(2026, 4, 1), 80),
        ("KH-NHATRANG", "HO_TICH", date(2026, 3, 1), 120),
    ]
    # The same file again replaces both rows.
    html = _upload(demo_client, data, name="export.xlsx").get_data(as_text=True)
    assert "0 dòng mới, 2 dòng thay thế" in html


def test_one_bad_row_writes_nothing_and_names_the_row(
    demo_client, demo_db, world, nocsrf, sign_in_as
):
    sign_in_as("unit_manager")
    old = _volume(demo_db, CR1, date(2026, 2, 1))
    data = f"desk,month,count\n{CR1},2026-02,1\n{CR2},2026-02,-4\n{CR1},2026-03,7\n".encode()
    resp = _upload(demo_client, data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Dòng 3, cột count: số lượng “-4” là số âm." in html
    assert "Tệp có 1 lỗi" in html and 'name="token"' not in html
    assert _staged(demo_db) == 0
    assert _volume(demo_db, CR1, date(2026, 2, 1)) == old
    assert audit_events(demo_db, "volume.import") == []


def test_desks_outside_the_scope_and_unknown_codes_are_row_errors(
    demo_client, demo_db, world, nocsrf, sign_in_as
):
    sign_in_as("unit_manager")
    future = f"{date.today().year + 1}-01"
    data = (
        f"desk,month,count\n{NT1},2026-01,5\nNOSUCHXX,2026-01,5\n{CR1},{future},5\n"
        f"{CR1},2026-01,5\n{CR1},2026-01,6\n"
    ).encode()
    resp = _upload(demo_client, data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    # Format and database problems are reported together, in row order.
    messages = re.findall(r"<li>(Dòng \d+[^<]*)</li>", html)
    assert messages == [
        f"Dòng 2, cột desk: quầy “{NT1}” không thuộc phạm vi đơn vị của tài khoản này.",
        "Dòng 3, cột desk: không có quầy mã “NOSUCHXX”.",
        f"Dòng 4, cột month: tháng “{future}” chưa đến.",
        "Dòng 6: trùng với dòng 5 (cùng mã và cùng tháng).",
    ]
    assert _staged(demo_db) == 0


def test_missing_column_and_unreadable_file(demo_client, demo_db, world, nocsrf, sign_in_as):
    sign_in_as("unit_manager")
    html = _upload(demo_client, b"desk,count\nA,1\n").get_data(as_text=True)
    assert "Dòng 1, cột month: thiếu cột này." in html
    resp = _upload(demo_client, b"PK\x03\x04junk", name="x.xlsx")
    assert resp.status_code == 422 and "Không đọc được tệp" in resp.get_data(as_text=True)
    empty = demo_client.post("/staff/volumes", data={})
    assert empty.status_code == 422 and "Xin chọn tệp" in empty.get_data(as_text=True)


def test_token_belongs_to_its_uploader(demo_app, demo_db, world, nocsrf, sign_in_as):
    uploader, other = demo_app.test_client(), demo_app.test_client()
    sign_in_as("unit_manager", client=uploader)
    sign_in_as("admin", client=other)
    html = _upload(uploader, f"desk,month,count\n{CR1},2026-01,1\n".encode()).get_data(as_text=True)
    token = TOKEN.search(html).group(1)
    assert other.post("/staff/volumes/confirm", data={"token": token}).status_code == 409
    assert uploader.post("/staff/volumes/confirm", data={"token": token}).status_code == 302
    assert _volume(demo_db, CR1, date(2026, 1, 1)) == 1


def test_upload_needs_csrf_and_may_exceed_the_site_request_limit(
    demo_client, demo_db, world, sign_in_as
):
    sign_in_as("unit_manager")
    lines = ["desk,month,count,note"]
    note = "ghi chú dài " * 8
    for code in (CR1, CR2):
        for year in range(2000, 2026):
            for month in range(1, 13):
                lines.append(f"{code},{year}-{month:02d},{month},{note}")
    data = "\n".join(lines).encode()
    assert len(data) > 64 * 1024
    assert _upload(demo_client, data).status_code == 400  # no CSRF token
    token = csrf_token(demo_client, "/staff/volumes")
    resp = _upload(demo_client, data, csrf_token=token)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert f"{len(lines) - 1} dòng hợp lệ" in resp.get_data(as_text=True)


def test_upload_above_the_upload_limit_is_refused(demo_client, demo_db, world, nocsrf, sign_in_as):
    sign_in_as("unit_manager")
    # A hand-made multipart body (bytes, not a spooled file the server never reads).
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\ndesk,month,count\n"
        + b"x" * volumes.MAX_UPLOAD_BYTES
        + b"\r\n--B--\r\n"
    )
    resp = demo_client.post(
        "/staff/volumes", data=body, content_type="multipart/form-data; boundary=B"
    )
    assert resp.status_code == 413
    assert _staged(demo_db) == 0


def test_unit_volumes_page_stays_in_scope(demo_client, demo_db, world, nocsrf, sign_in_as):
    sign_in_as("analyst")
    html = demo_client.get(f"/staff/units/{world.units['KH-CAMRANH']}/volumes?year=2026")
    text = html.get_data(as_text=True)
    assert html.status_code == 200 and CR1 in text and NT1 not in text
    assert demo_client.get(f"/staff/units/{world.units['KH']}/volumes").status_code == 403
    # An analyst reads but does not import.
    assert demo_client.get("/staff/volumes").status_code == 403


# --- CLI ------------------------------------------------------------------------
def _cli(url, *args):
    env = {"SURVEY_DATABASE_URL": url, "SURVEY_SECRET_KEY": TEST_SECRET, "SURVEY_ENV": "testing"}
    return CliRunner().invoke(cli, ["volumes", "import", *args], env=env, catch_exceptions=False)


def test_cli_import_dry_run_then_import(demo_db_url, demo_db, tmp_path):
    old = _volume(demo_db, NT1, date(2026, 1, 1))
    path = tmp_path / "volumes.csv"
    path.write_text(f"desk,month,count\n{NT1},2026-01,999\n{NT1},2020-01,5\n", encoding="utf-8")
    dry = _cli(demo_db_url, str(path), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "dry run: 2 rows: 1 new, 1 replace existing; nothing written" in dry.output
    assert _volume(demo_db, NT1, date(2026, 1, 1)) == old
    done = _cli(demo_db_url, str(path))
    assert done.exit_code == 0 and "imported 2 rows: 1 new, 1 replaced" in done.output
    assert _volume(demo_db, NT1, date(2026, 1, 1)) == 999
    assert _volume(demo_db, NT1, date(2020, 1, 1)) == 5
    (event,) = audit_events(demo_db, "volume.import")
    assert event.actor == "cli" and event.user_id is None


def test_cli_bad_file_exits_2_and_writes_nothing(demo_db_url, demo_db, tmp_path):
    old = _volume(demo_db, NT1, date(2026, 1, 1))
    path = tmp_path / "bad.csv"
    path.write_text(f"desk,month,count\n{NT1},2026-01,7\n{NT1},2026-02,abc\n", encoding="utf-8")
    result = _cli(demo_db_url, str(path))
    assert result.exit_code == 2
    assert "Row 3, column count: count “abc” is not a whole number." in result.stderr
    assert "nothing imported" in result.stderr
    assert _volume(demo_db, NT1, date(2026, 1, 1)) == old
    assert audit_events(demo_db, "volume.import") == []
