"""Every staff route, for every role, inside and outside the role's subtree.

Users of each role are scoped to KH-CAMRANH (a ward); "in" objects belong to
KH-CAMRANH, "out" objects to KH-NHATRANG (another ward).  The expected rights
are written out here, independently of survey.services.access, so a change to
the permission table must be a deliberate change to this spec too.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from survey.models import Comment, Desk, Response, Sector, SectorGroup
from tests.support import audit_count

ALL = {"admin", "unit_manager", "desk_staff", "analyst"}
MANAGE = {"admin", "unit_manager"}
READ = {"admin", "unit_manager", "analyst"}
ADMIN = {"admin"}

# (method, path template, roles allowed, scoped?) in walking order: changes that
# would disturb later steps (moving, deleting, signing out) come last.
ROUTES = [
    ("GET", "/staff/", ALL, False),
    ("GET", "/staff/units", ALL, False),
    ("GET", "/staff/password", ALL, False),
    ("GET", "/staff/units/{unit}", ALL, True),
    ("GET", "/staff/units/{unit}/new", MANAGE, True),
    ("POST", "/staff/units/{unit}/new", MANAGE, True),
    ("POST", "/staff/units/{unit}/questionnaire", MANAGE, True),
    ("GET", "/staff/units/{unit}/desks/new", MANAGE, True),
    ("POST", "/staff/units/{unit}/desks/new", MANAGE, True),
    ("GET", "/staff/units/{unit}/posters.pdf", {"admin", "unit_manager", "desk_staff"}, True),
    ("GET", "/staff/units/{unit}/targets", READ, True),
    ("POST", "/staff/units/{unit}/targets", MANAGE, True),
    ("GET", "/staff/units/{unit}/volumes", READ, True),
    ("GET", "/staff/units/{unit}/volumes/template.csv", MANAGE, True),
    ("GET", "/staff/units/{unit}/volumes/template.xlsx", MANAGE, True),
    ("POST", "/staff/units/{unit}/volumes", MANAGE, True),
    ("GET", "/staff/desks/{desk}", ALL, True),
    ("GET", "/staff/desks/{desk}/qr.png", {"admin", "unit_manager", "desk_staff"}, True),
    ("GET", "/staff/desks/{desk}/qr.svg", {"admin", "unit_manager", "desk_staff"}, True),
    ("GET", "/staff/desks/{desk}/poster.pdf", {"admin", "unit_manager", "desk_staff"}, True),
    ("GET", "/staff/desks/{desk}/deactivate", MANAGE, True),
    ("GET", "/staff/desks/{desk}/regenerate", MANAGE, True),
    ("GET", "/staff/targets/{target}/delete", MANAGE, True),
    ("POST", "/staff/desks/{desk}/rename", MANAGE, True),
    ("POST", "/staff/desks/{desk}/questionnaire", MANAGE, True),
    ("POST", "/staff/desks/{desk}/sectors", MANAGE, True),
    ("POST", "/staff/desks/{desk}/deactivate", MANAGE, True),
    ("POST", "/staff/desks/{desk}/reactivate", MANAGE, True),
    ("POST", "/staff/desks/{desk}/regenerate", MANAGE, True),
    ("POST", "/staff/desks/{desk}/move", MANAGE, True),
    ("POST", "/staff/targets/{target}/delete", MANAGE, True),
    ("GET", "/staff/volumes", MANAGE, False),
    ("POST", "/staff/volumes", MANAGE, False),
    ("POST", "/staff/volumes/confirm", MANAGE, False),
    ("GET", "/staff/sectors", ADMIN, False),
    ("POST", "/staff/sectors", ADMIN, False),
    ("GET", "/staff/sectors/{sector}", ADMIN, False),
    ("POST", "/staff/sectors/{sector}", ADMIN, False),
    ("POST", "/staff/sector-groups", ADMIN, False),
    ("GET", "/staff/sector-groups/{group}", ADMIN, False),
    ("POST", "/staff/sector-groups/{group}", ADMIN, False),
    # Admins: every event; managers and analysts: the target changes of their subtree.
    ("GET", "/staff/audit", READ, False),
    # Accounts: admins everywhere, managers in their subtree ("in": a desk staff of
    # KH-CAMRANH; "out": the analyst of KH-NHATRANG), the new account in the body's unit.
    ("GET", "/staff/users", MANAGE, False),
    ("GET", "/staff/users/new", MANAGE, False),
    ("POST", "/staff/users/new", MANAGE, True),
    ("GET", "/staff/users/{user}", MANAGE, True),
    ("POST", "/staff/users/{user}", MANAGE, True),
    ("GET", "/staff/users/{user}/reset", MANAGE, True),
    ("POST", "/staff/users/{user}/reset", MANAGE, True),
    ("GET", "/staff/users/{user}/disable", MANAGE, True),
    ("POST", "/staff/users/{user}/disable", MANAGE, True),
    ("POST", "/staff/users/{user}/enable", MANAGE, True),
    # Citizens' feedback: never desk staff (a complaint may be about them); a case
    # outside the subtree answers 404 (ids reveal nothing), see FEEDBACK_CASE.
    ("GET", "/staff/feedback", READ, False),
    ("GET", "/staff/feedback/export.xlsx", READ, False),
    ("GET", "/staff/feedback/{comment}", READ, True),
    ("POST", "/staff/feedback/{comment}/note", MANAGE, True),
    ("POST", "/staff/feedback/{comment}/assign", MANAGE, True),
    ("POST", "/staff/feedback/{comment}/kind", MANAGE, True),
    ("POST", "/staff/feedback/{comment}/reply", MANAGE, True),
    ("POST", "/staff/feedback/{comment}/status", MANAGE, True),
    ("POST", "/staff/feedback/settings/{unit}", MANAGE, True),
    ("POST", "/staff/logout", ALL, False),
]
FEEDBACK_CASE = "/staff/feedback/{comment}"


def _comment_of(db, unit_id: int) -> int:
    with db.session() as s:
        return s.scalar(
            select(Comment.id)
            .join(Response, Response.id == Comment.response_id)
            .where(Response.unit_id == unit_id)
            .order_by(Comment.id)
            .limit(1)
        )


def _ids(db, world, where: str) -> dict[str, int]:
    with db.session() as s:
        sector = s.scalar(select(Sector.id).where(Sector.code == "HO_TICH"))
        group = s.scalar(select(SectorGroup.id).where(SectorGroup.code == "YT-GD"))
    unit = world.units["KH-CAMRANH" if where == "in" else "KH-NHATRANG"]
    return {
        "unit": unit,
        "desk": world.desk_in if where == "in" else world.desk_out,
        "target": world.target_in if where == "in" else world.target_out,
        "sector": sector,
        "group": group,
        "user": world.users["cr_desk_staff" if where == "in" else "nt_analyst"],
        "comment": _comment_of(db, unit),
    }


def _body(path: str, ids: dict[str, int], world, step: str, desk_code: str):
    """A valid form for the route (so an allowed request can succeed)."""
    if path.startswith("/staff/feedback/"):
        return {
            "note": "Ghi chú thử",
            "assignee": "",
            "kind": "complaint",
            "reply": "Đã bố trí thêm cán bộ.",
            "status": "in_progress",
            "low_score_alert": "off",
        }
    if path == "/staff/users/new":
        name = f"user-{step}".lower()
        return {
            "full_name": "Nguyễn Văn Thử",
            "username": name,
            "role": "desk_staff",
            "unit": ids["unit"],
        }
    if path == "/staff/users/{user}":
        return {"role": "analyst", "unit": ids["unit"]}
    if path.endswith("/new") and "/desks/" not in path:
        return {"code": f"KH-TEST-{step}", "name": "Đơn vị thử", "kind": "ward"}
    if path.endswith("/desks/new"):
        return {"name": "Quầy thử nghiệm"}
    if path.endswith("/rename"):  # not the new desk's name: a unit's desk names differ
        return {"name": "Quầy thử nghiệm (đổi tên)"}
    if path.endswith("/questionnaire"):
        return {"version": ""}
    if path.startswith("/staff/desks/") and path.endswith("/sectors"):
        return {"sector": "HO_TICH"}
    if path.endswith("/targets"):
        return {"year": "2031", "group": "", "threshold": "85,5", "source": "thử"}
    if path.endswith("/move"):
        return {"unit": str(world.child_in)}
    if path == "/staff/volumes":
        csv = f"desk,month,count\n{desk_code},2026-01,5\n".encode()
        return {"file": (io.BytesIO(csv), "volumes.csv")}
    if path == "/staff/volumes/confirm":
        return {"token": "not-a-staged-upload"}
    if path == "/staff/sectors":
        return {"code": f"TEST_{step}", "name": "Lĩnh vực thử", "name_en": "", "group": ""}
    if path.startswith("/staff/sectors/"):
        return {"name": "Hộ tịch (sửa)", "name_en": "Civil status", "group": ""}
    if path == "/staff/sector-groups":
        return {"code": f"G-TEST-{step}", "name": "Nhóm thử", "name_en": ""}
    if path.startswith("/staff/sector-groups/"):
        return {"name": "Y tế, giáo dục (sửa)", "name_en": ""}
    return {}


def _walk(client, db, world, role: str | None) -> list[str]:
    problems = []
    for where in ("in", "out"):
        ids = _ids(db, world, where)
        for step, (method, template, roles, scoped) in enumerate(ROUTES):
            if where == "out" and not scoped:
                continue
            if template == "/staff/logout" and where == "in":
                continue  # walked last, once, below
            path = template.format(**ids)
            with db.session() as s:
                desk_code = s.get(Desk, ids["desk"]).code
            before = audit_count(db)
            if method == "GET":
                resp = client.get(path)
            else:
                body = _body(template, ids, world, f"{where}{step}".upper(), desk_code)
                resp = client.post(path, data=body)
            status = resp.status_code
            location = resp.headers.get("Location", "")
            label = f"{role} {method} {path} ({where})"
            if role is None:
                if status != 302 or "/staff/login" not in location:
                    problems.append(f"{label}: anonymous got {status} {location}")
                elif audit_count(db) != before:
                    problems.append(f"{label}: anonymous request wrote an audit event")
                continue
            allowed = role in roles and (role == "admin" or where == "in" or not scoped)
            if allowed:
                # Valid forms: success, except the made-up upload token (409).
                expected_error = template == "/staff/volumes/confirm" and status == 409
                if (status >= 400 and not expected_error) or "/staff/login" in location:
                    problems.append(f"{label}: expected allowed, got {status} {location}")
            else:
                # A case outside the subtree is answered as if it did not exist.
                hidden = template.startswith(FEEDBACK_CASE) and role in roles
                if status != (404 if hidden else 403):
                    problems.append(f"{label}: expected 403, got {status} {location}")
                if audit_count(db) != before:
                    problems.append(f"{label}: denied request wrote an audit event")
    resp = client.post("/staff/logout")
    if role is not None and (resp.status_code != 302 or "/staff/login" not in resp.location):
        problems.append(f"{role} POST /staff/logout: got {resp.status_code}")
    if role is not None and client.get("/staff/").status_code != 302:
        problems.append(f"{role}: still signed in after logout")
    return problems


@pytest.mark.parametrize("role", ["admin", "unit_manager", "desk_staff", "analyst", None])
def test_every_route_for_every_role(demo_client, demo_db, world, nocsrf, sign_in_as, role):
    if role is not None:
        sign_in_as(role)
    problems = _walk(demo_client, demo_db, world, role)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(("username", "other"), [("cr_analyst", "nt"), ("nt_analyst", "cr")])
def test_an_analyst_never_sees_another_wards_data(
    demo_client, demo_db, world, sign_in_as, username, other
):
    """Every page the analyst can open, checked for the other ward's names and codes."""
    with demo_db.session() as s:
        other_unit = world.units["KH-NHATRANG" if other == "nt" else "KH-CAMRANH"]
        own_unit = world.units["KH-CAMRANH" if other == "nt" else "KH-NHATRANG"]
        foreign = [
            text
            for desk in s.scalars(select(Desk).where(Desk.unit_id == other_unit))
            for text in (desk.code, desk.name)
        ]
        own_desk = s.scalar(select(Desk.id).where(Desk.unit_id == own_unit).order_by(Desk.id))
    foreign.append("Phường Nha Trang" if other == "nt" else "Phường Cam Ranh")
    sign_in_as("analyst", "KH-CAMRANH" if other == "nt" else "KH-NHATRANG", username=username)
    ids = {"unit": own_unit, "desk": own_desk, "target": 0, "sector": 0, "group": 0, "user": 0}
    ids["comment"] = _comment_of(demo_db, own_unit)
    seen = 0
    for method, template, roles, _scoped in ROUTES:
        if (
            method != "GET"
            or "analyst" not in roles
            or template.endswith((".png", ".svg", ".xlsx"))
        ):
            continue
        resp = demo_client.get(template.format(**ids) + "?year=2026")
        assert resp.status_code == 200, template
        html = resp.get_data(as_text=True)
        leaked = [text for text in foreign if text in html]
        assert leaked == [], f"{template} shows {leaked}"
        seen += 1
    assert seen >= 6
