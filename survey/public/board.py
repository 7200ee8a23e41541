"""Public results board: /r/<unit code> and its A4 poster, without sign-in.

Only aggregates of the latest complete month and quarter; a period with fewer
than PUBLIC_MIN_RESPONSES responses shows nothing but that fact.
"""

from __future__ import annotations

from flask import Response, g, make_response, render_template, request, url_for
from flask_babel import gettext as _

from survey import clock, config
from survey.extensions import limiter
from survey.public import bp
from survey.reports import board as board_view
from survey.web_db import get_session

# Public pages are cached briefly by browsers and proxies: results change monthly.
CACHE = "public, max-age=300"
MAX_CODE = 32


def _board(code: str):
    settings = config.settings()
    if len(code) > MAX_CODE:
        return None
    return board_view.public_board(
        get_session(),
        code,
        today=clock.local_today(settings.TIMEZONE),
        min_n=settings.PUBLIC_MIN_RESPONSES,
        tz=settings.TIMEZONE,
    )


def _missing():
    return render_template("reports/board_missing.html"), 404


def _url(code: str) -> str:
    return config.settings().BASE_URL + url_for("public.board", code=code)


@bp.get("/r/<code>")
@limiter.limit("60 per minute")
def board(code: str):
    found = _board(code)
    if found is None:
        return _missing()
    resp = make_response(
        render_template(
            "reports/board.html",
            board=found,
            periods=board_view.periods(found, g.lang, _),
            protected_text=board_view.protected_text(_),
            handled=board_view.feedback_view(found, g.lang, _),
            trend=board_view.trend_rows(found, g.lang, _),
            quarter=board_view.periods(found, g.lang, _)[1].title,
            url=_url(found.unit.code),
        )
    )
    resp.headers["Cache-Control"] = CACHE
    return resp


@bp.get("/r/<code>/poster.pdf")
@limiter.limit("20 per minute")
def board_poster(code: str):
    found = _board(code)
    if found is None:
        return _missing()
    # ?d=<desk code>: the poster hangs at that desk, and its QR code opens its survey.
    try:
        desk = board_view.poster_desk(
            get_session(), found, request.args.get("d", "")[:MAX_CODE], config.settings().BASE_URL
        )
    except LookupError:
        return _missing()
    pdf = board_view.poster(found, _url(found.unit.code), g.lang, _, desk)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="ket-qua-{found.unit.code}.pdf"',
            "Cache-Control": CACHE,
        },
    )
