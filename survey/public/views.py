"""Survey page views: parse the request, call services, render."""

from __future__ import annotations

from flask import abort, g, render_template

from survey.public import bp
from survey.services import desks as desk_svc
from survey.services import questionnaires as qsvc
from survey.web_db import get_session


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/s/<code>")
def survey_page(code: str):
    session = get_session()
    found = desk_svc.find_by_public_code(session, code)
    if found.desk is None:
        if found.replaced:
            return render_template("errors/replaced.html"), 410
        abort(404)
    desk = found.desk
    if not desk.active:
        return render_template("public/inactive.html", desk=desk), 410
    version = qsvc.for_desk(session, desk)
    if version is None:
        abort(503)
    return render_template(
        "public/survey.html",
        desk=desk,
        q=qsvc.definition(version),
        lang=g.lang,
    )


@bp.get("/privacy")
def privacy():
    return render_template("public/privacy.html")
