"""The desk survey page as served from the demo data."""

from sqlalchemy import select

from survey.models import Desk


def _desk(db, active=True):
    with db.session() as s:
        return s.scalar(select(Desk).where(Desk.active.is_(active)).order_by(Desk.id))


def test_demo_desk_page_answers_200_in_vietnamese(demo_client, demo_db):
    desk = _desk(demo_db)
    resp = demo_client.get(f"/s/{desk.code}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert desk.name in html
    assert "Rất hài lòng" in html and 'lang="vi"' in html


def test_code_is_case_insensitive(demo_client, demo_db):
    desk = _desk(demo_db)
    assert demo_client.get(f"/s/{desk.code.lower()}").status_code == 200


def test_unknown_desk_code_gets_friendly_404(demo_client):
    resp = demo_client.get("/s/NOSUCHXX")
    assert resp.status_code == 404
    assert "Không tìm thấy trang" in resp.get_data(as_text=True)


def test_inactive_desk_says_so(demo_client, demo_db):
    desk = _desk(demo_db, active=False)
    resp = demo_client.get(f"/s/{desk.code}")
    assert resp.status_code == 410
    assert "không nhận đánh giá" in resp.get_data(as_text=True)


def test_health(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_database_outage_gives_503_with_retry_after(tmp_path):
    from tests.support import make_app

    app = make_app(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    resp = app.test_client().get("/s/ABCDEFGH")
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "5"
    assert "thử lại" in resp.get_data(as_text=True)
    app.extensions["survey.db"].dispose()
