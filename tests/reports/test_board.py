"""Public results board /r/<unit code>: aggregates only, small selections hidden, 404s."""

from __future__ import annotations

import re
from datetime import date

from babel.messages.pofile import read_po
from sqlalchemy import select

from survey.models import Desk, Unit
from survey.reports import fmt
from survey.reports.board import Board, public_board
from tests.support import PLANTED, TODAY, make_app, pdf_text, plant_comment
from tests.test_i18n import TRANSLATIONS

INDEX = re.compile(r'<p class="index">([^<]+)</p>')


def expected(db, code: str, min_n: int = 30) -> Board:
    with db.session() as s:
        return public_board(s, code, today=TODAY, min_n=min_n)


def test_board_shows_the_latest_month_and_quarter(demo_client, demo_db):
    plant_comment(demo_db)
    resp = demo_client.get("/r/KH-CAMRANH")
    assert resp.status_code == 200 and "public" in resp.headers["Cache-Control"]
    html = resp.get_data(as_text=True)
    board = expected(demo_db, "KH-CAMRANH")
    month, quarter = board.periods
    assert (month.start, month.end) == (date(2026, 10, 1), date(2026, 10, 31))
    assert (quarter.start, quarter.end) == (date(2026, 7, 1), date(2026, 9, 30))
    assert month.shown and quarter.shown
    assert "Tháng 10/2026" in html and "Quý III/2026" in html
    assert INDEX.findall(html) == [fmt.pct(month.overall), fmt.pct(quarter.overall)]
    assert f"Dựa trên {month.n} phiếu đánh giá" in html
    assert "Tiếp cận dịch vụ" in html and "Tiếp nhận và xử lý thông tin phản hồi" in html
    assert "quét mã QR" in html
    # Only aggregates: no desk codes, no comments, no sign-in needed.
    with demo_db.session() as s:
        codes = s.scalars(select(Desk.code)).all()
    assert not any(code in html for code in codes)
    assert "HYPERLINK" not in html and PLANTED not in html
    assert "style=" not in html and "<script" not in html


def test_board_hides_selections_under_the_minimum(demo_client, demo_db, demo_db_url):
    html = demo_client.get("/r/KH-VPUB").get_data(as_text=True)  # about 6 responses a month
    assert "Chưa đủ 30 phiếu đánh giá để công bố kết quả" in html
    assert not INDEX.search(html) and "Tiếp cận dịch vụ" not in html
    board = expected(demo_db, "KH-VPUB")
    assert all(not p.shown and p.overall is None and p.criteria == [] for p in board.periods)
    strict = make_app(demo_db_url, PUBLIC_MIN_RESPONSES=1000)
    try:
        page = strict.test_client().get("/r/KH-CAMRANH").get_data(as_text=True)
        assert "Chưa đủ 1.000 phiếu" in page or "Chưa đủ 1000 phiếu" in page
        assert not INDEX.search(page)
    finally:
        strict.extensions["survey.db"].dispose()


def test_unknown_unit_is_a_friendly_404(demo_client):
    for path in ("/r/NOPE", "/r/" + "X" * 200, "/r/NOPE/poster.pdf"):
        resp = demo_client.get(path)
        assert resp.status_code == 404, path
        assert "Không tìm thấy đơn vị" in resp.get_data(as_text=True)


def test_board_in_english(demo_client, demo_db):
    html = demo_client.get("/r/kh-camranh?lang=en").get_data(as_text=True)
    month = expected(demo_db, "KH-CAMRANH").periods[0]
    assert "October 2026" in html and "Q3 2026" in html
    assert INDEX.findall(html)[0] == fmt.pct(month.overall, "en")
    assert "Access to the service" in html
    assert "Kết quả khảo sát" not in html and "quét mã" not in html


def test_poster_pdf(demo_client, demo_db, tmp_path):
    resp = demo_client.get("/r/KH-CAMRANH/poster.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    path = tmp_path / "poster.pdf"
    path.write_bytes(resp.data)
    text = pdf_text(path)
    month = expected(demo_db, "KH-CAMRANH").periods[0]
    assert "KẾT QUẢ KHẢO SÁT MỨC ĐỘ HÀI LÒNG" in text and "Phường Cam Ranh" in text
    assert fmt.pct(month.overall) in text and "Tháng 10/2026" in text
    assert "/r/KH-CAMRANH" in text
    small = tmp_path / "small.pdf"
    small.write_bytes(demo_client.get("/r/KH-VPUB/poster.pdf").data)
    assert "%" not in pdf_text(small).split("Chưa đủ")[0].split("2026")[-1]
    assert "Chưa đủ 30 phiếu" in pdf_text(small)


def test_thanks_page_link_reaches_the_board(demo_client, demo_db):
    with demo_db.session() as s:
        code = s.scalar(select(Unit.code).where(Unit.code == "KH-CAMRANH"))
    assert demo_client.get(f"/r/{code}").status_code == 200


def test_board_texts_have_english_translations():
    with open(TRANSLATIONS / "messages.pot", "rb") as fh:
        template = read_po(fh)
    with open(TRANSLATIONS / "en/LC_MESSAGES/messages.po", "rb") as fh:
        english = {m.id: m.string for m in read_po(fh)}
    sources = ("templates/reports/board", "survey/public/board.py", "survey/reports/board.py")
    ids = {
        m.id for m in template if m.id and any(loc.startswith(sources) for loc, _ in m.locations)
    }
    assert ids and sorted(i for i in ids if not english.get(i)) == []
