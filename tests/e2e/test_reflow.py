"""Every citizen page reflows on a 320 px phone (WCAG 1.4.10) and every option is tappable.

A page that scrolls sideways hides answers off-screen; an option Playwright cannot
click (covered, zero-sized, off-screen) is one a thumb cannot tap either.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from survey.models import Response
from survey.services.demo import demo_code
from tests.e2e.support import PHONE

MULTI = "cr-1"  # Phường Cam Ranh, Quầy 1: two sectors, so the sector question is asked
SINGLE = "nt-1"  # Phường Nha Trang, Quầy Hộ tịch: one sector, short questionnaire
UNIT = "KH-CAMRANH"


@dataclass(frozen=True)
class Page:
    """A citizen page: `path` ({code} is the desk's public code, {unit} the unit's code).

    With `submit` set, the browser first opens that path, answers every question
    ("answered") or none ("empty") and submits; the page under test is then `path`,
    or, when `path` is None, the page the submission lands on."""

    id: str
    path: str | None
    lang: str
    desk: str = MULTI
    submit: str | None = None
    submit_from: str = "/s/{code}"


PAGES = [
    Page("survey-multi-sector-vi", "/s/{code}", "vi"),
    Page("survey-multi-sector-en", "/s/{code}?lang=en", "en"),
    Page("survey-single-sector-vi", "/s/{code}", "vi", desk=SINGLE),
    Page("survey-single-sector-en", "/s/{code}?lang=en", "en", desk=SINGLE),
    Page("survey-errors-vi", None, "vi", submit="empty"),
    Page("survey-errors-en", None, "en", submit="empty", submit_from="/s/{code}?lang=en"),
    Page("thanks-vi", None, "vi", submit="answered"),
    Page("thanks-en", None, "en", submit="answered", submit_from="/s/{code}?lang=en"),
    Page("thanks-single-sector-vi", None, "vi", desk=SINGLE, submit="answered"),
    Page("after-submit-vi", "/s/{code}", "vi", submit="answered"),  # the desk URL again
    Page("privacy-vi", "/privacy", "vi"),
    Page("privacy-en", "/privacy?lang=en", "en"),
    Page("board-vi", "/r/{unit}", "vi"),
    Page("board-en", "/r/{unit}?lang=en", "en"),
]

SMALL = {**PHONE, "viewport": {"width": 320, "height": 640}}
WIDTHS = (320, 360)  # the smallest phones still sold, and the most common Android width

# Visible elements whose right edge passes the viewport (the honeypot is moved off to
# the left, so it does not count).
OVERFLOW_JS = """(width) => {
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    const st = getComputedStyle(el);
    if (!r.width || !r.height || st.visibility === 'hidden' || st.display === 'none') continue;
    if (r.right > width + 0.5) {
      const id = el.id ? '#' + el.id : '';
      const cls = el.className && typeof el.className === 'string' ? '.' + el.className : '';
      out.push(`${el.tagName.toLowerCase()}${id}${cls} right=${Math.round(r.right)}`);
    }
  }
  return out.slice(0, 10);
}"""

SCALES_JS = """() => [...document.querySelectorAll('.s')].map(s => {
  const spans = [...s.querySelectorAll(':scope > label > span')];
  return {
    name: s.querySelector('input').name,
    heights: spans.map(x => Math.round(x.getBoundingClientRect().height * 2) / 2),
    sizes: spans.map(x => parseFloat(getComputedStyle(x).fontSize)),
  };
})"""


def _count(app) -> int:
    with app.extensions["survey.db"].session() as s:
        return s.scalar(select(func.count()).select_from(Response))


def _open_details(page):
    page.eval_on_selector_all("details", "els => els.forEach(d => { d.open = true; })")


def _assert_reflows(page, width: int, where: str):
    page.set_viewport_size({"width": width, "height": 640 if width == 320 else 740})
    # On a phone an over-wide page widens the layout viewport itself, so innerWidth
    # alone would grow to fit the overflow: compare with the device width too.
    inner, scroll = page.evaluate("[innerWidth, document.documentElement.scrollWidth]")
    assert inner == width, f"{where} at {width}px: the layout viewport grew to {inner}px"
    assert scroll <= width, f"{where} at {width}px: scrollWidth {scroll}px, scrolls sideways"
    assert page.evaluate(OVERFLOW_JS, width) == [], f"{where} at {width}px: elements off-screen"


def _assert_scales_readable(page, where: str):
    for scale in page.evaluate(SCALES_JS):
        assert len(scale["heights"]) == 5, f"{where}: {scale['name']} has not five points"
        assert min(scale["sizes"]) >= 14, f"{where}: {scale['name']} labels {scale['sizes']}px"
        assert len(set(scale["heights"])) == 1, (
            f"{where}: the five buttons of {scale['name']} differ in height {scale['heights']}"
        )
        assert min(scale["heights"]) >= 44, f"{where}: {scale['name']} buttons under 44px"


# Buttons and the error summary's links: 44 px targets (inline links in a sentence
# are exempt, as in WCAG 2.5.8).
TARGETS = ".btn, .submit, .linkbtn, .top .lang a, .errlist a"


def _assert_targets_big_enough(page, where: str):
    for target in page.locator(TARGETS).all():
        box = target.bounding_box()
        if box is None:  # not rendered (a closed <details>)
            continue
        text = target.inner_text()
        assert box["height"] >= 44, f"{where}: {text!r} is {box['height']}px tall"
        assert box["width"] >= 44, f"{where}: {text!r} is {box['width']}px wide"


def _tap_every_option(page, where: str) -> int:
    """Click the visible label of every radio option, as a thumb would, in page order.

    The last option of each question stays checked: "5" or "Không áp dụng" for a
    scale, the last choice elsewhere, so the form is complete afterwards."""
    labels = page.locator("label:has(> input[type=radio])")
    count = labels.count()
    for i in range(count):
        label = labels.nth(i)
        radio = label.locator("input[type=radio]")
        box = label.bounding_box()
        assert box and box["height"] >= 44, f"{where}: option {i} is {box} (under 44px tall)"
        label.click()  # no force: fails if the label is hidden, covered or off-screen
        assert radio.is_checked(), f"{where}: tapping option {i} did not check it"
    return count


def _type_in_textareas(page, where: str):
    for area in page.locator("textarea").all():
        area.click()
        page.keyboard.type("Thử gõ")
        assert area.input_value().endswith("Thử gõ"), f"{where}: cannot type in the textarea"
        area.fill("")  # a comment would change the thanks page under test


@pytest.mark.parametrize("spec", PAGES, ids=[p.id for p in PAGES])
def test_page_reflows_at_320px_and_every_option_is_tappable(spec, live_server, browser, artifacts):
    app, base = live_server
    fill = {"code": demo_code(spec.desk), "unit": UNIT}
    context = browser.new_context(**SMALL)
    context.set_default_timeout(10_000)  # an untappable option fails fast, not in 30 s
    page = context.new_page()

    if spec.submit:
        page.goto(base + spec.submit_from.format(**fill))
        before = _count(app)
        if spec.submit == "answered":
            _open_details(page)
            _tap_every_option(page, spec.id)
        page.locator("button.submit").click()
        page.wait_for_load_state()
        if spec.submit == "answered":
            assert _count(app) == before + 1, f"{spec.id}: the submission was not stored"
            assert page.locator(".s").count() == 0, f"{spec.id}: the form came back"
        else:
            assert page.locator(".has-err").count() > 0, f"{spec.id}: no question marked"
            assert _count(app) == before
    if spec.path is not None:
        response = page.goto(base + spec.path.format(**fill))
        assert response.status == 200, f"{spec.id}: HTTP {response.status}"
    assert page.evaluate("document.documentElement.lang") == spec.lang

    _open_details(page)
    for width in WIDTHS:
        _assert_reflows(page, width, spec.id)
        page.screenshot(path=artifacts / f"{width}.png", full_page=True)
    page.set_viewport_size(SMALL["viewport"])
    _assert_scales_readable(page, spec.id)
    _assert_targets_big_enough(page, spec.id)

    if page.locator("form").count():
        _tap_every_option(page, spec.id)
        _type_in_textareas(page, spec.id)
        _assert_reflows(page, 320, f"{spec.id} (answered)")  # checked states reflow too
    context.close()
