"""The sixth criterion from the handling data, in the dashboard and the XLSX."""

from __future__ import annotations

import io
from datetime import date, datetime

from openpyxl import load_workbook
from sqlalchemy import select

from survey.models import Comment, Response, Unit


def _answered_cases(db):
    """Two complaints at Cam Ranh in October: one answered on time, one late."""
    with db.session() as s:
        unit = s.scalar(select(Unit).where(Unit.code == "KH-CAMRANH"))
        responses = s.scalars(
            select(Response)
            .where(
                Response.unit_id == unit.id,
                Response.day >= date(2026, 10, 1),
                Response.day <= date(2026, 10, 31),
                ~Response.comment.has(),
            )
            .order_by(Response.id)
            .limit(2)
        ).all()
        for resp, replied in zip(
            responses, (datetime(2026, 10, 7, 2), datetime(2026, 10, 30, 2)), strict=True
        ):
            s.add(
                Comment(
                    response_id=resp.id,
                    text="x",
                    kind="complaint",
                    created_at=datetime(2026, 10, 5, 2),
                    due_on=date(2026, 10, 19),
                    replied_at=replied,
                    public_reply="Đã xử lý.",
                    status="answered",
                )
            )


def test_the_dashboard_and_the_xlsx_show_handling_on_time(analyst, demo_db):
    _answered_cases(demo_db)
    query = "?from=2026-10-01&to=2026-10-31"
    html = analyst.get("/staff/reports" + query).get_data(as_text=True)
    assert "Tiếp nhận và xử lý phản ánh, kiến nghị" in html
    assert "2026-10" in html and "Thời gian xử lý trung vị (ngày)" in html
    wb = load_workbook(io.BytesIO(analyst.get("/staff/reports/export.xlsx" + query).data))
    ws = wb["Xử lý ý kiến"]
    head = [c.value for c in ws[1]]
    rows = [dict(zip(head, [c.value for c in r], strict=True)) for r in ws.iter_rows(min_row=2)]
    [ward] = [r for r in rows if r["Đơn vị"] == "Phường Cam Ranh" and r["Tháng"] == "2026-10"]
    # The demo's own October comments have no replies; ours are 1 on time of 2 answered.
    assert ward["Đã trả lời"] == 2 and ward["Trả lời đúng hạn"] == 1
    assert ward["Tỷ lệ trả lời đúng hạn"] <= 0.5
