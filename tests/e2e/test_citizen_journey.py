"""A citizen's journey in real Chromium: poster QR -> phone survey -> thanks, once."""

from __future__ import annotations

import subprocess

from sqlalchemy import func, select

from survey.models import Comment, Response
from survey.posters import posters_for_unit, render_posters
from survey.services.demo import demo_code
from tests.e2e.conftest import PHONE, run_axe

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

    # Back to the form and submit again: the same thanks page, nothing new stored.
    page.go_back()
    page.wait_for_selector("button.submit")
    page.locator("button.submit").tap()
    page.wait_for_selector("h1")
    assert "Cảm ơn" in page.inner_text("h1")
    page.screenshot(path=artifacts / "05-resubmitted.png")
    assert _count(app) == before + 1
    with app.extensions["survey.db"].session() as s:
        assert (
            s.scalar(
                select(func.count()).select_from(Comment).where(Comment.text == UNIQUE_COMMENT)
            )
            == 1
        )
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
    assert page.locator("fieldset.has-err").count() == 24
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
    context.close()
