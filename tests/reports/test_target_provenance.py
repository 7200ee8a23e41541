"""Every target shown with where it comes from: dashboard, XLSX, PDF and public board.

Cam Ranh's manager raises the ward's 2026 target to 90% (the province's is
85%); the province's land target (75%) stays inherited.
"""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from survey.models import Unit, User
from survey.reports.xlsx import SHEETS
from survey.services.org.targets import set_target

RAISED = "Đặt tại đơn vị bởi Trần Thị Cam (KH 5/KH-UBND), cao hơn chỉ tiêu kế thừa 85%"
LAND = "Kế thừa từ Tỉnh Khánh Hòa (dữ liệu mẫu) — Dữ liệu mẫu — KH CCHC"
PERIOD = "from=2026-01-01&to=2026-10-31"


def _raise_cam_ranh(db, cheap_hash):
    from tests.support import add_user

    with db.session() as s:
        ward = s.scalar(select(Unit).where(Unit.code == "KH-CAMRANH"))
        manager = add_user(
            s, cheap_hash, "cr_boss", "unit_manager", ward.id, full_name="Trần Thị Cam"
        )
        set_target(s, manager, ward, year=2026, threshold=0.9, source="KH 5/KH-UBND")
        assert s.scalar(select(User.id).where(User.username == "cr_boss")) is not None


def test_dashboard_and_exports_say_where_each_target_comes_from(analyst, demo_db, cheap_hash):
    _raise_cam_ranh(demo_db, cheap_hash)
    html = analyst.get(f"/staff/reports?{PERIOD}").get_data(as_text=True)
    assert "Chỉ tiêu năm 2026: 90%. " + RAISED in html
    assert "Đất đai, xây dựng, đầu tư: 75% — " + LAND in html

    book = load_workbook(io.BytesIO(analyst.get(f"/staff/reports/export.xlsx?{PERIOD}").data))
    [source] = [
        r[1].value for r in book[SHEETS["summary"]].iter_rows() if r[0].value == "Nguồn chỉ tiêu"
    ]
    assert RAISED in source and LAND in source

    doc = analyst.get(f"/staff/reports/export.json?{PERIOD}").get_json()
    assert any(RAISED in line for line in doc["report"]["targets"]["provenance"])


def test_pdf_names_the_sources(analyst, demo_db, cheap_hash, tmp_path):
    from tests.support import pdf_text

    _raise_cam_ranh(demo_db, cheap_hash)
    path = tmp_path / "r.pdf"
    path.write_bytes(analyst.get(f"/staff/reports/export.pdf?{PERIOD}").data)
    text = " ".join(pdf_text(path).split())
    assert "cao hơn chỉ tiêu kế thừa 85%" in text and "Trần Thị Cam" in text


def test_public_board_names_the_unit_not_the_person(demo_client, demo_db, cheap_hash):
    before = demo_client.get("/r/KH-TTHCC").get_data(as_text=True)
    assert "Chỉ tiêu năm 2026: 85%" in before
    assert "Kế thừa từ Tỉnh Khánh Hòa (dữ liệu mẫu)" in before

    _raise_cam_ranh(demo_db, cheap_hash)
    html = demo_client.get("/r/KH-CAMRANH").get_data(as_text=True)
    assert "Chỉ tiêu năm 2026: 90%" in html
    assert "Do Phường Cam Ranh đặt (KH 5/KH-UBND), cao hơn chỉ tiêu kế thừa 85%" in html
    assert "Trần Thị Cam" not in html


def test_a_province_report_names_the_source_of_each_units_own_target(sign_in_as):
    # The ward's rows in the province's rankings are judged against its own 87%:
    # that target is listed with its source too, not only the province's 85%.
    client = sign_in_as("analyst", "KH", username="kh_reader")
    html = client.get(f"/staff/reports?unit=KH&{PERIOD}").get_data(as_text=True)
    assert "Chung (mọi lĩnh vực): 85% — Đặt tại đơn vị" in html
    [line] = [x for x in html.split("<li>") if x.startswith("Phường Cam Ranh: 87% — ")]
    assert "Đặt tại đơn vị" in line and "cao hơn chỉ tiêu kế thừa 85%" in line
