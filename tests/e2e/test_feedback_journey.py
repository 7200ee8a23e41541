"""Complaint -> tracking code -> staff reply -> /y-kien/<code> -> public board, in Chromium."""

from __future__ import annotations

import re

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from survey.models import Comment, Unit, User
from survey.services.demo import demo_code
from tests.e2e.support import PHONE
from tests.e2e.test_citizen_journey import _answer_every_question

DESK_KEY = "dk-1"  # Xã Diên Khánh: one desk, so its board and poster are its own
COMPLAINT = "Phải chờ hơn một tiếng mới được tiếp nhận (e2e)"
REPLY = "Xã đã bố trí thêm một cán bộ tiếp nhận vào buổi sáng (e2e)."
PASSWORD = "mat-khau-quan-ly-2026"


def test_a_complaint_is_answered_and_the_answer_is_public(live_server, browser, artifacts):
    app, base = live_server
    phone = browser.new_context(**PHONE)
    citizen = phone.new_page()
    citizen.goto(f"{base}/s/{demo_code(DESK_KEY)}")
    _answer_every_question(citizen)
    citizen.locator("button.submit").tap()
    citizen.wait_for_selector("h1")
    # The thanks page's complaint form, with a contact given with consent.
    citizen.locator('input[name="comment_kind"][value="complaint"] + span').tap()
    citizen.fill("#comment", COMPLAINT)
    citizen.fill("#contact", "0912 345 678")
    citizen.locator('input[name="consent"]').check()
    citizen.locator("form#c button.submit").tap()
    citizen.wait_for_selector("p.tracking")
    code = citizen.inner_text("p.tracking b.code")
    assert re.fullmatch(r"PA-[2-9A-HJKMNP-Z]{7}", code)
    citizen.screenshot(path=artifacts / "01-thanks-with-code.png", full_page=True)
    citizen.click(f"a[href='/y-kien/{code}']")
    citizen.wait_for_selector("dd.state")
    assert "Đã tiếp nhận" in citizen.inner_text("dd.state")
    assert COMPLAINT not in citizen.content() and "0912" not in citizen.content()

    db = app.extensions["survey.db"]
    with db.session() as s:
        unit = s.scalar(select(Unit).where(Unit.code == "KH-DIENKHANH"))
        s.add(
            User(
                username="quanly_dk",
                password_hash=generate_password_hash(PASSWORD),
                role="unit_manager",
                unit_id=unit.id,
                must_change_password=False,
            )
        )
        cid = s.scalar(select(Comment.id).where(Comment.tracking_code == code))
    desk = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    staff = desk.new_page()
    staff.goto(f"{base}/staff/login")
    staff.fill("input[name=username]", "quanly_dk")
    staff.fill("input[name=password]", PASSWORD)
    staff.click("button[type=submit]")
    staff.wait_for_load_state()
    staff.goto(f"{base}/staff/feedback?q={code}")
    staff.click(f"#c-{cid} a:has-text('Xử lý')")
    staff.wait_for_selector("#reply")
    assert COMPLAINT in staff.content() and "0912345678" in staff.content()
    staff.fill("#reply", REPLY)
    staff.click("text=Lưu câu trả lời")
    staff.wait_for_load_state()
    staff.screenshot(path=artifacts / "02-staff-case.png", full_page=True)
    desk.close()

    citizen.goto(f"{base}/y-kien/{code}")
    assert "Đã trả lời" in citizen.inner_text("dd.state")
    assert REPLY in citizen.inner_text("blockquote.reply")
    citizen.screenshot(path=artifacts / "03-status-answered.png", full_page=True)
    citizen.goto(f"{base}/r/KH-DIENKHANH")
    story = citizen.inner_text("section.story")
    assert REPLY in story and COMPLAINT not in citizen.content()
    citizen.screenshot(path=artifacts / "04-board.png", full_page=True)
    phone.close()
