"""Reports break results down by channel: QR at the desk, link, the desk's tablet."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from survey.models import Response, Unit
from tests.support import TODAY


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch):
    monkeypatch.setattr("survey.clock.local_today", lambda _tz: TODAY)


@pytest.fixture
def mixed_channels(demo_db):
    """Cam Ranh's responses: every third from the tablet, every fifth by link."""
    with demo_db.session() as s:
        unit = s.scalar(select(Unit.id).where(Unit.code == "KH-CAMRANH"))
        ids = list(s.scalars(select(Response.id).where(Response.unit_id == unit)))
        kiosk, link = ids[::3], [i for i in ids[1::5] if i not in ids[::3]]
        s.execute(update(Response).where(Response.id.in_(kiosk)).values(channel="kiosk"))
        s.execute(update(Response).where(Response.id.in_(link)).values(channel="link"))
    return {"kiosk": len(kiosk), "link": len(link), "qr": len(ids) - len(kiosk) - len(link)}


def test_json_breaks_down_by_channel(analyst, mixed_channels):
    doc = analyst.get("/staff/reports/export.json").get_json()
    groups = {g["key"]: g for g in doc["groups"]["survey_channel"]}
    assert set(groups) == {"qr", "kiosk", "link"}
    # Counted responses per channel add up to the overall count.
    assert sum(g["n"] for g in groups.values()) == doc["overall"]["n"]
    assert groups["kiosk"]["overall"]["estimate"] is not None
    assert doc["report"]["labels"]["survey_channel"] == {
        "qr": "Mã QR tại quầy",
        "kiosk": "Máy tính bảng tại quầy",
        "link": "Đường dẫn theo hồ sơ",
    }


def test_dashboard_and_workbook_show_the_channels_in_words(analyst, mixed_channels):
    html = analyst.get("/staff/reports").get_data(as_text=True)
    assert "Xếp hạng: Kênh đánh giá" in html
    for words in ("Mã QR tại quầy", "Máy tính bảng tại quầy", "Đường dẫn theo hồ sơ"):
        assert words in html
    book = load_workbook(io.BytesIO(analyst.get("/staff/reports/export.xlsx").data))
    sheet = book["Kênh đánh giá"]
    names = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert names == {"Mã QR tại quầy", "Máy tính bảng tại quầy", "Đường dẫn theo hồ sơ"}
