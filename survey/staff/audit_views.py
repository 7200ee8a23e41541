"""The audit log, read-only (no route changes an event).

Admins read every event; unit managers and analysts read the target changes
(``target.*``) of their subtree, so whoever judges a unit can check who moved
the bar it is judged against.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask import g, render_template, request
from sqlalchemy import func, select

from survey.models import AuditEvent
from survey.models._types import utcnow
from survey.services import access, auth
from survey.services.org import targets as org_targets
from survey.staff import bp
from survey.web_db import get_session

AUDIT_PAGE_SIZE = 50
MAX_PAGE = 100_000  # keeps OFFSET inside a 64-bit integer
# The audit page sums up refused sign-ins over this window.
FAILED_SIGN_IN_WINDOW = timedelta(hours=24)


def _changes(before: str | None, after: str | None) -> list[tuple[str, Any, Any]]:
    old = json.loads(before) if before else {}
    new = json.loads(after) if after else {}
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [("", old, new)]
    keys = sorted(set(old) | set(new))
    return [(k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k) or not old]


def _target_log(db, page: int):
    """Non-admins who judge units: the ``target.*`` events of their subtree only."""
    events = org_targets.target_events(db, access.scope_ids(db, g.user))
    shown = events[(page - 1) * AUDIT_PAGE_SIZE : page * AUDIT_PAGE_SIZE]
    return render_template(
        "staff/audit.html",
        failed=None,
        targets_only=True,
        events=[(e, _changes(e.before, e.after)) for e in shown],
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
        events=[(e, _changes(e.before, e.after)) for e in events],
        page=page,
        pages=max(1, -(-total // AUDIT_PAGE_SIZE)),
        total=total,
    )
