"""Volume files as one-stop software exports them: Vietnamese headers, ";", "1.234",
months as 11/2026, a title above the headers; the template to fill in; the layout
hint when the headers fit neither layout."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from survey.models import Desk, Volume
from survey.services import volumes
from survey.services.demo import demo_code
from survey.services.volumes.template import last_months

FIXTURE = Path(__file__).parent / "fixtures" / "one_stop_export.csv"
TODAY = date(2026, 12, 1)
CR1, CR2, CR3 = demo_code("cr-1"), demo_code("cr-2"), demo_code("cr-3")
TOKEN = re.compile(r'name="token" type="hidden" value="([^"]+)"')


def _codes(parsed):
    return [(i.row, i.column, i.code) for i in parsed.issues]


def _volume(db, desk_code, month):
    with db.session() as s:
        return s.scalar(
            select(Volume.count)
            .join(Desk, Volume.desk_id == Desk.id)
            .where(Desk.code == desk_code, Volume.month == month, Volume.sector_id.is_(None))
        )


def _upload(client, data: bytes, name="xuat-mot-cua.csv"):
    return client.post("/staff/volumes", data={"file": (io.BytesIO(data), name)}, buffered=True)


def test_the_one_stop_export_parses_as_is():
    parsed = volumes.parse(FIXTURE.read_bytes(), TODAY)
    assert parsed.issues == [] and parsed.kind == volumes.DESK
    assert parsed.rows[0] == {"row": 5, "desk": CR1, "month": "2026-10", "count": 1234}
    assert [r["count"] for r in parsed.rows] == [1234, 2047, 486, 1118, 1962]
    assert parsed.skipped == [10]  # "Chưa tổng hợp": no count yet
    assert set(parsed.ignored_columns) == {"stt", "tên quầy", "ghi chú"}


def test_the_one_stop_export_imports_in_the_browser(
    demo_client, demo_db, world, nocsrf, sign_in_as
):
    sign_in_as("unit_manager")
    preview = _upload(demo_client, FIXTURE.read_bytes())
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Bỏ qua 1 dòng chưa có số hồ sơ (dòng 10)" in html
    assert _volume(demo_db, CR1, date(2026, 10, 1)) != 1234  # nothing written yet
    token = TOKEN.search(html).group(1)
    assert demo_client.post("/staff/volumes/confirm", data={"token": token}).status_code == 302
    assert _volume(demo_db, CR1, date(2026, 10, 1)) == 1234
    assert _volume(demo_db, CR2, date(2026, 9, 1)) == 1962


@pytest.mark.parametrize(
    ("cell", "count"),
    [("1.234", 1234), ("12.345.678", 12345678), ("1 234", 1234), ("1\u00a0234", 1234)],
)
def test_vi_vn_thousands_separators(cell, count):
    parsed = volumes.parse(f"Mã quầy;Tháng;Số hồ sơ\nA;2026-11;{cell}\n".encode(), TODAY)
    assert parsed.issues == [] and parsed.rows[0]["count"] == count


@pytest.mark.parametrize("cell", ["1.23", "1.2345", "1.234,5", "1.234.56", "1,234.000"])
def test_what_is_not_a_whole_count_is_still_refused(cell):
    parsed = volumes.parse(f"Mã quầy;Tháng;Số hồ sơ\nA;2026-11;{cell}\n".encode(), TODAY)
    assert _codes(parsed) == [(2, "count", "not_integer")]


@pytest.mark.parametrize(
    ("cell", "month"),
    [
        ("11/2026", "2026-11"),
        ("2026-11", "2026-11"),
        ("T3/2026", "2026-03"),
        ("Tháng 3/2026", "2026-03"),
        ("03-2026", "2026-03"),
    ],
)
def test_months_as_one_stop_software_writes_them(cell, month):
    parsed = volumes.parse(f"Mã quầy;Tháng;Số hồ sơ\nA;{cell};5\n".encode(), TODAY)
    assert parsed.issues == [] and parsed.rows[0]["month"] == month


def test_the_unit_by_sector_layout_with_vietnamese_headers():
    data = (
        "Mã đơn vị;Mã lĩnh vực;Lĩnh vực;Tháng;Số hồ sơ\n"
        "kh-camranh;HO_TICH;Hộ tịch;10/2026;2.310\n"
        "KH-CAMRANH;DAT_DAI;Đất đai;2026-10;845\n"
    ).encode()
    parsed = volumes.parse(data, TODAY)
    assert parsed.issues == [] and parsed.kind == volumes.UNIT_SECTOR
    assert parsed.rows[0] == {
        "row": 2,
        "unit": "KH-CAMRANH",
        "sector": "HO_TICH",
        "month": "2026-10",
        "count": 2310,
    }
    # Next to "Mã lĩnh vực", the "Lĩnh vực" column holds names: not a second sector column.
    assert parsed.ignored_columns == ["lĩnh vực"]


def test_headers_that_fit_neither_layout_name_the_closest_and_what_it_lacks(
    demo_client, demo_db, world, nocsrf, sign_in_as
):
    sign_in_as("unit_manager")
    resp = _upload(demo_client, "Mã quầy;Số lượng hồ sơ;Ghi chú\nA;5;x\n".encode())
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "gần nhất với dạng theo quầy" in html and "còn thiếu cột: Tháng." in html
    resp = _upload(demo_client, "Mã đơn vị;Tháng;Số hồ sơ\nKH;2026-10;5\n".encode())
    assert "theo đơn vị và lĩnh vực" in resp.get_data(as_text=True)
    assert "còn thiếu cột: Mã lĩnh vực." in resp.get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_template_lists_the_units_desks_and_months_and_imports_back(
    demo_client, demo_db, world, nocsrf, sign_in_as, fmt
):
    sign_in_as("unit_manager")
    ward = world.units["KH-CAMRANH"]
    resp = demo_client.get(f"/staff/units/{ward}/volumes/template.{fmt}")
    assert resp.status_code == 200
    assert f"so-ho-so-KH-CAMRANH.{fmt}" in resp.headers["Content-Disposition"]
    if fmt == "csv":
        assert resp.data.startswith("\ufeffMã quầy;Tên quầy;Tháng;Số hồ sơ".encode())
        rows = [line.split(";") for line in resp.data.decode("utf-8-sig").splitlines()[1:]]
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(resp.data)).active
        rows = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
    with demo_db.session() as s:
        active = set(s.scalars(select(Desk.code).where(Desk.unit_id == ward, Desk.active)))
    months = {f"{m:%m/%Y}" for m in last_months(date.today())}
    assert {r[0] for r in rows} == active and {r[2] for r in rows} == months
    assert len(rows) == len(active) * 12
    # Filled in as the unit knows (the demo's stored counts are already there): it imports.
    preview = _upload(demo_client, resp.data, name=f"mau.{fmt}")
    assert preview.status_code == 200, preview.get_data(as_text=True)[:2000]


def test_only_importers_download_the_template(demo_client, world, nocsrf, sign_in_as):
    sign_in_as("analyst")
    ward = world.units["KH-CAMRANH"]
    assert demo_client.get(f"/staff/units/{ward}/volumes/template.csv").status_code == 403
    sign_in_as("unit_manager")
    other = world.units["KH-NHATRANG"]
    assert demo_client.get(f"/staff/units/{other}/volumes/template.csv").status_code == 403


# --- the manual entry grid ------------------------------------------------------------
def _cell(desk_code: str, month: date) -> str:
    return f"c-{desk_code}-{month:%Y-%m}"


def test_the_grid_saves_changed_cells_all_or_nothing(
    demo_client, demo_db, world, nocsrf, sign_in_as
):
    sign_in_as("unit_manager")
    ward = world.units["KH-CAMRANH"]
    page = demo_client.get(f"/staff/units/{ward}/volumes").get_data(as_text=True)
    last = last_months(date.today())[-1]
    assert f'name="{_cell(CR1, last)}"' in page
    before = _volume(demo_db, CR2, last)
    bad = demo_client.post(
        f"/staff/units/{ward}/volumes",
        data={_cell(CR1, last): "1.234", _cell(CR2, last): "nhiều"},
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "“nhiều” không phải số nguyên" in html
    assert 'value="1.234"' in html  # what was typed is kept
    assert _volume(demo_db, CR1, last) != 1234 and _volume(demo_db, CR2, last) == before
    good = demo_client.post(f"/staff/units/{ward}/volumes", data={_cell(CR1, last): "1.234"})
    assert good.status_code == 302
    assert _volume(demo_db, CR1, last) == 1234 and _volume(demo_db, CR2, last) == before


def test_analysts_see_the_table_but_no_grid(demo_client, world, nocsrf, sign_in_as):
    sign_in_as("analyst")
    ward = world.units["KH-CAMRANH"]
    page = demo_client.get(f"/staff/units/{ward}/volumes").get_data(as_text=True)
    assert "Nhập tay số hồ sơ" not in page
    assert demo_client.post(f"/staff/units/{ward}/volumes", data={}).status_code == 403


def test_messages_name_the_column_as_the_file_heads_it(
    demo_client, demo_db, world, nocsrf, sign_in_as
):
    sign_in_as("unit_manager")
    resp = _upload(demo_client, f"Mã quầy;Tháng;Số hồ sơ\n{CR1};13/2026;5\n".encode())
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Dòng 2, cột Tháng: tháng “13/2026” không đúng dạng" in html
