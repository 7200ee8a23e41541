"""A citizen's answer is never dropped while being thanked (issue 16, points 1, 2, 4, 5).

After a submission the desk's URL shows "Ông/Bà đã gửi đánh giá lúc 14:27" and one
button for a new evaluation, never a form that could not be stored; every POST
ends in a redirect to a GET thanks page; a form sent back names the missing
questions by number with links; the language switch inside the form keeps the
answers.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from survey.models import Comment, Desk, Response
from tests.support import DESK, answers_of, counts, form_of, full_answers

SID = re.compile(r'name="sid" value="([^"]+)"')


def _comments(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Comment))


def test_after_a_submission_the_desk_page_has_no_form_but_says_when(demo_client, demo_db):
    data = full_answers(demo_client)
    assert demo_client.post(f"/s/{DESK}", data=data).status_code == 200
    page = demo_client.get(f"/s/{DESK}")  # the same browser, minutes later
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and not SID.search(html) and "<form" not in html
    now = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert "Ông/Bà đã gửi đánh giá lúc" in html
    # Vietnam time, to the minute (the request and this line may straddle one).
    assert any(f"lúc {t:%H:%M}" in html for t in (now, now.replace(minute=(now.minute - 1) % 60)))
    assert "Đánh giá lượt giao dịch mới" in html


def test_a_second_case_at_the_same_desk_is_stored_with_its_comment(demo_client, demo_db):
    first = full_answers(demo_client)
    demo_client.post(f"/s/{DESK}", data=first)
    before, comments = counts(demo_db), _comments(demo_db)
    # The button on the "đã gửi" page: a fresh id, then the plain desk URL.
    new = demo_client.get(f"/s/{DESK}?moi=1")
    assert new.status_code == 303 and new.headers["Location"].endswith(f"/s/{DESK}")
    second = full_answers(demo_client, value="2")
    assert second["sid"] != first["sid"]
    second["comment"] = "Lần này phải chờ lâu."
    thanks = demo_client.post(f"/s/{DESK}", data=second)
    assert "Cảm ơn" in thanks.get_data(as_text=True)
    assert counts(demo_db)[0] == before[0] + 1 and _comments(demo_db) == comments + 1
    with demo_db.session() as s:
        row = s.scalar(select(Response).where(Response.submission_id == second["sid"]))
        assert {v for v in answers_of(s, row).values() if v is not None} == {2}


def test_a_post_with_a_stored_id_is_not_thanked_and_stores_nothing(demo_client, demo_db):
    data = full_answers(demo_client)
    demo_client.post(f"/s/{DESK}", data=data)
    before, comments = counts(demo_db), _comments(demo_db)
    # A cached copy of the old form, other answers and a comment: not stored, so
    # the page must not say "Cảm ơn … đã được ghi nhận".
    other = {**data, **{k: "1" for k in data if k not in ("csrf_token", "sid")}}
    other["comment"] = "Một góp ý mới"
    resp = demo_client.post(f"/s/{DESK}", data=other)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Ông/Bà đã gửi đánh giá lúc" in html and "Cảm ơn" not in html
    assert "không thay đổi câu trả lời đã gửi" in html
    assert counts(demo_db) == before and _comments(demo_db) == comments


def test_every_post_ends_in_a_redirect_to_a_get_thanks_page(demo_client, demo_db):
    data = full_answers(demo_client)
    resp = demo_client.post(f"/s/{DESK}", data=data, follow_redirects=False)
    assert resp.status_code == 303
    thanks_url = resp.headers["Location"]
    assert thanks_url.endswith(f"/s/{DESK}/cam-on")
    page = demo_client.get(thanks_url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    with demo_db.session() as s:
        desk = s.scalar(select(Desk).where(Desk.code == DESK))
        unit_name = desk.unit.name
    assert unit_name in html and 'name="lang" value="en"' in html
    # The late comment, too: POST, then the same GET page, now without the form.
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    resp = demo_client.post(
        f"/s/{DESK}/y-kien",
        data={"csrf_token": token, "sid": data["sid"], "comment": "Cần thêm ghế chờ."},
        follow_redirects=False,
    )
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/s/{DESK}/cam-on")
    after = demo_client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "sẽ được chuyển đến bộ phận phụ trách" in after and 'name="comment"' not in after
    assert re.search(r'href="/y-kien/PA-[2-9A-Z]{7}"', after)  # its tracking code instead


def test_the_thanks_page_thanks_only_for_a_stored_answer(demo_app, demo_db):
    stranger = demo_app.test_client()
    resp = stranger.get(f"/s/{DESK}/cam-on")
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/s/{DESK}")


def test_a_missing_answer_is_named_by_number_with_a_link(demo_client, demo_db):
    data = full_answers(demo_client)
    _base, items, _na = form_of(demo_client)  # the items in page order: câu 1, câu 2, …
    numbers = {code: k for k, code in enumerate(items, start=1)}
    data = {**data, "sid": _base["sid"]}
    left_out = [code for code, n in numbers.items() if n in (2, len(numbers))]
    for code in left_out:
        data.pop(code)
    before = counts(demo_db)
    resp = demo_client.post(f"/s/{DESK}", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Còn 2 câu chưa trả lời:" in html
    links = re.findall(r'<a href="#q-([A-Z]{2}\d*)"( autofocus)?>câu (\d+)</a>', html)
    assert [(code, int(n)) for code, _f, n in links] == [(c, numbers[c]) for c in left_out]
    assert links[0][1] == " autofocus"  # reached by focus without any script
    for code in left_out:  # each link's target exists and says what is wrong
        assert re.search(rf'id="q-{code}"', html)
    assert counts(demo_db) == before


def test_the_session_expired_message_is_beside_the_button_too(demo_client, demo_db):
    data = full_answers(demo_client)
    data["csrf_token"] = "expired"
    html = demo_client.post(f"/s/{DESK}", data=data).get_data(as_text=True)
    message = "Phiên làm việc đã hết hạn"
    assert html.count(message) == 2
    top, bottom = html.index(message), html.rindex(message)
    assert top < html.index("<form") and bottom > html.index('name="website"')
    assert bottom < html.index('class="submit"')


def test_switching_language_in_the_form_keeps_every_answer(demo_client, demo_db):
    base, items, _na = form_of(demo_client)
    answers = {item: str(1 + k % 5) for k, item in enumerate(items[:5])}
    before = counts(demo_db)
    resp = demo_client.post(
        f"/s/{DESK}", data={**base, **answers, "comment": "Giữ nguyên", "lang": "en"}
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Submit" in html or "Send" in html
    assert 'lang="en"' in html and "Còn" not in html  # no errors for the unanswered rest
    for item, value in answers.items():
        assert re.search(rf'name="{item}" value="{value}" checked', html), item
    assert ">Giữ nguyên</textarea>" in html
    assert SID.search(html).group(1) == base["sid"]  # the same evaluation
    assert counts(demo_db) == before
    assert "lang=en" in resp.headers.get("Set-Cookie", "")
    # ...and back, through the button the English page offers.
    back = demo_client.post(f"/s/{DESK}", data={**base, **answers, "lang": "vi"})
    assert "Gửi đánh giá" in back.get_data(as_text=True)


def test_a_case_link_is_not_blocked_by_a_qr_answer_at_the_same_desk(demo_client, demo_db):
    """The "đã gửi" state is per desk for QR codes and per case for links."""
    from survey.services import links

    with demo_db.session() as s:
        _row, key = links.create_api_key(s, "KH-TTHCC", "one-stop software")
    demo_client.post(f"/s/{DESK}", data=full_answers(demo_client))
    made = demo_client.post(
        "/api/v1/survey-links",
        json={"desk": DESK, "case_number": "000.00.23.H42-261201-0042"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    path = made.get_json()["url"].split("127.0.0.1:5000", 1)[1]
    assert SID.search(demo_client.get(path).get_data(as_text=True))
