"""Bad input: 4xx, answers kept, a Vietnamese message at each faulty question, nothing stored."""

import re

import pytest

from tests.support import DESK, counts, full_answers


def _errors(html):
    return re.findall(r'<fieldset class="item has-err" id="q-([A-Z]+\d*)">', html)


@pytest.mark.parametrize("bad", ["6", "0", "-1", "4.5", "abc", "NA"])
def test_value_outside_scale(demo_client, demo_db, bad):
    data = full_answers(demo_client)
    data["TC1"] = bad  # TC1 does not allow N/A
    data["DK1"] = "5"
    before = counts(demo_db)
    resp = demo_client.post(f"/s/{DESK}", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert _errors(html) == ["TC1"]
    assert "chỉ chọn từ 1 đến 5" in html
    # The other answers are kept, checked as the citizen left them.
    assert 'name="DK1" value="5" checked' in html
    assert counts(demo_db) == before


def test_missing_required_answer(demo_client, demo_db):
    data = full_answers(demo_client)
    del data["CC1"], data["HL"]
    before = counts(demo_db)
    resp = demo_client.post(f"/s/{DESK}", data=data)
    assert resp.status_code == 400
    assert _errors(resp.get_data(as_text=True)) == ["CC1", "HL"]
    assert "Xin chọn một mức đánh giá" in resp.get_data(as_text=True)
    assert counts(demo_db) == before


def test_unknown_field(demo_client, demo_db):
    data = full_answers(demo_client)
    data["XX9"] = "5"
    before = counts(demo_db)
    resp = demo_client.post(f"/s/{DESK}", data=data)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "Phiếu có trường không hợp lệ." in html
    assert "XX9" not in html  # field names are request data: never echoed
    assert counts(demo_db) == before


def test_over_long_comment_is_refused_and_kept(demo_client, demo_db):
    data = full_answers(demo_client)
    data["comment"] = "ý" * 2001
    before = counts(demo_db)
    resp = demo_client.post(f"/s/{DESK}", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Ý kiến quá dài (2001 ký tự)" in html
    assert "ý" * 2001 in html
    assert counts(demo_db) == before


def test_wrong_csrf_token_keeps_answers(demo_client, demo_db):
    data = full_answers(demo_client, value="2")
    data["csrf_token"] = "forged"
    before = counts(demo_db)
    resp = demo_client.post(f"/s/{DESK}", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Phiên làm việc đã hết hạn" in html
    assert 'name="TC1" value="2" checked' in html
    assert counts(demo_db) == before


def test_oversized_body_gets_413(demo_client, demo_db):
    data = full_answers(demo_client)
    data["comment"] = "x" * 100_000
    before = counts(demo_db)
    assert demo_client.post(f"/s/{DESK}", data=data).status_code == 413
    assert counts(demo_db) == before


def test_unknown_and_inactive_desks(demo_client):
    assert demo_client.post("/s/NOSUCH22", data={}).status_code == 404
