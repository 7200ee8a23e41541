"""Case handling in the inbox: assign, notes, public reply, due days, closing,
filters, export, the contact; per role, with the audit entries."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from survey.models import AuditEvent, Comment, FeedbackContact, FeedbackNote, Response, Unit, User
from survey.services import feedback
from tests.support import csrf_token

TZ = "Asia/Ho_Chi_Minh"
CONTACT = "0987654321"


def _case(db, unit_code="KH-CAMRANH", text="Chờ lâu ở quầy", *, at=None, kind="comment"):
    """A comment on a response of the unit, opened as a case; (id, code)."""
    with db.session() as s:
        unit_id = s.scalar(select(Unit.id).where(Unit.code == unit_code))
        resp = s.scalar(
            select(Response)
            .where(Response.unit_id == unit_id, ~Response.comment.has())
            .order_by(Response.id)
            .limit(1)
        )
        comment = Comment(
            response_id=resp.id, text=text, kind=kind, created_at=at or datetime.utcnow()
        )
        s.add(comment)
        s.flush()
        code = feedback.open_case(s, resp.id, TZ)
        s.add(FeedbackContact(comment_id=comment.id, contact=CONTACT))
        return comment.id, code


def _post(client, path, **data):
    token = csrf_token(client, "/staff/feedback")
    return client.post(path, data={"csrf_token": token, **data})


def _events(db, cid):
    with db.session() as s:
        return [
            (e.action, e.actor)
            for e in s.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity == "comment", AuditEvent.entity_id == str(cid))
                .order_by(AuditEvent.id)
            )
        ]


def test_a_manager_handles_a_case_from_new_to_closed(demo_client, demo_db, world, sign_in_as):
    cid, code = _case(demo_db)
    client = sign_in_as("unit_manager")
    page = client.get(f"/staff/feedback/{cid}").get_data(as_text=True)
    assert code in page and CONTACT in page  # the manager of the unit sees the contact
    # Reclassify a complaint typed in the main comment box.
    assert _post(client, f"/staff/feedback/{cid}/kind", kind="complaint").status_code == 302
    # Given to an analyst: refused, naming why; to the unit's manager: taken.
    analyst = str(world.users["cr_analyst"])
    refused = _post(client, f"/staff/feedback/{cid}/assign", assignee=analyst)
    assert refused.status_code == 400
    assert "không có quyền xử lý ý kiến" in refused.get_data(as_text=True)
    manager = str(world.users["cr_unit_manager"])
    assert _post(client, f"/staff/feedback/{cid}/assign", assignee=manager).status_code == 302
    assert _post(client, f"/staff/feedback/{cid}/note", note="Gọi cho tổ trưởng").status_code == 302
    # "Đã trả lời" needs a reply; closing needs a reply or a reason.
    early = _post(client, f"/staff/feedback/{cid}/status", status="answered")
    assert early.status_code == 400 and "Cần nhập câu trả lời công khai" in early.get_data(
        as_text=True
    )
    reply = "Đã thêm một quầy tiếp nhận buổi sáng."
    assert _post(client, f"/staff/feedback/{cid}/reply", reply=reply).status_code == 302
    assert _post(client, f"/staff/feedback/{cid}/status", status="closed").status_code == 302
    with demo_db.session() as s:
        c = s.get(Comment, cid)
        assert (c.kind, c.status, c.public_reply) == ("complaint", "closed", reply)
        assert c.assigned_to_id == world.users["cr_unit_manager"] and c.replied_at is not None
        assert s.scalar(select(FeedbackNote.text).where(FeedbackNote.comment_id == cid))
        # The contact goes FEEDBACK_CONTACT_DAYS after closing.
        kept = s.get(FeedbackContact, cid).delete_after
        assert kept - c.closed_at == timedelta(days=30)
    assert _events(demo_db, cid) == [
        ("feedback.kind", "cr_unit_manager"),
        ("feedback.assign", "cr_unit_manager"),
        ("feedback.note", "cr_unit_manager"),
        ("feedback.reply", "cr_unit_manager"),
        ("feedback.status", "cr_unit_manager"),
    ]
    with demo_db.session() as s:  # the note's text stays out of the audit trail
        note = s.scalar(select(AuditEvent).where(AuditEvent.action == "feedback.note"))
        assert "Gọi cho tổ trưởng" not in (note.after or "")
    with demo_db.session() as s:
        assert feedback.purge_contacts(s, kept - timedelta(seconds=1)) == 0
        assert feedback.purge_contacts(s, kept) == 1
        assert s.get(FeedbackContact, cid) is None


def test_closing_without_a_reply_needs_a_reason(demo_client, demo_db, world, sign_in_as):
    cid, _code = _case(demo_db)
    client = sign_in_as("unit_manager")
    refused = _post(client, f"/staff/feedback/{cid}/status", status="closed", reason="  ")
    assert refused.status_code == 400
    assert "cần có câu trả lời công khai hoặc ghi lý do đóng" in refused.get_data(as_text=True)
    reason = "Trùng với ý kiến #12 đã trả lời."
    assert (
        _post(client, f"/staff/feedback/{cid}/status", status="closed", reason=reason).status_code
        == 302
    )
    with demo_db.session() as s:
        assert (s.get(Comment, cid).status, s.get(Comment, cid).close_reason) == ("closed", reason)


def test_analysts_read_without_the_contact_and_desk_staff_see_nothing(
    demo_client, demo_db, world, sign_in_as
):
    cid, code = _case(demo_db)
    client = sign_in_as("analyst")
    page = client.get(f"/staff/feedback/{cid}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and code in html and "Chờ lâu ở quầy" in html
    assert CONTACT not in html and "Lưu câu trả lời" not in html
    assert _post(client, f"/staff/feedback/{cid}/reply", reply="x").status_code == 403
    export = client.get("/staff/feedback/export.xlsx")
    assert export.status_code == 200
    sign_in_as("desk_staff")
    assert demo_client.get(f"/staff/feedback/{cid}").status_code == 403
    assert demo_client.get("/staff/feedback/export.xlsx").status_code == 403
    # Another ward's manager: as if the case did not exist.
    other = sign_in_as("unit_manager", "KH-NHATRANG")
    assert other.get(f"/staff/feedback/{cid}").status_code == 404
    assert _post(other, f"/staff/feedback/{cid}/note", note="x").status_code == 404
    assert _events(demo_db, cid) == []


def test_overdue_desk_and_text_filters(demo_client, demo_db, world, sign_in_as):
    old, old_code = _case(demo_db, text="Thiếu ghế ngồi chờ", at=datetime(2026, 9, 1, 3))
    fresh, _code = _case(demo_db, text="Nhân viên nhiệt tình")
    client = sign_in_as("analyst")

    def rows(query):
        resp = client.get("/staff/feedback?" + query)
        assert resp.status_code == 200, query
        return resp.get_data(as_text=True)

    html = rows("overdue=1")
    assert f'<tr id="c-{old}" class="overdue">' in html and f'id="c-{fresh}"' not in html
    assert "Quá hạn" in html
    assert f'id="c-{old}"' in rows("q=gh%E1%BA%BF") and f'id="c-{fresh}"' not in rows(
        "q=gh%E1%BA%BF"
    )
    assert f'id="c-{old}"' in rows(f"q={old_code.lower()}")
    with demo_db.session() as s:
        desk = s.scalar(select(Response.desk_id).join(Comment).where(Comment.id == old))
        from survey.models import Desk

        desk_code = s.get(Desk, desk).code
    assert f'id="c-{old}"' in rows(f"desk={desk_code}")
    for bad, message in (
        ("overdue=2", "quá hạn"),
        ("desk=<b>", "Mã quầy"),
        ("q=" + "x" * 101, "quá dài"),
    ):
        resp = client.get("/staff/feedback?" + bad)
        assert resp.status_code == 400 and message in resp.get_data(as_text=True)


def test_the_export_has_handling_times_and_never_a_contact(demo_client, demo_db, world, sign_in_as):
    cid, code = _case(demo_db, at=datetime(2026, 11, 2, 2))
    with demo_db.session() as s:
        c = s.get(Comment, cid)
        c.public_reply, c.replied_at, c.status = (
            "Đã sửa máy lấy số.",
            datetime(2026, 11, 5, 2),
            "answered",
        )
        s.add(FeedbackNote(comment_id=cid, author="x", text="GHI-CHU-NOI-BO"))
    client = sign_in_as("unit_manager")
    resp = client.get("/staff/feedback/export.xlsx?from=2026-11-02&to=2026-11-02")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(resp.data)).active
    head = [c.value for c in ws[1]]
    rows = [dict(zip(head, [c.value for c in r], strict=True)) for r in ws.iter_rows(min_row=2)]
    [row] = [r for r in rows if r["Mã theo dõi"] == code]
    assert row["Số ngày xử lý"] == pytest.approx(3.0) and row["Đúng hạn"] == "đúng hạn"
    assert row["Trả lời công khai"] == "Đã sửa máy lấy số."
    cells = " ".join(str(c.value) for r in ws.iter_rows() for c in r)
    assert CONTACT not in cells and "GHI-CHU-NOI-BO" not in cells


def test_measures_share_on_time_and_median(demo_db):
    with demo_db.session() as s:
        unit = s.scalar(select(Unit).where(Unit.code == "KH-CAMLAM"))
        responses = s.scalars(
            select(Response).where(Response.unit_id == unit.id, ~Response.comment.has()).limit(3)
        ).all()
        created = datetime(2026, 10, 1, 2)  # Thursday 1 October, 09:00 in Vietnam
        due = feedback.add_working_days(date(2026, 10, 1), 10)
        for resp, replied in zip(responses, (2, 20, None), strict=True):
            s.add(
                Comment(
                    response_id=resp.id,
                    text="x",
                    created_at=created,
                    due_on=due,
                    replied_at=created + timedelta(days=replied) if replied else None,
                )
            )
        s.flush()
        found = feedback.measures(
            s, {unit.id}, date(2026, 10, 1), date(2026, 10, 1), TZ, today=date(2026, 11, 22)
        )
    m = found[(unit.id, "2026-10")]
    assert (m.received, m.answered, m.due, m.on_time) == (3, 2, 3, 1)
    assert m.share_on_time == pytest.approx(1 / 3) and m.median_days == pytest.approx(11.0)


def test_a_manager_turns_the_low_score_flag_off_for_the_unit(
    demo_client, demo_db, world, sign_in_as
):
    client = sign_in_as("unit_manager")
    unit = world.units["KH-CAMRANH"]
    assert "Điểm thấp tự động mở ý kiến cần chú ý" in client.get("/staff/feedback").get_data(
        as_text=True
    )
    assert (
        _post(client, f"/staff/feedback/settings/{unit}", low_score_alert="off").status_code == 302
    )
    with demo_db.session() as s:
        assert feedback.low_score_alert(s, unit) is False
        assert feedback.low_score_alert(s, world.units["KH-CAMRANH-TO1"]) is False  # inherited
        assert feedback.low_score_alert(s, world.units["KH-NHATRANG"]) is True
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "feedback.setting"))
        assert event.actor == "cr_unit_manager"
    assert (
        _post(
            client, f"/staff/feedback/settings/{world.units['KH-NHATRANG']}", low_score_alert="off"
        ).status_code
        == 403
    )
    with demo_db.session() as s:
        assert s.get(User, world.users["cr_unit_manager"]) is not None
