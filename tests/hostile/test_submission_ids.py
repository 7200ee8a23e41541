"""Reflected markup on the survey page, and submission ids bound to one browser.

An attacker can fetch a survey form (and so a valid submission id) like anyone
else, then make victims' browsers POST it from another site. None of that may
render the attacker's markup, store an answer, or reuse the harvested id.
"""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import func, select

from survey.models import Comment, Response
from survey.public import open_forms
from survey.services import submission
from tests.support import DESK, TEST_SECRET, counts, form_of, full_answers

META = '<meta http-equiv="refresh" content="0;url=https://evil.example/">'


def _sid_of(html: str) -> str:
    return re.search(r'name="sid" value="([^"]+)"', html).group(1)


def test_a_cross_site_post_with_markup_field_names_renders_no_markup(demo_app, demo_db):
    harvested = form_of(demo_app.test_client())[0]["sid"]  # the attacker's own form
    victim = demo_app.test_client()  # no cookie, no CSRF token, as from another site
    before = counts(demo_db)
    resp = victim.post(
        f"/s/{DESK}",
        data={"sid": harvested, META: "1", "<b>bold</b>": "x"},
        headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "<meta http-equiv" not in html and "evil.example" not in html
    assert "<b>bold</b>" not in html
    assert counts(demo_db) == before


@pytest.mark.parametrize("cross_site", [True, False])
def test_unknown_field_names_are_never_echoed(demo_client, demo_db, cross_site):
    data = full_answers(demo_client)
    data[META] = "1"
    headers = {"Sec-Fetch-Site": "cross-site"} if cross_site else {}
    resp = demo_client.post(f"/s/{DESK}", data=data, headers=headers)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "<meta http-equiv" not in html and "evil.example" not in html
    assert "Phiếu có trường không hợp lệ." in html or "Phiên làm việc" in html


def test_a_harvested_id_cannot_serve_another_browser(demo_app, demo_db):
    attacker = demo_app.test_client()
    harvested = form_of(attacker)[0]["sid"]
    victim = demo_app.test_client()
    data = full_answers(victim)  # the victim's own session and CSRF token
    data["sid"] = harvested
    before = counts(demo_db)
    resp = victim.post(f"/s/{DESK}", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Phiên làm việc đã hết hạn" in html
    assert counts(demo_db) == before
    # The form comes back with a fresh id of the victim's own, which stores once.
    fresh = _sid_of(html)
    assert fresh != harvested
    assert victim.post(f"/s/{DESK}", data={**data, "sid": fresh}).status_code == 200
    with demo_db.session() as s:
        assert s.scalar(select(func.count()).where(Response.submission_id == harvested)) == 0
        assert s.scalar(select(func.count()).where(Response.submission_id == fresh)) == 1
    # ...and the attacker's browser can still use its own id.
    assert attacker.post(f"/s/{DESK}", data={**full_answers(attacker)}).status_code == 200


def test_answers_from_another_site_are_not_prefilled(demo_app, demo_db):
    harvested = form_of(demo_app.test_client())[0]["sid"]
    victim = demo_app.test_client()
    data = full_answers(victim)
    data.update(sid=harvested)
    resp = victim.post(f"/s/{DESK}", data=data, headers={"Sec-Fetch-Site": "cross-site"})
    # Only the form's own defaults ("Không áp dụng" on result items) may be checked.
    answered = re.compile(r'value="[1-5]" checked')
    assert resp.status_code == 400
    assert not answered.search(resp.get_data(as_text=True))
    # Same site (a lost session): the citizen's answers are kept.
    resp = victim.post(f"/s/{DESK}", data=data, headers={"Sec-Fetch-Site": "same-origin"})
    assert resp.status_code == 400 and answered.search(resp.get_data(as_text=True))


def _binding(client) -> str:
    with client.session_transaction() as sess:
        return sess[open_forms.BINDING_KEY]


def test_an_id_older_than_its_lifetime_is_replaced_and_the_answers_kept(demo_client, demo_db):
    data = full_answers(demo_client)
    old = time.time() - submission.SID_LIFETIME.total_seconds() - 60
    data["sid"] = submission.issue_submission_id(TEST_SECRET, _binding(demo_client), now=old)
    before = counts(demo_db)
    resp = demo_client.post(f"/s/{DESK}", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Phiếu đã mở quá 24 giờ" in html and "checked" in html
    assert counts(demo_db) == before
    assert demo_client.post(f"/s/{DESK}", data={**data, "sid": _sid_of(html)}).status_code == 200
    assert counts(demo_db)[0] == before[0] + 1


def test_a_stale_remembered_id_is_not_handed_out_again(demo_client):
    stale = submission.issue_submission_id(TEST_SECRET, "another-browser")
    with demo_client.session_transaction() as sess:
        sess[open_forms.KEY] = {DESK: {"sid": stale, "done": False, "at": int(time.time())}}
    html = demo_client.get(f"/s/{DESK}").get_data(as_text=True)
    assert _sid_of(html) != stale


def test_only_the_answering_browser_adds_the_late_comment(demo_app, demo_client, demo_db):
    data = full_answers(demo_client)
    assert demo_client.post(f"/s/{DESK}", data=data).status_code == 200
    other = demo_app.test_client()
    token = form_of(other)[0]["csrf_token"]
    resp = other.post(
        f"/s/{DESK}/y-kien", data={"sid": data["sid"], "csrf_token": token, "comment": "Giả mạo"}
    )
    assert resp.status_code == 400
    with demo_db.session() as s:
        response_id = s.scalar(select(Response.id).where(Response.submission_id == data["sid"]))
        assert s.scalar(select(func.count()).where(Comment.response_id == response_id)) == 0


def test_a_replay_after_the_session_was_lost_says_it_was_sent_and_stores_nothing(demo_app, demo_db):
    citizen = demo_app.test_client()
    data = full_answers(citizen)
    assert citizen.post(f"/s/{DESK}", data=data).status_code == 200
    after = counts(demo_db)
    citizen.delete_cookie("session")  # e.g. the in-app browser dropped its cookies
    resp = citizen.post(f"/s/{DESK}", data=data)
    assert resp.status_code == 200
    assert "Ông/Bà đã gửi đánh giá lúc" in resp.get_data(as_text=True)
    assert counts(demo_db) == after
