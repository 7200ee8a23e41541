"""Staff pages for citizens' suggestions and complaints (the feedback inbox)."""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from survey import clock, config
from survey.messages import feedback as feedback_words
from survey.services import feedback
from survey.staff import bp
from survey.staff.forms import ActionForm
from survey.staff.plumbing import safe_next
from survey.web_db import get_session


def _tz() -> str:
    return config.settings().TIMEZONE


@bp.get("/feedback")
def feedback_inbox():
    try:
        filters = feedback.parse_filters(request.args)
        error = None
    except feedback.FilterError as exc:
        filters, error = feedback.Filters(), feedback_words.text(exc.field)
    inbox = feedback.inbox(get_session(), g.user, filters, _tz())

    def local(moment: datetime) -> str:
        return clock.local_time(moment, _tz()).strftime("%d/%m/%Y %H:%M")

    # Links keep the parsed filters only: the query as sent may hold url_for's
    # own keywords (endpoint, _external, _method...), which would break it.
    args = filters.args()
    page = render_template(
        "staff/feedback.html",
        inbox=inbox,
        filters=filters,
        error=error,
        args=args,
        local=local,
        here=request.full_path,
    )
    return (page, 400) if error else page


@bp.post("/feedback/<int:comment_id>/status")
def feedback_status(comment_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    session = get_session()
    try:
        changed = feedback.set_status(session, g.user, comment_id, request.form.get("status", ""))
    except LookupError:
        abort(404)
    except ValueError:
        abort(400)
    if changed:
        flash(_("Đã cập nhật trạng thái ý kiến #%(id)d.", id=comment_id))
    return redirect(safe_next(request.form.get("next")) or url_for("staff.feedback_inbox"))
