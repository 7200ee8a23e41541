"""The feedback inbox: citizens' suggestions and complaints, read and followed up in scope."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from survey.models import AuditEvent, Comment, Response, Unit, User
from survey.services import access, feedback
from tests.support import csrf_token

MARK = "Cán bộ hướng dẫn <b>rất</b> tận tình"


def _comment(db, unit_code: str, text: str, *, kind="complaint", at=datetime(2026, 10, 5, 3)):
    """Put a comment on a response of the unit that has none; its id."""
    with db.session() as s:
        unit_id = s.scalar(select(Unit.id).where(Unit.code == unit_code))
        resp = s.scalar(
            select(Response)
            .where(Response.unit_id == unit_id, ~Response.comment.has())
            .order_by(Response.id)
            .limit(1)
        )
        comment = Comment(response_id=resp.id, text=text, kind=kind, created_at=at)
        s.add(comment)
        s.flush()
        return comment.id


def _in_scope_count(db, unit_codes) -> int:
    with db.session() as s:
        return s.scalar(
            select(func.count())
            .select_from(Comment)
            .join(Response, Response.id == Comment.response_id)
            .join(Unit, Unit.id == Response.unit_id)
            .where(Unit.code.in_(unit_codes))
        )


def test_a_manager_reads_the_comments_of_the_unit_and_no_others(
    demo_client, demo_db, world, sign_in_as
):
    mine = _comment(demo_db, "KH-CAMRANH", MARK)
    other = _comment(demo_db, "KH-NHATRANG", "Ý kiến ở Nha Trang")
    sign_in_as("unit_manager")
    page = demo_client.get("/staff/feedback")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    expected = _in_scope_count(demo_db, ["KH-CAMRANH", "KH-CAMRANH-TO1"])
    assert f"{expected} ý kiến." in html
    html = demo_client.get("/staff/feedback?from=2026-10-05&to=2026-10-05").get_data(as_text=True)
    assert f'id="c-{mine}"' in html and f'id="c-{other}"' not in html
    # Citizen text is shown as text, never as markup; the time is Vietnam's.
    assert "&lt;b&gt;rất&lt;/b&gt;" in html and "<b>rất</b>" not in html
    assert "05/10/2026 10:00" in html


def test_filters_by_status_kind_and_local_day(demo_client, demo_db, world, sign_in_as):
    # 18:30 UTC on 4 October is 01:30 on 5 October in Vietnam.
    late = _comment(
        demo_db, "KH-CAMRANH", "Muộn", kind="suggestion", at=datetime(2026, 10, 4, 18, 30)
    )
    sign_in_as("analyst")

    def ids(query):
        resp = demo_client.get("/staff/feedback?" + query)
        assert resp.status_code == 200
        return resp.get_data(as_text=True)

    assert f'id="c-{late}"' in ids("from=2026-10-05&to=2026-10-05")
    assert f'id="c-{late}"' not in ids("from=2026-10-04&to=2026-10-04")
    assert f'id="c-{late}"' in ids("kind=suggestion&from=2026-10-05&to=2026-10-05")
    assert f'id="c-{late}"' not in ids("kind=complaint&from=2026-10-05&to=2026-10-05")
    assert f'id="c-{late}"' not in ids("status=closed&from=2026-10-05&to=2026-10-05")


@pytest.mark.parametrize(
    "query, message",
    [
        ("status=done", "Trạng thái không hợp lệ."),
        ("kind=praise", "Loại ý kiến không hợp lệ."),
        ("from=5/10/2026", "Ngày “từ” không đúng dạng YYYY-MM-DD."),
        ("from=2026-10-06&to=2026-10-05", "trước ngày “từ”"),
        ("page=0", "Số trang không hợp lệ."),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(demo_client, demo_db, world, query, message, sign_in_as):
    sign_in_as("analyst")
    resp = demo_client.get("/staff/feedback?" + query)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)


def test_a_manager_follows_a_complaint_up_and_it_is_audited(
    demo_client, demo_db, world, sign_in_as
):
    cid = _comment(demo_db, "KH-CAMRANH", MARK)
    sign_in_as("unit_manager")
    token = csrf_token(demo_client, "/staff/feedback")
    resp = demo_client.post(
        f"/staff/feedback/{cid}/status",
        data={
            "csrf_token": token,
            "status": "in_progress",
            "next": "/staff/feedback?kind=complaint",
        },
    )
    assert resp.status_code == 302 and resp.headers["Location"] == "/staff/feedback?kind=complaint"
    with demo_db.session() as s:
        assert s.get(Comment, cid).status == "in_progress"
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "feedback.status")).all()
        assert [(e.entity_id, e.actor) for e in events] == [(str(cid), "cr_unit_manager")]
        assert "new" in events[0].before and "in_progress" in events[0].after
    # The same status again changes nothing and records nothing.
    demo_client.post(
        f"/staff/feedback/{cid}/status", data={"csrf_token": token, "status": "in_progress"}
    )
    with demo_db.session() as s:
        n = s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "feedback.status")
        )
        assert n == 1


def test_status_changes_are_refused_precisely(demo_client, demo_db, world, sign_in_as):
    mine = _comment(demo_db, "KH-CAMRANH", MARK)
    other = _comment(demo_db, "KH-NHATRANG", "Ngoài phạm vi")
    sign_in_as("unit_manager")
    token = csrf_token(demo_client, "/staff/feedback")

    def post(cid, status, tok=token):
        return demo_client.post(
            f"/staff/feedback/{cid}/status", data={"csrf_token": tok, "status": status}
        )

    assert post(other, "in_progress").status_code == 404  # outside the subtree: as if absent
    assert post(10**9, "in_progress").status_code == 404
    assert post(mine, "resolved").status_code == 400  # the old status is no more
    assert post(mine, "in_progress", tok="forged").status_code == 400
    sign_in_as("analyst")  # reads, but does not handle
    token = csrf_token(demo_client, "/staff/feedback")
    assert post(mine, "in_progress", tok=token).status_code == 403
    with demo_db.session() as s:
        assert s.get(Comment, mine).status == "new" and s.get(Comment, other).status == "new"


def test_desk_staff_do_not_see_the_inbox(demo_client, demo_db, world, sign_in_as):
    sign_in_as("desk_staff")
    assert demo_client.get("/staff/feedback").status_code == 403
    assert "/staff/feedback" not in demo_client.get("/staff/").get_data(as_text=True)
    sign_in_as("analyst")
    assert "/staff/feedback" in demo_client.get("/staff/").get_data(as_text=True)
    with demo_db.session() as s:  # the service checks too, not only the view
        staff = s.scalar(select(User).where(User.username == "cr_desk_staff"))
        with pytest.raises(access.Forbidden):
            feedback.inbox(s, staff, feedback.Filters(), "Asia/Ho_Chi_Minh")


def test_pages_hold_fifty_newest_first(demo_client, demo_db, world, sign_in_as):
    sign_in_as("admin", "KH")
    total = _in_scope_count(demo_db, [u for u in world.units])
    first = demo_client.get("/staff/feedback").get_data(as_text=True)
    pages = -(-total // feedback.PAGE_SIZE)
    assert total > feedback.PAGE_SIZE and f"Trang 1/{pages}" in first
    assert first.count('<tr id="c-') == feedback.PAGE_SIZE
    last = demo_client.get(f"/staff/feedback?page={pages}").get_data(as_text=True)
    assert last.count('<tr id="c-') == total - (pages - 1) * feedback.PAGE_SIZE
