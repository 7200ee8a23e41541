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
    # Nha Trang: Cam Ranh's October is withheld for its small neighbours' sake
    # (test_complementary_suppression_withholds_the_smallest_sibling).
    plant_comment(demo_db, "KH-NHATRANG")
    resp = demo_client.get("/r/KH-NHATRANG")
    assert resp.status_code == 200 and "public" in resp.headers["Cache-Control"]
    html = resp.get_data(as_text=True)
    board = expected(demo_db, "KH-NHATRANG")
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
    html = demo_client.get("/r/kh-nhatrang?lang=en").get_data(as_text=True)
    month = expected(demo_db, "KH-NHATRANG").periods[0]
    assert "October 2026" in html and "Q3 2026" in html
    assert INDEX.findall(html)[0] == fmt.pct(month.overall, "en")
    assert "Access to the service" in html
    assert "Kết quả khảo sát" not in html and "quét mã" not in html


def test_poster_pdf(demo_client, demo_db, tmp_path):
    resp = demo_client.get("/r/KH-NHATRANG/poster.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    path = tmp_path / "poster.pdf"
    path.write_bytes(resp.data)
    text = pdf_text(path)
    month = expected(demo_db, "KH-NHATRANG").periods[0]
    assert "KẾT QUẢ KHẢO SÁT MỨC ĐỘ HÀI LÒNG" in text and "Phường Nha Trang" in text
    assert fmt.pct(month.overall) in text and "Tháng 10/2026" in text
    assert "/r/KH-NHATRANG" in text
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


def _children(db, code: str) -> list[str]:
    with db.session() as s:
        parent = s.scalar(select(Unit.id).where(Unit.code == code))
        return sorted(s.scalars(select(Unit.code).where(Unit.parent_id == parent)))


def test_the_differencing_attack_recovers_no_hidden_unit(demo_client, demo_db):
    """Province minus its published children is the rest: it must hold no
    response, or at least the minimum (complementary suppression)."""
    min_n = 30
    parent = expected(demo_db, "KH", min_n)
    children = {code: expected(demo_db, code, min_n) for code in _children(demo_db, "KH")}
    hidden_small = [c for c, b in children.items() if not b.periods[0].shown]
    assert hidden_small, "the demo has a unit under the minimum: the attack's target"
    attacked = 0
    for i, p in enumerate(parent.periods):
        if not p.shown:
            continue
        shown = [b.periods[i] for b in children.values() if b.periods[i].shown]
        rest = p.n - sum(c.n for c in shown)
        assert rest == 0 or rest >= min_n, (p.kind, rest)
        if rest:
            attacked += 1
            # What the attack computes is now the mean of at least min_n responses.
            derived = (p.overall * p.n - sum(c.overall * c.n for c in shown)) / rest
            assert 0 <= derived <= 1
    assert attacked, "the province is published with a hidden rest"
    # A child withheld for its siblings' sake says so on its page, with no figure.
    protected = [c for c, b in children.items() if any(q.protected for q in b.periods)]
    assert protected
    for code in protected:
        html = demo_client.get(f"/r/{code}").get_data(as_text=True)
        assert "suy ra kết quả của một đơn vị" in html
        shown = [fmt.pct(q.overall) for q in children[code].periods if q.shown]
        assert INDEX.findall(html) == shown and len(shown) < 2


def test_complementary_suppression_withholds_the_smallest_sibling(demo_db):
    from survey.reports.board import published_units

    board = expected(demo_db, "KH")
    month = board.periods[0]
    with demo_db.session() as s:
        ids = dict(s.execute(select(Unit.code, Unit.id)).all())
        shown = published_units(s, month.start, month.end, 30)
        # Without the rule every child with 30 responses would be shown.
        plain = {
            code
            for code in _children(demo_db, "KH")
            if expected(demo_db, code, 30).periods[0].n >= 30
        }
    assert ids["KH"] in shown
    withheld = {code for code in plain if ids[code] not in shown}
    # 6 + 6 + 7 responses hidden in October: the smallest shown ward goes too.
    assert withheld == {"KH-CAMRANH"}
    assert expected(demo_db, "KH-CAMRANH").periods[0].protected


def test_the_results_poster_qr_opens_the_desks_survey(demo_client, demo_db, monkeypatch, tmp_path):
    """Citizens scan a poster to rate: its big code opens the desk's survey, the
    small one, labelled, the results page."""
    drawn = []
    monkeypatch.setattr(
        "survey.reports.board.draw_qr", lambda c, url, x, y, side: drawn.append((url, side))
    )
    with demo_db.session() as s:
        unit = s.scalar(select(Unit).where(Unit.code == "KH-NHATRANG"))
        desk = s.scalar(
            select(Desk).where(Desk.unit_id == unit.id, Desk.active.is_(True)).order_by(Desk.id)
        )
        code, name = desk.code, desk.name
    resp = demo_client.get(f"/r/KH-NHATRANG/poster.pdf?d={code.lower()}")
    assert resp.status_code == 200
    (survey_url, big), (board_url, small) = drawn
    assert survey_url.endswith(f"/s/{code}") and board_url.endswith("/r/KH-NHATRANG")
    assert big > small
    path = tmp_path / "desk.pdf"
    path.write_bytes(resp.data)
    text = pdf_text(path)
    assert "Đánh giá" in text and "Kết quả" in text and name.split()[0] in text
    assert "kiến nghị, phản ánh" in text  # the quarter's feedback, as on the page
    # A unit of one desk needs no ?d=; a unit of several without it gets the
    # results code only; a desk of another unit is not this poster's.
    drawn.clear()
    demo_client.get("/r/KH-DIENKHANH/poster.pdf")
    assert [u.rsplit("/", 2)[-2] for u, _ in drawn] == ["s", "r"]
    drawn.clear()
    demo_client.get("/r/KH-NHATRANG/poster.pdf")
    assert [u.rsplit("/", 2)[-2] for u, _ in drawn] == ["r"]
    assert demo_client.get(f"/r/KH-CAMRANH/poster.pdf?d={code}").status_code == 404


def test_the_board_tells_what_was_done_without_the_citizens_text(demo_client, demo_db):
    from datetime import datetime

    from survey.models import Comment, Response

    with demo_db.session() as s:
        unit = s.scalar(select(Unit).where(Unit.code == "KH-DIENKHANH"))
        resp = s.scalar(
            select(Response).where(Response.unit_id == unit.id, ~Response.comment.has()).limit(1)
        )
        s.add(
            Comment(
                response_id=resp.id,
                text="Chị Lan ở quầy 2 quát tôi",
                kind="complaint",
                created_at=datetime(2026, 8, 3, 2),
                due_on=date(2026, 8, 17),
                public_reply="Đơn vị đã nhắc nhở cán bộ và bổ sung bảng hướng dẫn.",
                replied_at=datetime(2026, 8, 10, 2),
                status="answered",
            )
        )
    html = demo_client.get("/r/KH").get_data(as_text=True)
    assert "Ý kiến của Ông/Bà — Việc chúng tôi đã làm" in html
    assert "Đơn vị đã nhắc nhở cán bộ và bổ sung bảng hướng dẫn." in html
    assert "Chị Lan" not in html and "Trả lời đúng hạn: " in html
    assert "/y-kien" in html


def test_the_board_shows_six_months_and_the_verdict(demo_client, demo_db):
    html = demo_client.get("/r/KH-TTHCC").get_data(as_text=True)
    assert "Chỉ số hài lòng chung 6 tháng gần nhất" in html
    months = re.findall(r"<tr><td>(Tháng \d+/2026)</td>", html)
    assert months == [f"Tháng {m}/2026" for m in range(5, 11)]
    board = expected(demo_db, "KH-TTHCC")
    quarter = board.periods[1]
    assert quarter.target is not None
    verdict = re.search(r'<p class="verdict">([^<]+)</p>', html).group(1)
    assert verdict.split(" — ")[0] in ("Đạt", "Không đạt", "Chưa đủ căn cứ")
    # A small unit's months are withheld in the trend too.
    small = demo_client.get("/r/KH-VPUB").get_data(as_text=True)
    assert re.findall(r'<td class="num">([^<]+)</td>', small) == ["–"] * 6


def test_a_quarter_does_not_give_away_its_hidden_month():
    from survey.reports.board import BoardPeriod, _protect_quarter

    quarter = BoardPeriod("quarter", date(2026, 7, 1), date(2026, 9, 30), 3, 100, shown=True)
    trend = [
        [date(2026, 6, 1), 0.9, 50],
        [date(2026, 7, 1), 0.8, 40],
        [date(2026, 8, 1), 0.85, 45],
        [date(2026, 9, 1), None, 15],  # hidden: 15 responses
    ]
    _protect_quarter(trend, quarter, 30)
    # Quarter minus July and August would be September: July (the smaller) goes too.
    assert [row[1] is None for row in trend] == [False, True, False, True]
