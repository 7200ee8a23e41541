"""Submitting the survey: stored once, never lost, never duplicated."""

import threading

from sqlalchemy import select

from survey.models import Response
from survey.services import submission
from survey.services.form_check import check_form
from survey.services.questionnaires import definition, for_desk
from tests.support import (
    DESK,
    SHORT_DESK,
    STANDARD_DESK,
    answers_of,
    counts,
    form_of,
    full_answers,
)


def test_submit_once_is_stored_with_all_answers(demo_client, demo_db):
    before = counts(demo_db)
    data = full_answers(demo_client)
    resp = demo_client.post(f"/s/{DESK}", data=data)
    assert resp.status_code == 200
    assert "Cảm ơn" in resp.get_data(as_text=True)
    n_items = len([k for k in data if k not in ("csrf_token", "sid")])
    assert counts(demo_db) == (before[0] + 1, before[1] + n_items)
    with demo_db.session() as s:
        r = s.scalar(select(Response).where(Response.submission_id == data["sid"]))
        assert r.quality_flags == "" and r.channel == "qr"
        assert answers_of(s, r) == {k: 4 for k in data if k not in ("csrf_token", "sid")}


def test_a_replay_stores_nothing_and_is_not_thanked(demo_client, demo_db):
    data = full_answers(demo_client)
    first = demo_client.post(f"/s/{DESK}", data=data)
    after_first = counts(demo_db)
    again = demo_client.post(f"/s/{DESK}", data=data)
    changed = dict(data, TC1="1")  # back, change an answer, resubmit
    third = demo_client.post(f"/s/{DESK}", data=changed)
    assert first.status_code == again.status_code == third.status_code == 200
    assert "Cảm ơn" in first.get_data(as_text=True)
    for replay in (again, third):  # what it stores is nothing: it says when the first was sent
        html = replay.get_data(as_text=True)
        assert "Ông/Bà đã gửi đánh giá lúc" in html and "Cảm ơn" not in html
    assert counts(demo_db) == after_first


def test_na_is_stored_as_null_and_short_form_works(demo_client, demo_db):
    base, items, na_items = form_of(demo_client, SHORT_DESK)
    data = {**base, **{i: ("NA" if i in na_items else "5") for i in items}}
    assert demo_client.post(f"/s/{SHORT_DESK}", data=data).status_code == 200
    with demo_db.session() as s:
        r = s.scalar(select(Response).where(Response.submission_id == data["sid"]))
        values = answers_of(s, r)
    assert len(values) == 7
    assert all(values[i] is None for i in na_items) and values["HL"] == 5


def test_concurrent_copies_store_one_response(demo_app, demo_db):
    """Two copies racing through the service: the unique constraint decides."""
    client = demo_app.test_client()
    data = full_answers(client)
    results, errors = [], []
    barrier = threading.Barrier(4)

    def post():
        try:
            with demo_app.test_request_context():
                session = demo_db.sessionmaker()
                from survey.models import Desk

                desk = session.scalar(select(Desk).where(Desk.code == DESK))
                version = for_desk(session, desk)
                from werkzeug.datastructures import MultiDict

                checked = check_form(MultiDict(data), definition(version))
                ctx = submission.Context(
                    desk_id=desk.id,
                    unit_id=desk.unit_id,
                    questionnaire_version_id=version.id,
                    submission_id=data["sid"],
                )
                barrier.wait()
                results.append(submission.store(session, ctx, checked, "k" * 32, "UTC"))
                session.close()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.created for r in results) == [False, False, False, True]
    assert len({r.response_id for r in results}) == 1
    with demo_db.session() as s:
        stored = s.scalars(select(Response).where(Response.submission_id == data["sid"])).all()
    assert len(stored) == 1


def test_concurrent_http_double_submit(demo_app, demo_db):
    """Double tap: two HTTP posts of the same form at once, one row."""
    client = demo_app.test_client()
    data = full_answers(client)
    cookie = client.get_cookie("session")
    before = counts(demo_db)
    statuses = []

    def post():
        c = demo_app.test_client()
        c.set_cookie("session", cookie.value)
        statuses.append(c.post(f"/s/{DESK}", data=data).status_code)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200, 200]
    assert counts(demo_db)[0] == before[0] + 1


def test_forged_submission_id_is_refused(demo_client, demo_db):
    data = full_answers(demo_client)
    data["sid"] = "0" * 32 + "." + "f" * 20
    before = counts(demo_db)
    assert demo_client.post(f"/s/{DESK}", data=data).status_code == 400
    assert counts(demo_db) == before


def test_thanks_page_offers_late_comment_once(demo_client, demo_db):
    data = full_answers(demo_client)
    html = demo_client.post(f"/s/{DESK}", data=data).get_data(as_text=True)
    assert "kiến nghị hoặc phản ánh" in html and "/r/KH-TTHCC" in html
    resp = demo_client.post(
        f"/s/{DESK}/y-kien",
        data={
            "csrf_token": data["csrf_token"],
            "sid": data["sid"],
            "comment_kind": "complaint",
            "comment": "Chờ lâu quá",
        },
    )
    assert resp.status_code == 200
    with demo_db.session() as s:
        r = s.scalar(select(Response).where(Response.submission_id == data["sid"]))
        assert r.comment.text == "Chờ lâu quá" and r.comment.kind == "complaint"


def _sid(client, path):
    import re

    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    return re.search(r'name="sid" value="([^"]+)"', html).group(1), html


def test_reload_and_back_keep_the_submission_id(demo_client, demo_db):
    """Browsers re-fetch forms on back: the id must not change, or a resubmit duplicates."""
    first, _ = _sid(demo_client, f"/s/{DESK}")
    again, _ = _sid(demo_client, f"/s/{DESK}")
    assert first == again
    data = full_answers(demo_client)  # a new evaluation, then back to its form
    demo_client.post(f"/s/{DESK}", data=data)
    html = demo_client.get(f"/s/{DESK}").get_data(as_text=True)
    assert 'name="sid"' not in html and "Ông/Bà đã gửi đánh giá lúc" in html  # no form
    before = counts(demo_db)
    assert demo_client.post(f"/s/{DESK}", data=data).status_code == 200  # a cached copy
    assert counts(demo_db) == before
    fresh, html = _sid(demo_client, f"/s/{DESK}?moi=1")
    assert fresh != data["sid"] and "đã gửi đánh giá" not in html


def test_late_comment_must_have_text(demo_client, demo_db):
    data = full_answers(demo_client)
    demo_client.post(f"/s/{DESK}", data=data)
    resp = demo_client.post(
        f"/s/{DESK}/y-kien",
        data={"csrf_token": data["csrf_token"], "sid": data["sid"], "comment": "   "},
    )
    assert resp.status_code == 400
    assert "Xin nhập nội dung" in resp.get_data(as_text=True)
    with demo_db.session() as s:
        r = s.scalar(select(Response).where(Response.submission_id == data["sid"]))
        assert r.comment is None


def test_each_thanks_page_carries_its_own_tokens(demo_app, demo_db):
    """The thanks page is rendered once and reused: its id and CSRF token must
    still be this browser's own, and its language this browser's language."""
    import re

    pages = []
    for lang in ("vi", "en", "vi"):
        client = demo_app.test_client()
        client.get(f"/s/{DESK}?lang={lang}")
        data = full_answers(client)
        html = client.post(f"/s/{DESK}", data=data).get_data(as_text=True)
        sid = re.search(r'name="sid" value="([^"]+)"', html).group(1)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        assert sid == data["sid"]
        pages.append((client, sid, token, html))
    assert len({token for _c, _s, token, _h in pages}) == 3
    assert "Cảm ơn" in pages[0][3] and "Thank you" in pages[1][3] and "Cảm ơn" in pages[2][3]
    # The late-comment form works with the token printed in each page.
    for n, (client, sid, token, _html) in enumerate(pages):
        resp = client.post(
            f"/s/{DESK}/y-kien",
            data={"csrf_token": token, "sid": sid, "comment": f"Góp ý {n}"},
        )
        assert resp.status_code == 200
    with demo_db.session() as s:
        texts = {
            r.submission_id: r.comment.text
            for r in s.scalars(
                select(Response).where(Response.submission_id.in_([p[1] for p in pages]))
            )
        }
    assert texts == {sid: f"Góp ý {n}" for n, (_c, sid, _t, _h) in enumerate(pages)}


def test_everything_a_citizen_can_give_is_stored_together(demo_client, demo_db):
    """Answers (with N/A), all four demographics and a complaint in one POST."""
    # The standard form: the short one asks two demographics only.
    base, items, na_items = form_of(demo_client, STANDARD_DESK)
    na = sorted(na_items)[0]
    data = {
        **base,
        **{i: "2" for i in items},
        na: "NA",
        "client_type": "business",
        "sex": "female",
        "age_band": "from_45_to_59",
        "channel": "postal",
        "comment_kind": "complaint",
        "comment": "Phải chờ 2 tiếng",
    }
    assert demo_client.post(f"/s/{STANDARD_DESK}", data=data).status_code == 200
    with demo_db.session() as s:
        r = s.scalar(select(Response).where(Response.submission_id == data["sid"]))
        answers = answers_of(s, r)
        stored = (r.client_type, r.sex, r.age_band, r.service_channel, r.channel)
        comment = (r.comment.text, r.comment.kind, r.comment.status)
        assert r.comment.created_at == r.submitted_at
    assert stored == ("business", "female", "from_45_to_59", "postal", "qr")
    assert comment == ("Phải chờ 2 tiếng", "complaint", "new")
    assert len(answers) == len(items) and answers[na] is None
    assert {v for k, v in answers.items() if k != na} == {2}
