"""The sector question: a desk's only sector is every QR response's, a desk
serving several asks which one, a case link keeps the sector it was made for."""

import re

import pytest
from sqlalchemy import select

from survey.models import Response, Sector
from survey.services import links
from survey.services.demo import demo_code
from tests.support import DESK, counts, full_answers

MULTI = demo_code("cr-2")  # KH-CAMRANH: Đất đai and Xây dựng
QUESTION = "Ông/Bà vừa làm thủ tục thuộc lĩnh vực nào?"


def _stored(db, sid) -> Response:
    with db.session() as s:
        return s.scalar(select(Response).where(Response.submission_id == sid))


def _sector_id(db, code) -> int:
    with db.session() as s:
        return s.scalar(select(Sector.id).where(Sector.code == code))


def test_single_sector_desk_asks_nothing_and_stores_its_sector(demo_client, demo_db):
    html = demo_client.get(f"/s/{DESK}?moi=1", follow_redirects=True).get_data(as_text=True)
    assert QUESTION not in html and 'name="sector"' not in html
    data = full_answers(demo_client, DESK)
    assert demo_client.post(f"/s/{DESK}", data=data).status_code == 200
    assert _stored(demo_db, data["sid"]).sector_id == _sector_id(demo_db, "DAT_DAI")


def test_multi_sector_desk_asks_first_with_one_tap_choices(demo_client):
    html = demo_client.get(f"/s/{MULTI}?moi=1", follow_redirects=True).get_data(as_text=True)
    assert QUESTION in html
    # First on the page: before the first rating question.
    assert html.index(QUESTION) < html.index('class="s"')
    choices = re.findall(r'name="sector" value="([^"]+)"><span>([^<]+)</span>', html)
    assert choices == [("DAT_DAI", "Đất đai"), ("XAY_DUNG", "Xây dựng"), ("unknown", "Không rõ")]
    assert 'type="radio" name="sector"' in html
    english = demo_client.get(f"/s/{MULTI}?moi=1&lang=en", follow_redirects=True).get_data(
        as_text=True
    )
    assert ">Land</span>" in english and ">Construction</span>" in english


@pytest.mark.parametrize(
    ("answer", "stored"), [("XAY_DUNG", "XAY_DUNG"), ("unknown", None), (None, None)]
)
def test_multi_sector_desk_stores_the_answer(demo_client, demo_db, answer, stored):
    data = full_answers(demo_client, MULTI)
    if answer is not None:  # None: skipped, which must not block the citizen
        data["sector"] = answer
    resp = demo_client.post(f"/s/{MULTI}", data=data)
    assert resp.status_code == 200 and "Cảm ơn" in resp.get_data(as_text=True)
    expected = _sector_id(demo_db, stored) if stored else None
    assert _stored(demo_db, data["sid"]).sector_id == expected


@pytest.mark.parametrize("bad", ["HO_TICH", "NOPE", "dat_dai"])
def test_foreign_sector_rerenders_with_answers_kept(demo_client, demo_db, bad):
    before = counts(demo_db)
    data = full_answers(demo_client, MULTI, value="2")
    data["sector"] = bad
    resp = demo_client.post(f"/s/{MULTI}", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert f"Câu “{QUESTION}”: lựa chọn không hợp lệ" in html
    assert 'id="q-sector"' in html and "has-err" in html
    assert html.count('value="2" checked') == len([k for k in data if re.match(r"[A-Z]{2}", k)])
    assert counts(demo_db) == before


def test_two_sector_answers_are_refused(demo_client, demo_db):
    before = counts(demo_db)
    data = full_answers(demo_client, MULTI)
    resp = demo_client.post(f"/s/{MULTI}", data={**data, "sector": ["DAT_DAI", "XAY_DUNG"]})
    assert resp.status_code == 400 and QUESTION in resp.get_data(as_text=True)
    assert counts(demo_db) == before


def test_sector_posted_to_a_single_sector_desk_is_ignored(demo_client, demo_db):
    # A form opened while the desk served several sectors, sent after staff
    # left it one: the desk's sector wins and the citizen is not blocked.
    data = dict(full_answers(demo_client, DESK), sector="XAY_DUNG")
    assert demo_client.post(f"/s/{DESK}", data=data).status_code == 200
    assert _stored(demo_db, data["sid"]).sector_id == _sector_id(demo_db, "DAT_DAI")


@pytest.fixture
def link_path(demo_db):
    with demo_db.session() as s:
        _row, key = links.create_api_key(s, "KH-CAMRANH", "one-stop software")

    def make(client, **body):
        body = {"desk": MULTI, "case_number": "000.00.23.H42-261122-0042", **body}
        resp = client.post(
            "/api/v1/survey-links", json=body, headers={"Authorization": f"Bearer {key}"}
        )
        assert resp.status_code == 201, resp.get_data(as_text=True)
        return resp.get_json()["url"].split("127.0.0.1:5000", 1)[1]

    return make


def _answer_link(client, path, **extra):
    html = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    sid = re.search(r'name="sid" value="([^"]+)"', html).group(1)
    items = set(re.findall(r'name="([A-Z]{2}\d*)" value="', html))
    resp = client.post(
        path, data={"csrf_token": token, "sid": sid, **dict.fromkeys(items, "5"), **extra}
    )
    return html, resp, sid


def test_case_link_keeps_its_sector_and_never_asks(demo_client, demo_db, link_path):
    path = link_path(demo_client, sector="XAY_DUNG")
    html, resp, sid = _answer_link(demo_client, path, sector="DAT_DAI")
    assert QUESTION not in html
    assert resp.status_code == 200 and "Cảm ơn" in resp.get_data(as_text=True)
    stored = _stored(demo_db, sid)
    assert stored.channel == "link" and stored.sector_id == _sector_id(demo_db, "XAY_DUNG")
