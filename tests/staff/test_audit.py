"""The audit log: written for every change, shown to admins, changed by no route."""

from __future__ import annotations

from tests.support import audit_count

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def test_audit_page_shows_who_what_before_after(demo_client, demo_db, world, nocsrf, sign_in_as):
    sign_in_as("admin", "KH")
    demo_client.post(f"/staff/desks/{world.desk_out}/rename", data={"name": "Quầy đổi tên"})
    html = demo_client.get("/staff/audit").get_data(as_text=True)
    assert "Đổi tên quầy" in html and "desk.rename" not in html and "admin" in html
    assert "<del>Quầy Hộ tịch</del> → <ins>Quầy đổi tên</ins>" in html


def test_no_route_changes_audit_events(demo_app, demo_client, demo_db, world, nocsrf, sign_in_as):
    for rule in demo_app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert not (rule.methods & WRITE_METHODS), rule.rule
    sign_in_as("admin", "KH")
    demo_client.post(f"/staff/desks/{world.desk_in}/deactivate")
    events = audit_count(demo_db)
    assert events > 0
    for method in ("post", "put", "patch", "delete"):
        for path in ("/staff/audit", "/staff/audit/1", "/staff/audit/1/delete"):
            assert getattr(demo_client, method)(path).status_code in (404, 405), (method, path)
    assert audit_count(demo_db) == events


def test_the_full_audit_log_is_for_admins_only(demo_client, demo_db, world, nocsrf, sign_in_as):
    sign_in_as("admin")
    demo_client.post(f"/staff/desks/{world.desk_in}/rename", data={"name": "Quầy đổi tên"})
    assert "Đổi tên quầy" in demo_client.get("/staff/audit").get_data(as_text=True)
    sign_in_as("desk_staff")
    assert demo_client.get("/staff/audit").status_code == 403
    # Managers and analysts read the target changes of their subtree, nothing else.
    for role in ("unit_manager", "analyst"):
        sign_in_as(role)
        resp = demo_client.get("/staff/audit")
        assert resp.status_code == 200
        html = resp.get_data(as_text=True)
        assert "Đổi tên quầy" not in html and "Đăng nhập sai" not in html
