"""A citizen's journey in real Chromium: poster QR -> phone survey -> thanks, once."""

from __future__ import annotations

import subprocess

from sqlalchemy import func, select

from survey.models import Comment, Response
from survey.posters import posters_for_unit, render_posters
from survey.services.demo import demo_code
from tests.e2e.support import PHONE, run_axe

DESK_KEY = "cr-1"  # Phường Cam Ranh, Quầy 1 – Hộ tịch (standard questionnaire)
UNIQUE_COMMENT = "Cán bộ Quầy 1 hướng dẫn rất tận tình (e2e)"


def _decode_poster(app, base, tmp_path) -> str:
    db = app.extensions["survey.db"]
    with db.session() as s:
        desks = posters_for_unit(s, base, "KH-CAMRANH", demo_code(DESK_KEY))
    pdf = tmp_path / "poster.pdf"
    pdf.write_bytes(render_posters(desks, "a4"))
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    out = subprocess.run(
        ["zbarimg", "--raw", "-q", str(pages[0])], capture_output=True, text=True, check=True
    )
    return out.stdout.strip(), pages[0]


def _count(app) -> int:
    with app.extensions["survey.db"].session() as s:
        return s.scalar(select(func.count()).select_from(Response))


def _answer_every_question(page) -> int:
    """Tap a scale point (or N/A) for every question, as a thumb would."""
    names = page.eval_on_selector_all(
        "fieldset.item input[type=radio]", "els => [...new Set(els.map(e => e.name))]"
    )
    questions = [n for n in names if n.isupper() or n[:2].isupper()]
    for i, name in enumerate(questions):
        value = "4" if i % 3 else "5"
        page.locator(f'input[name="{name}"][value="{value}"] + span').tap()
    return len(questions)


def test_poster_to_thanks_without_duplicates(live_server, browser, artifacts, tmp_path):
    app, base = live_server
    url, poster_png = _decode_poster(app, base, tmp_path)
    assert url == f"{base}/s/{demo_code(DESK_KEY)}"
    (artifacts / "01-poster.png").write_bytes(poster_png.read_bytes())

    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(url)
    assert "Quầy 1" in page.inner_text("h1")
    page.screenshot(path=artifacts / "02-survey-top.png")
    answered = _answer_every_question(page)
    assert answered == 24  # 23 items of the standard questionnaire + overall
    page.fill("#comment", UNIQUE_COMMENT)
    page.screenshot(path=artifacts / "03-answered.png", full_page=True)
    before = _count(app)
    page.locator("button.submit").tap()
    page.wait_for_selector("h1")
    assert "Cảm ơn" in page.inner_text("h1")
    page.screenshot(path=artifacts / "04-thanks.png")
    assert _count(app) == before + 1

    # Back: no form that could not be stored, but when it was sent; nothing new stored.
    page.go_back()
    page.wait_for_selector("h1")
    assert "Ông/Bà đã gửi đánh giá lúc" in page.inner_text("h1")
    assert page.locator("button.submit").count() == 0
    page.screenshot(path=artifacts / "05-back-after-sending.png")
    assert _count(app) == before + 1
    # Forward again is the GET thanks page (post/redirect/get: no resubmission).
    page.go_forward()
    page.wait_for_selector("h1")
    assert "Cảm ơn" in page.inner_text("h1")
    assert _count(app) == before + 1
    # A second case at the same desk: the one button gives a fresh form that stores.
    page.go_back()
    page.wait_for_selector("a.btn")
    page.locator("a.btn").tap()
    page.wait_for_selector("button.submit")
    assert _answer_every_question(page) == 24
    page.locator("button.submit").tap()
    page.wait_for_selector("h1")
    assert "Cảm ơn" in page.inner_text("h1")
    page.screenshot(path=artifacts / "06-second-case.png")
    assert _count(app) == before + 2
    with app.extensions["survey.db"].session() as s:
        assert (
            s.scalar(
                select(func.count()).select_from(Comment).where(Comment.text == UNIQUE_COMMENT)
            )
            == 1
        )
    context.close()

    _analyst_sees_it(app, base, browser, artifacts)


def _analyst_sees_it(app, base, browser, artifacts):
    """An analyst of the ward signs in, sees the response counted, downloads the XLSX."""
    from datetime import date

    import openpyxl
    from werkzeug.security import generate_password_hash

    from survey.models import Desk, Unit, User

    db = app.extensions["survey.db"]
    password = "mat-khau-phan-tich-2026"
    code = demo_code(DESK_KEY)
    with db.session() as s:
        unit = s.scalar(select(Unit).where(Unit.code == "KH-CAMRANH"))
        s.add(
            User(
                username="phantich",
                password_hash=generate_password_hash(password),
                role="analyst",
                unit_id=unit.id,
                must_change_password=False,
            )
        )
        desk = s.scalar(select(Desk).where(Desk.code == code))
        today = s.scalar(select(func.max(Response.day)).where(Response.desk_id == desk.id))
        start = date(today.year, today.month, 1)
        expected = s.scalar(
            select(func.count())
            .select_from(Response)
            .where(Response.desk_id == desk.id, Response.day >= start, Response.day <= today)
        )

    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="vi-VN", accept_downloads=True
    )
    page = context.new_page()
    page.goto(f"{base}/staff/login")
    page.fill("input[name=username]", "phantich")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    query = f"unit=KH-CAMRANH&desk={code}&from={start.isoformat()}&to={today.isoformat()}"
    page.goto(f"{base}/staff/reports?{query}")
    page.screenshot(path=artifacts / "06-dashboard.png", full_page=True)
    received = page.locator("dt:has-text('Phiếu nhận được') + dd").inner_text()
    assert int(received.replace(".", "")) == expected

    with page.expect_download() as info:
        page.click("text=Bảng tính Excel")
    path = artifacts / "07-report.xlsx"
    info.value.save_as(path)
    workbook = openpyxl.load_workbook(path, read_only=True)
    cells = [str(c) for row in workbook["Ý kiến"].iter_rows(values_only=True) for c in row]
    workbook.close()
    assert UNIQUE_COMMENT in cells
    context.close()


def test_survey_works_without_javascript(live_server, browser, artifacts):
    app, base = live_server
    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base}/s/{demo_code('dk-1')}")
    before = _count(app)
    _answer_every_question(page)
    page.screenshot(path=artifacts / "nojs-form.png")
    page.locator("button.submit").tap()
    page.wait_for_selector("h1")
    assert "Cảm ơn" in page.inner_text("h1")
    assert _count(app) == before + 1
    context.close()


def test_error_messages_show_at_the_question(live_server, browser, artifacts):
    app, base = live_server
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{base}/s/{demo_code('dk-1')}")
    before = _count(app)
    page.locator("button.submit").tap()  # nothing answered
    page.wait_for_selector(".alert")
    # dk-1 serves the default short form: seven questions, of which the result
    # one (KQ1) starts at "Không áp dụng" at the desk.
    assert page.locator("fieldset.has-err").count() == 6
    assert page.locator("#q-KQ1 input[value=NA]").is_checked()
    page.screenshot(path=artifacts / "errors.png")
    assert _count(app) == before
    context.close()


def test_no_serious_accessibility_violations(live_server, browser):
    _app, base = live_server
    # axe is injected by the test; the app's CSP rightly forbids inline scripts.
    context = browser.new_context(**PHONE, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{base}/s/{demo_code('dk-1')}")
    assert run_axe(page) == []
    _answer_every_question(page)
    page.locator("button.submit").tap()
    page.wait_for_selector("h1")
    assert run_axe(page) == []
    page.goto(f"{base}/r/KH-CAMRANH")
    assert "KH-CAMRANH" in page.url and page.locator("h1").count() == 1
    assert run_axe(page) == []
    context.close()
