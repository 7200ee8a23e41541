"""The audit log, read-only (no route changes an event).

Admins read every event; unit managers and analysts read the target changes
(``target.*``) of their subtree, so whoever judges a unit can check who moved
the bar it is judged against.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import g, render_template, request
from flask_babel import gettext as _
from sqlalchemy import func, select

from survey.messages import audit as audit_words
from survey.messages import times
from survey.models import AuditEvent, User
from survey.models._types import utcnow
from survey.services import access, auth
from survey.services.org import targets as org_targets
from survey.staff import bp
from survey.web_db import get_session

AUDIT_PAGE_SIZE = 50
MAX_PAGE = 100_000  # keeps OFFSET inside a 64-bit integer
# The audit page sums up refused sign-ins over this window.
FAILED_SIGN_IN_WINDOW = timedelta(hours=24)


def _rows(db, events) -> list[dict[str, Any]]:
    """Each event in words: when (Vietnam time), who (full name), what, on what, the changes."""
    names = dict(
        db.execute(
            select(User.username, User.full_name).where(
                User.username.in_({e.actor for e in events if e.actor})
            )
        ).all()
    )
    return [
        {
            "at": times.local(e.at),
            "actor": names.get(e.actor)
            or (_("Dòng lệnh trên máy chủ") if e.actor == "cli" else e.actor)
            or _("Không rõ (chưa đăng nhập)"),
            "username": e.actor if names.get(e.actor) else "",
            "action": audit_words.action_label(e.action),
            "entity": audit_words.entity_label(e.entity),
            "entity_id": e.entity_id,
            "changes": audit_words.changes(e.before, e.after),
        }
        for e in events
    ]


def _target_log(db, page: int):
    """Non-admins who judge units: the ``target.*`` events of their subtree only."""
    events = org_targets.target_events(db, access.scope_ids(db, g.user))
    shown = events[(page - 1) * AUDIT_PAGE_SIZE : page * AUDIT_PAGE_SIZE]
    return render_template(
        "staff/audit.html",
        failed=None,
        targets_only=True,
        events=_rows(db, shown),
        page=page,
        pages=max(1, -(-len(events) // AUDIT_PAGE_SIZE)),
        total=len(events),
    )


@bp.get("/audit")
def audit_log():
    db = get_session()
    page = min(max(1, request.args.get("page", 1, type=int)), MAX_PAGE)
    if not access.can(g.user, "audit.view"):
        if not access.can_anywhere(g.user, "target.audit"):
            raise access.Forbidden("audit.view")
        return _target_log(db, page)
    total = db.scalar(select(func.count()).select_from(AuditEvent)) or 0
    events = db.scalars(
        select(AuditEvent)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(AUDIT_PAGE_SIZE)
        .offset((page - 1) * AUDIT_PAGE_SIZE)
    ).all()
    return render_template(
        "staff/audit.html",
        failed=auth.failed_sign_ins(db, utcnow() - FAILED_SIGN_IN_WINDOW),
        events=_rows(db, events),
        page=page,
        pages=max(1, -(-total // AUDIT_PAGE_SIZE)),
        total=total,
    )
