"""The results dashboard and its exports: scope, rendering, consistency, background jobs."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from survey.models import Desk, Unit, User
from survey.reports import fmt, jobs, selection
from survey.services.access import Forbidden
from tests.support import PLANTED, TODAY, plant_comment

ROUTES = [
    "/staff/reports",
    "/staff/reports/export.json",
    "/staff/reports/export.xlsx",
    "/staff/reports/export.pdf",
    "/staff/reports/data.csv",
    "/staff/reports/codebook.csv",
]
INDEX = re.compile(r'<p class="index">([^<]+)</p>')


def desk_of(db, unit_code: str) -> str:
    with db.session() as s:
        return s.scalar(
            select(Desk.code).join(Unit).where(Unit.code == unit_code).order_by(Desk.id).limit(1)
        )


def test_dashboard_renders_for_an_analyst_within_scope(analyst):
    resp = analyst.get("/staff/reports")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Phường Cam Ranh" in html and "01/01/2026 – 31/10/2026" in html
    assert INDEX.search(html) and "Khoảng tin cậy 95%" in html
    for section in (
        "Sáu tiêu chí",
        "Xu hướng theo tháng",
        "Xếp hạng: Quầy",
        "Kết quả theo câu hỏi",
    ):
        assert section in html
    assert re.search(r'class="badge v-(dat|khong_dat|chua_du_can_cu)"', html)
    assert "<svg" in html and "<polygon" in html  # the trend's interval band
    # A strict CSP is coming: nothing inline, nothing from other hosts.
    assert "style=" not in html and "<script" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "Tỷ lệ phản hồi" in html and "Phiếu bị loại" in html
    assert "Nha Trang" not in html  # no unit outside the subtree, not even in the filters


def test_small_samples_are_marked_not_hidden(analyst):
    html = analyst.get("/staff/reports?from=2026-10-01&to=2026-10-31").get_data(as_text=True)
    assert "ít phiếu" in html and 'class="small"' in html
    assert "Quầy 1 – Hộ tịch" in html  # a desk with under 30 responses in October still shows


@pytest.mark.parametrize("path", ROUTES)
def test_outside_the_subtree_is_forbidden_however_asked(analyst, demo_db, path):
    other_desk = desk_of(demo_db, "KH-NHATRANG")
    tricks = [
        "unit=KH-NHATRANG",
        "unit=kh-nhatrang",
        "unit=%20KH-NHATRANG%20",
        "unit=KH",  # the parent of Cam Ranh
        f"unit=KH-CAMRANH&desk={other_desk}",
        f"desk={other_desk}",
        "unit=KH-NHATRANG&unit=KH-CAMRANH",
    ]
    for query in tricks:
        resp = analyst.get(f"{path}?{query}")
        assert resp.status_code == 403, (path, query, resp.status_code)
        assert b"Nha Trang" not in resp.data


def test_desk_staff_read_their_results_but_export_nothing(demo_client, demo_db, world, sign_in_as):
    sign_in_as("desk_staff")
    page = demo_client.get("/staff/reports")
    assert page.status_code == 200 and b"export.pdf" not in page.data
    for path in ROUTES[1:]:
        assert demo_client.get(path).status_code == 403, path


def test_signed_out_goes_to_login(demo_client):
    resp = demo_client.get("/staff/reports/export.json")
    assert resp.status_code == 302 and "/staff/login" in resp.headers["Location"]


def test_bad_selection_is_a_clear_400(analyst, demo_db):
    cases = [
        ("unit=NOPE", "Không có đơn vị mã"),
        ("from=2026-13-01", "không hợp lệ"),
        ("from=2026-06-01&to=2026-05-01", "Ngày bắt đầu phải trước ngày kết thúc"),
        ("sector=NOPE", "Không có lĩnh vực mã"),
        (f"desk={desk_of(demo_db, 'KH-CAMRANH')}&unit=KH-CAMRANH-TO1", "không thuộc đơn vị"),
    ]
    for query, message in cases:
        resp = analyst.get(f"/staff/reports?{query}")
        assert resp.status_code == 400, query
        assert message in resp.get_data(as_text=True), query


def test_dashboard_overall_equals_the_json_export(analyst):
    for query in ("", "?group=DD-XD-DT", "?from=2026-04-01&to=2026-06-30"):
        doc = analyst.get(f"/staff/reports/export.json{query}").get_json()
        html = analyst.get(f"/staff/reports{query}").get_data(as_text=True)
        assert INDEX.search(html).group(1) == fmt.pct(doc["overall"]["estimate"])
        assert doc["selection"]["unit"]["code"] == "KH-CAMRANH"
    english = analyst.get("/staff/reports?lang=en").get_data(as_text=True)
    assert INDEX.search(english).group(1) == fmt.pct(doc_overall(analyst), "en")


def doc_overall(client) -> float:
    return client.get("/staff/reports/export.json").get_json()["overall"]["estimate"]


def test_web_exports_are_files_and_csv_streams(analyst, demo_db):
    plant_comment(demo_db)
    pdf = analyst.get("/staff/reports/export.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]
    xlsx = analyst.get("/staff/reports/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    csv = analyst.get("/staff/reports/data.csv")
    assert csv.status_code == 200 and csv.is_streamed
    body = csv.get_data(as_text=True)
    assert body.startswith("\ufeffresponse_id,") and "'" + PLANTED.replace('"', '""') in body
    csv.close()
    assert demo_db.engine.pool.checkedout() == 0  # the stream's connection went back
    book = analyst.get("/staff/reports/codebook.csv").get_data(as_text=True)
    assert book.startswith("\ufeffvariable,value,label,description")


def test_a_download_cut_off_midway_returns_its_connection(analyst, demo_db):
    """A citizen-data download dropped by the analyst's browser must not hold
    a database connection until the garbage collector happens to run."""
    csv = analyst.get("/staff/reports/data.csv")
    pieces = iter(csv.response)
    assert next(pieces).decode("utf-8").startswith("\ufeffresponse_id,")
    assert next(pieces)  # the first rows: the query is open now
    assert demo_db.engine.pool.checkedout() == 1
    csv.close()  # what the WSGI server does when the client goes away
    assert demo_db.engine.pool.checkedout() == 0


@pytest.mark.parametrize("settings_overrides", [{"REPORTS_INLINE_MAX_RESPONSES": 100}])
def test_large_exports_run_as_background_jobs(
    analyst, demo_app, demo_db, nocsrf, tmp_path, sign_in_as, worker
):
    offer = analyst.get("/staff/reports/export.pdf?from=2026-01-01&to=2026-10-31")
    assert offer.status_code == 200 and b"report-job" not in offer.data
    assert "Bắt đầu tạo báo cáo" in offer.get_data(as_text=True)
    start = analyst.post(
        "/staff/reports/jobs",
        data={"fmt": "pdf", "unit": "KH-CAMRANH", "from": "2026-01-01", "to": "2026-10-31"},
    )
    assert start.status_code == 303
    token = start.headers["Location"].rsplit("/", 1)[1]
    with demo_db.session() as s:
        uid = s.scalar(select(User.id).where(User.username == "cr_analyst"))
    job = jobs.wait(demo_app, jobs.get(demo_app, token, uid), uid)
    assert job.status == "done" and job.percent == 100 and job.done == job.total > 0
    status = analyst.get(f"/staff/reports/jobs/{token}")
    assert status.status_code == 200 and "Tải về" in status.get_data(as_text=True)
    with analyst.get(f"/staff/reports/jobs/{token}/file") as pdf:
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    # Someone else's job does not exist for them; nor does a forged token.
    sign_in_as("analyst", "KH-NHATRANG", client=analyst)
    assert analyst.get(f"/staff/reports/jobs/{token}").status_code == 404
    assert analyst.get(f"/staff/reports/jobs/{token}/file").status_code == 404
    assert analyst.get("/staff/reports/jobs/..%2F..%2Fsecret_key").status_code == 404
    refused = analyst.post("/staff/reports/jobs", data={"fmt": "pdf", "unit": "KH-CAMRANH"})
    assert refused.status_code == 403


def test_scope_is_enforced_in_the_service(demo_db, world):
    with demo_db.session() as s:
        user = s.scalar(select(User).where(User.username == "cr_analyst"))
        with pytest.raises(Forbidden):
            selection.resolve(s, user, today=TODAY, unit="KH-NHATRANG")
        staff = s.scalar(select(User).where(User.username == "cr_desk_staff"))
        with pytest.raises(Forbidden):
            selection.resolve(s, staff, today=TODAY, action="results.export")
        assert selection.resolve(s, staff, today=TODAY).unit.code == "KH-CAMRANH"
        sel = selection.resolve(s, user, today=TODAY)
        assert sel.unit.code == "KH-CAMRANH" and (sel.start.isoformat(), sel.end.isoformat()) == (
            "2026-01-01",
            "2026-10-31",
        )
