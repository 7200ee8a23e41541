"""The audit log (admins, read-only: no route changes an event)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask import g, render_template, request
from sqlalchemy import func, select

from survey.models import AuditEvent
from survey.models._types import utcnow
from survey.services import access, auth
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


@bp.get("/audit")
def audit_log():
    access.require(g.user, "audit.view")
    db = get_session()
    page = min(max(1, request.args.get("page", 1, type=int)), MAX_PAGE)
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
