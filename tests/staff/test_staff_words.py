"""No staff page shows UTC, a questionnaire key (``short@1``) or an audit code
(``target.update``): every page an admin can open in the demo, after changes of
every kind, is scanned for them."""

from __future__ import annotations

import re

from sqlalchemy import select

from survey.messages.audit import ACTIONS
from survey.models import Comment, QuestionnaireVersion, Sector, SectorGroup, Target, User
from tests.support import sign_in

QUESTIONNAIRE_KEY = re.compile(r"\b[a-z][a-z0-9_-]*@\d+\b")
ISO_TIME = re.compile(r"\b20\d\d-\d\d-\d\d[ T]\d\d:\d\d")
# Not pages: files, images and the background jobs' own pages (they need a job's token).
SKIPPED = re.compile(r"\.(png|svg|pdf|csv|xlsx|json)|<token>|export|/logout")


def _changes(client, world, short_version: int) -> None:
    """One change of each kind a unit makes, so the audit log has them all."""
    desk, ward = world.desk_in, world.units["KH-CAMRANH"]
    client.post(f"/staff/desks/{desk}/rename", data={"name": "Quầy 1 – Hộ tịch (mới)"})
    client.post(f"/staff/desks/{desk}/regenerate")
    client.post(f"/staff/desks/{desk}/sectors", data={"sector": ["HO_TICH"]})
    with_short = {"version": str(short_version)}
    client.post(f"/staff/units/{ward}/questionnaire", data=with_short)
    client.post(f"/staff/desks/{desk}/questionnaire", data=with_short)
    client.post(f"/staff/desks/{desk}/deactivate")
    client.post(f"/staff/desks/{desk}/reactivate")
    for threshold in ("85", "87"):
        client.post(
            f"/staff/units/{ward}/targets",
            data={"year": "2026", "group": "", "threshold": threshold, "source": "KH 1/2026"},
        )
    client.post(
        "/staff/users/new",
        data={"full_name": "Lê Văn Tâm", "username": "tam.le", "role": "analyst", "unit": ward},
    )
    client.post(f"/staff/users/{world.users['cr_desk_staff']}/reset")
    client.post(f"/staff/users/{world.users['cr_desk_staff']}/disable")


def _args(db, world) -> dict[str, object]:
    with db.session() as s:
        return {
            "unit_id": world.units["KH-CAMRANH"],
            "desk_id": world.desk_in,
            "target_id": s.scalar(select(Target.id).order_by(Target.id.desc())),
            "sector_id": s.scalar(select(Sector.id).order_by(Sector.id)),
            "group_id": s.scalar(select(SectorGroup.id).order_by(SectorGroup.id)),
            "user_id": world.users["cr_desk_staff"],
            "comment_id": s.scalar(select(Comment.id).order_by(Comment.id)),
        }


def test_no_staff_page_shows_utc_keys_or_audit_codes(
    demo_app, demo_client, demo_db, world, nocsrf, sign_in_as
):
    sign_in_as("admin", "KH", username="admin")
    with demo_db.session() as s:
        short = s.scalar(select(QuestionnaireVersion.id).where(QuestionnaireVersion.qid == "short"))
    _changes(demo_client, world, short)
    # A refused sign-in too (another browser), so the log has one.
    demo_app.test_client().post("/staff/login", data={"username": "admin", "password": "sai"})
    args = _args(demo_db, world)
    with demo_db.session() as s:
        s.scalar(select(User).where(User.username == "admin")).full_name = "Phạm Quản Trị"
    sign_in(demo_client, demo_db, "admin")
    pages = []
    with demo_app.test_request_context():
        from flask import url_for

        for rule in demo_app.url_map.iter_rules():
            if not rule.endpoint.startswith("staff.") or "GET" not in rule.methods:
                continue
            if SKIPPED.search(rule.rule) or rule.arguments - set(args):
                continue
            pages.append(url_for(rule.endpoint, **{k: args[k] for k in rule.arguments}))
    assert len(pages) >= 20
    problems = []
    for path in sorted(pages):
        resp = demo_client.get(path)
        if resp.status_code != 200 or resp.mimetype != "text/html":
            continue
        html = resp.get_data(as_text=True)
        text = re.sub(r"<[^>]+>", " ", html)  # the words shown, not attributes or URLs
        found = [
            *(["UTC"] if "UTC" in text else []),
            *QUESTIONNAIRE_KEY.findall(text),
            *ISO_TIME.findall(text),
            *[code for code in ACTIONS if re.search(rf"\b{re.escape(code)}\b", text)],
        ]
        if found:
            problems.append(f"{path}: {sorted(set(found))}")
    assert problems == [], "\n".join(problems)
    audit = demo_client.get("/staff/audit").get_data(as_text=True)
    # The actions in words, the target change as "85% → 87%", the admin by full name.
    assert "Sửa chỉ tiêu" in audit and "<del>85%</del> → <ins>87%</ins>" in audit
    assert "Phạm Quản Trị" in audit and "Cấp mã QR mới cho quầy" in audit
    assert "Phiếu rút gọn (phiên bản 1)" in audit
