"""Staff pages for citizens' suggestions and complaints: the inbox and each case."""

from __future__ import annotations

from datetime import datetime

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from survey import clock, config
from survey.messages import feedback as feedback_words
from survey.models import Unit
from survey.reports import xlsx
from survey.services import access, feedback, units
from survey.staff import bp
from survey.staff.forms import ActionForm
from survey.staff.plumbing import safe_next
from survey.web_db import get_session


def _tz() -> str:
    return config.settings().TIMEZONE


def _local(moment: datetime | None) -> str:
    return clock.local_time(moment, _tz()).strftime("%d/%m/%Y %H:%M") if moment else ""


def _filters():
    try:
        return feedback.parse_filters(request.args), None
    except feedback.FilterError as exc:
        return feedback.Filters(), feedback_words.text(exc.field)


def _setting_units():
    """The units whose low-score setting this user may change (managers' subtrees)."""
    session = get_session()
    if not access.can_anywhere(g.user, "feedback.manage"):
        return []
    out = []
    for root in access.scope_roots(session, g.user):
        for unit_id in sorted(units.subtree_ids(session, root.id)):
            unit = session.get(Unit, unit_id)
            if unit is not None and unit.active:
                out.append((unit, feedback.low_score_alert(session, unit.id)))
    return sorted(out, key=lambda pair: pair[0].code)


@bp.get("/feedback")
def feedback_inbox():
    filters, error = _filters()
    inbox = feedback.inbox(get_session(), g.user, filters, _tz())
    # Links keep the parsed filters only: the query as sent may hold url_for's
    # own keywords (endpoint, _external, _method...), which would break it.
    args = filters.args()
    page = render_template(
        "staff/feedback.html",
        inbox=inbox,
        filters=filters,
        error=error,
        args=args,
        local=_local,
        here=request.full_path,
        settings_units=_setting_units(),
    )
    return (page, 400) if error else page


@bp.get("/feedback/export.xlsx")
def feedback_export():
    filters, error = _filters()
    if error:  # the inbox with the message naming the filter
        return feedback_inbox()
    rows = feedback.export_rows(get_session(), g.user, filters, _tz())
    today = clock.local_today(_tz()).isoformat()
    return Response(
        xlsx.feedback_items(rows),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="y-kien-{today}.xlsx"',
            "Cache-Control": "no-store",
        },
    )


def _case_page(comment_id: int, error: str | None = None, code: int = 200, typed=None):
    session = get_session()
    try:
        case = feedback.case(session, g.user, comment_id, _tz())
    except LookupError:
        abort(404)
    manage = access.can(g.user, "feedback.manage", case.unit_id)
    page = render_template(
        "staff/feedback_case.html",
        case=case,
        c=case.item,
        error=error,
        local=_local,
        manage=manage,
        assignees=feedback.assignees(session, case.unit_id) if manage else [],
        contact_days=config.settings().FEEDBACK_CONTACT_DAYS,
        typed=typed or {},
    )
    return page, code


@bp.get("/feedback/<int:comment_id>")
def feedback_case(comment_id: int):
    return _case_page(comment_id)


def _act(comment_id: int, change, done: str):
    """Run one case change from a POST: 400 with the reason on the page, 404
    outside the scope, back to the case (or ``next``) when it is done."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    session = get_session()
    try:
        changed = change(session)
    except LookupError:
        abort(404)
    except feedback.CaseError as exc:
        return _case_page(comment_id, feedback_words.text(exc.code), 400, request.form.to_dict())
    except ValueError:
        abort(400)
    if changed is not False:
        feedback.purge_contacts(session)
        flash(done)
    target = safe_next(request.form.get("next"))
    return redirect(target or url_for("staff.feedback_case", comment_id=comment_id))


@bp.post("/feedback/<int:comment_id>/status")
def feedback_status(comment_id: int):
    return _act(
        comment_id,
        lambda s: feedback.set_status(
            s,
            g.user,
            comment_id,
            request.form.get("status", ""),
            request.form.get("reason", ""),
            config.settings().FEEDBACK_CONTACT_DAYS,
        ),
        _("Đã cập nhật trạng thái ý kiến #%(id)d.", id=comment_id),
    )


@bp.post("/feedback/<int:comment_id>/reply")
def feedback_reply(comment_id: int):
    return _act(
        comment_id,
        lambda s: feedback.set_reply(s, g.user, comment_id, request.form.get("reply", "")),
        _("Đã lưu câu trả lời công khai của ý kiến #%(id)d.", id=comment_id),
    )


@bp.post("/feedback/<int:comment_id>/assign")
def feedback_assign(comment_id: int):
    raw = (request.form.get("assignee") or "").strip()
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        abort(400)
    return _act(
        comment_id,
        lambda s: feedback.assign(s, g.user, comment_id, int(raw) if raw else None),
        _("Đã giao ý kiến #%(id)d.", id=comment_id),
    )


@bp.post("/feedback/<int:comment_id>/note")
def feedback_note(comment_id: int):
    return _act(
        comment_id,
        lambda s: feedback.add_note(s, g.user, comment_id, request.form.get("note", "")),
        _("Đã thêm ghi chú nội bộ cho ý kiến #%(id)d.", id=comment_id),
    )


@bp.post("/feedback/<int:comment_id>/kind")
def feedback_kind(comment_id: int):
    return _act(
        comment_id,
        lambda s: feedback.reclassify(s, g.user, comment_id, request.form.get("kind", "")),
        _("Đã đổi loại ý kiến #%(id)d.", id=comment_id),
    )


@bp.post("/feedback/settings/<int:unit_id>")
def feedback_setting(unit_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    value = request.form.get("low_score_alert", "")
    if value not in ("on", "off"):
        abort(400)
    session = get_session()
    if session.get(Unit, unit_id) is None:
        abort(404)
    try:
        changed = feedback.set_low_score_alert(session, g.user, unit_id, value == "on")
    except access.Forbidden:
        abort(403)
    if changed:
        flash(_("Đã lưu cài đặt của đơn vị."))
    return redirect(url_for("staff.feedback_inbox"))
