"""/y-kien/<code>: a citizen follows a suggestion or complaint by its tracking code.

No account: the code is the key, so it is long enough not to be guessed and
the wrong guesses of one address are limited (only a 404 counts, so a citizen
checking their own code again is never held up). The page shows the status,
the dates and the unit's public reply, never the citizen's text or contact.
"""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from survey import clock
from survey.config import settings
from survey.extensions import limiter
from survey.public import bp, limits
from survey.services import feedback
from survey.web_db import get_session

# Wrong codes from one address (every device behind it together).
GUESSES = "20 per minute;100 per hour"


def _missed(response) -> bool:
    return response.status_code == 404


def _too_many(limit):
    seconds, _message = limits.wait(limit)
    page = render_template(
        "public/feedback_status.html",
        found=None,
        code=None,
        error=_(
            "Ông/Bà đã nhập sai mã nhiều lần. Xin đợi %(n)d phút rồi thử lại.",
            n=max(1, -(-seconds // 60)),
        ),
    )
    return make_response(page, 429, {"Retry-After": str(seconds)})


def _day(moment) -> str:
    return clock.local_time(moment, settings().TIMEZONE).strftime("%d/%m/%Y") if moment else ""


@bp.get("/y-kien")
def feedback_lookup():
    """The form to type a code (linked from the board); ?ma=CODE opens it."""
    typed = (request.args.get("ma") or "").strip()
    if typed:
        code = feedback.normalise_code(typed)
        if code is not None:
            return redirect(url_for("public.feedback_status", code=code), 303)
    page = render_template(
        "public/feedback_status.html",
        found=None,
        code=None,
        error=_("Mã theo dõi không đúng dạng (ví dụ: PA-7KQ3M2X).") if typed else None,
    )
    return (page, 400) if typed else page


@bp.get("/y-kien/<code>")
@limiter.limit(GUESSES, key_func=limits.network_key, deduct_when=_missed, on_breach=_too_many)
def feedback_status(code: str):
    found = feedback.public_status(get_session(), code[:32])
    if found is None:
        page = render_template(
            "public/feedback_status.html",
            found=None,
            code=code[:32],
            error=_(
                "Không tìm thấy ý kiến có mã này. Xin kiểm tra lại mã trên trang cảm ơn "
                "(chữ và số, không có chữ O, I, L và số 0, 1)."
            ),
        )
        return page, 404
    resp = make_response(
        render_template(
            "public/feedback_status.html",
            found=found,
            code=found.code,
            error=None,
            received=_day(found.received),
            due=found.due_on.strftime("%d/%m/%Y") if found.due_on else "",
            replied=_day(found.replied_at),
            closed=_day(found.closed_at),
        )
    )
    # The reply may come any day; a shared proxy must not keep one citizen's page.
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp
