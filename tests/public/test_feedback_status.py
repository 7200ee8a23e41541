"""A citizen's suggestion or complaint gets a tracking code; /y-kien/<code> shows
what the unit did, and nothing of the citizen's own text or contact."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from survey.models import Comment, FeedbackContact, Response, User
from survey.services import feedback
from tests.support import DESK, answers_of, full_answers

CODE = re.compile(r'href="/y-kien/(PA-[2-9A-HJKMNP-Z]{7})"')


def _late(client, data, **extra):
    return client.post(
        f"/s/{DESK}/y-kien",
        data={"csrf_token": data["csrf_token"], "sid": data["sid"], **extra},
    )


def _answered(client):
    data = full_answers(client)
    assert client.post(f"/s/{DESK}", data=data).status_code == 200
    return data


def test_a_late_complaint_gets_a_code_and_its_page_shows_the_reply(demo_client, demo_db, world):
    data = _answered(demo_client)
    resp = _late(
        demo_client, data, comment_kind="complaint", comment="Chờ hai tiếng, số 0912 345 678"
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Mã theo dõi ý kiến của Ông/Bà" in html
    code = CODE.search(html).group(1)
    with demo_db.session() as s:
        comment = s.scalar(select(Comment).where(Comment.tracking_code == code))
        assert comment.kind == "complaint" and comment.status == "new"
        # Due ten working days later (weekends skipped), in Vietnam's calendar.
        assert (
            comment.due_on.weekday() < 5 and (comment.due_on - comment.created_at.date()).days >= 12
        )
    page = demo_client.get(f"/y-kien/{code}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Đã tiếp nhận, chưa xử lý" in text
    assert "Chờ hai tiếng" not in text and "0912" not in text  # never the citizen's text
    assert re.search(r"\d{2}/\d{2}/\d{4}", text)  # dates as dd/mm/yyyy
    with demo_db.session() as s:
        admin = s.get(User, world.users["admin"])
        feedback.set_reply(s, admin, comment.id, "Đã bố trí thêm một cán bộ buổi sáng.")
    text = demo_client.get(f"/y-kien/{code.lower()}").get_data(as_text=True)  # typed in lower case
    assert "Đã trả lời" in text and "Đã bố trí thêm một cán bộ buổi sáng." in text


def test_a_comment_on_the_form_gets_its_code_on_the_thanks_page(demo_client, demo_db):
    data = dict(full_answers(demo_client), comment="Nên có chỗ để xe", comment_kind="suggestion")
    html = demo_client.post(f"/s/{DESK}", data=data).get_data(as_text=True)
    code = CODE.search(html).group(1)
    assert demo_client.get(f"/y-kien/{code}").status_code == 200
    with demo_db.session() as s:
        r = s.scalar(select(Response).where(Response.submission_id == data["sid"]))
        assert r.comment.tracking_code == code and r.comment.due_on is not None


def test_a_very_low_score_with_a_comment_is_flagged_for_attention(demo_client, demo_db, world):
    data = dict(full_answers(demo_client), comment="Thái độ không tốt")
    item = next(k for k in data if k not in ("csrf_token", "sid", "comment"))
    data[item] = "1"
    demo_client.post(f"/s/{DESK}", data=data)
    with demo_db.session() as s:
        r = s.scalar(select(Response).where(Response.submission_id == data["sid"]))
        assert r.comment.attention is True
        # The unit turns it off: the next one is not flagged.
        feedback.set_low_score_alert(s, s.get(User, world.users["admin"]), r.unit_id, False)
    data = dict(full_answers(demo_client), comment="Vẫn chậm")
    data[item] = "1"
    demo_client.post(f"/s/{DESK}", data=data)
    with demo_db.session() as s:
        r = s.scalar(select(Response).where(Response.submission_id == data["sid"]))
        assert r.comment.attention is False
        assert answers_of(s, r)[item] == 1


def test_a_contact_is_kept_only_with_consent(demo_client, demo_db):
    data = _answered(demo_client)
    refused = _late(demo_client, data, comment="Xin gọi lại", contact="0912 345 678")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Xin đánh dấu ô đồng ý" in html
    assert 'value="0912 345 678"' in html and "Xin gọi lại" in html  # kept for a second try
    bad = _late(demo_client, data, comment="Xin gọi lại", contact="gọi tôi", consent="yes")
    assert bad.status_code == 400 and "Số điện thoại hoặc e-mail không đúng" in bad.get_data(
        as_text=True
    )
    with demo_db.session() as s:
        assert (
            s.scalar(select(Response).where(Response.submission_id == data["sid"])).comment is None
        )
    ok = _late(demo_client, data, comment="Xin gọi lại", contact="0912.345.678", consent="yes")
    assert ok.status_code == 200
    with demo_db.session() as s:
        r = s.scalar(select(Response).where(Response.submission_id == data["sid"]))
        assert s.get(FeedbackContact, r.comment.id).contact == "0912345678"


def test_a_wrong_code_is_a_friendly_404_and_guesses_are_limited(demo_client, demo_db):
    page = demo_client.get("/y-kien/PA-2222222")
    assert page.status_code == 404 and "Không tìm thấy ý kiến có mã này" in page.get_data(
        as_text=True
    )
    assert demo_client.get("/y-kien/<script>").status_code == 404
    statuses = [
        demo_client.get(f"/y-kien/PA-{n:07d}".replace("0", "2").replace("1", "3")).status_code
        for n in range(25)
    ]
    assert statuses[:18] == [404] * 18 and statuses[-1] == 429
    limited = demo_client.get("/y-kien/PA-2345678")
    assert limited.status_code == 429 and "nhập sai mã nhiều lần" in limited.get_data(as_text=True)


def test_the_lookup_form_opens_a_typed_code(demo_client):
    resp = demo_client.get("/y-kien?ma=pa-7kq3m2x")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/y-kien/PA-7KQ3M2X")
    assert demo_client.get("/y-kien?ma=xyz").status_code == 400
    assert demo_client.get("/y-kien").status_code == 200


def test_working_days_skip_the_weekend():
    assert feedback.add_working_days(date(2026, 12, 4), 1) == date(2026, 12, 7)  # Fri -> Mon
    assert feedback.add_working_days(date(2026, 12, 1), 10) == date(2026, 12, 15)


def test_a_contact_can_follow_a_comment_given_on_the_form(demo_client, demo_db):
    data = dict(full_answers(demo_client), comment="Nên mở cửa thứ Bảy")
    html = demo_client.post(f"/s/{DESK}", data=data).get_data(as_text=True)
    assert 'name="contact_only" value="1"' in html and "Tôi đồng ý để" in html
    late = {"csrf_token": data["csrf_token"], "sid": data["sid"], "contact_only": "1"}
    refused = demo_client.post(f"/s/{DESK}/y-kien", data={**late, "contact": "ten@example.vn"})
    assert refused.status_code == 400 and "Xin đánh dấu ô đồng ý" in refused.get_data(as_text=True)
    assert CODE.search(refused.get_data(as_text=True))  # the code stays on the page
    empty = demo_client.post(f"/s/{DESK}/y-kien", data={**late, "consent": "yes"})
    assert empty.status_code == 400 and "Xin nhập số điện thoại hoặc e-mail" in empty.get_data(
        as_text=True
    )
    ok = demo_client.post(
        f"/s/{DESK}/y-kien", data={**late, "contact": "ten@example.vn", "consent": "yes"}
    )
    page = ok.get_data(as_text=True)
    assert ok.status_code == 200 and "Đơn vị sẽ trả lời qua số điện thoại hoặc e-mail" in page
    assert 'name="contact_only"' not in page
    with demo_db.session() as s:
        r = s.scalar(select(Response).where(Response.submission_id == data["sid"]))
        assert r.comment.text == "Nên mở cửa thứ Bảy"  # the comment itself is unchanged
        assert s.get(FeedbackContact, r.comment.id).contact == "ten@example.vn"
