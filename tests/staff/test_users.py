"""Staff accounts in the browser: a manager adds, resets and disables a colleague;
nobody reaches beyond their subtree or their role."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from survey.models import User
from tests.support import audit_events

SECRET = re.compile(r'<code class="secret">([^<]+)</code>')


def _account(db, username: str) -> User:
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        s.expunge(user)
        return user


def _create(client, unit_id: int, username="lan.tran", role="desk_staff", name="Trần Thị Lan"):
    return client.post(
        "/staff/users/new",
        data={"full_name": name, "username": username, "role": role, "unit": str(unit_id)},
    )


def _login(client, username: str, password: str):
    return client.post("/staff/login", data={"username": username, "password": password})


def test_a_manager_adds_resets_and_disables_a_colleague(
    demo_app, demo_client, demo_db, world, nocsrf, sign_in_as
):
    sign_in_as("unit_manager")
    ward = world.units["KH-CAMRANH"]
    created = _create(demo_client, ward)
    assert created.status_code == 200
    first = SECRET.search(created.get_data(as_text=True)).group(1)
    account = _account(demo_db, "lan.tran")
    assert (account.role, account.unit_id, account.full_name) == (
        "desk_staff",
        ward,
        "Trần Thị Lan",
    )
    # The one-time password is shown once: neither the list nor the account page repeats it.
    assert first not in demo_client.get("/staff/users").get_data(as_text=True)
    page = demo_client.get(f"/staff/users/{account.id}").get_data(as_text=True)
    assert first not in page and "Chờ đổi mật khẩu lần đầu" in page

    # The colleague signs in with it on another browser and must change it first.
    colleague = demo_app.test_client()
    assert _login(colleague, "lan.tran", first).location.endswith("/staff/password")

    # A reset: a new one-time password, the colleague's session ends, the old password fails.
    reset = demo_client.post(f"/staff/users/{account.id}/reset")
    assert reset.status_code == 200
    second = SECRET.search(reset.get_data(as_text=True)).group(1)
    assert second != first
    assert "/staff/login" in colleague.get("/staff/password").location
    assert _login(colleague, "lan.tran", first).status_code == 422
    assert _login(colleague, "lan.tran", second).status_code == 302

    # Disabling signs the colleague out everywhere and refuses the next sign-in.
    assert demo_client.post(f"/staff/users/{account.id}/disable").status_code == 302
    assert "/staff/login" in colleague.get("/staff/password").location
    assert _login(colleague, "lan.tran", second).status_code == 422
    listed = demo_client.get("/staff/users?active=0").get_data(as_text=True)
    assert "Trần Thị Lan" in listed
    # And enabling lets them in again, with the same one-time password to change.
    assert demo_client.post(f"/staff/users/{account.id}/enable").status_code == 302
    assert _login(colleague, "lan.tran", second).status_code == 302

    actions = [
        e.action
        for a in ("create", "password_reset", "disable", "enable")
        for e in audit_events(demo_db, f"user.{a}")
    ]
    assert actions == ["user.create", "user.password_reset", "user.disable", "user.enable"]
    manager = _account(demo_db, "cr_unit_manager")
    assert {e.user_id for e in audit_events(demo_db, "user.disable")} == {manager.id}


def test_the_manager_changes_role_and_unit_within_the_subtree(
    demo_client, demo_db, world, nocsrf, sign_in_as
):
    sign_in_as("unit_manager")
    staff = world.users["cr_desk_staff"]
    resp = demo_client.post(
        f"/staff/users/{staff}", data={"role": "analyst", "unit": str(world.child_in)}
    )
    assert resp.status_code == 302
    moved = _account(demo_db, "cr_desk_staff")
    assert (moved.role, moved.unit_id) == ("analyst", world.child_in)
    html = demo_client.get("/staff/audit").get_data(as_text=True)  # targets only for managers
    assert "Sửa vai trò" not in html
    # Another ward, or the admin role: refused, nothing changes.
    for data in (
        {"role": "analyst", "unit": str(world.units["KH-NHATRANG"])},
        {"role": "admin", "unit": str(world.child_in)},
    ):
        assert demo_client.post(f"/staff/users/{staff}", data=data).status_code == 403
    assert _account(demo_db, "cr_desk_staff").unit_id == world.child_in


@pytest.mark.parametrize(
    ("unit", "role"),
    [("KH-NHATRANG", "desk_staff"), ("KH", "analyst"), ("KH-CAMRANH", "admin")],
)
def test_a_manager_never_creates_outside_the_subtree_or_an_admin(
    demo_client, demo_db, world, nocsrf, sign_in_as, unit, role
):
    sign_in_as("unit_manager")
    resp = _create(demo_client, world.units[unit], role=role)
    assert resp.status_code == 403
    with demo_db.session() as s:
        assert s.scalar(select(User).where(User.username == "lan.tran")) is None


def test_a_manager_cannot_touch_admins_other_wards_or_itself(
    demo_client, demo_db, world, nocsrf, sign_in_as
):
    sign_in_as("unit_manager")
    admin_here, elsewhere = world.users["cr_admin"], world.users["nt_analyst"]
    own = world.users["cr_unit_manager"]
    for user_id in (admin_here, elsewhere):
        for path in ("", "/reset", "/disable"):
            assert demo_client.get(f"/staff/users/{user_id}{path}").status_code == 403
        assert demo_client.post(f"/staff/users/{user_id}/disable").status_code == 403
    listed = demo_client.get("/staff/users").get_data(as_text=True)
    assert "cr_admin" not in listed and "nt_analyst" not in listed and "cr_analyst" in listed
    # Its own account: not disabled, not reset from here.
    resp = demo_client.post(f"/staff/users/{own}/disable", follow_redirects=True)
    assert "Không thể tự khóa" in resp.get_data(as_text=True)
    assert _account(demo_db, "cr_unit_manager").active
    assert audit_events(demo_db, "user.disable") == []


def test_desk_staff_and_analysts_manage_no_accounts(
    demo_client, demo_db, world, nocsrf, sign_in_as
):
    for role in ("desk_staff", "analyst"):
        sign_in_as(role)
        assert demo_client.get("/staff/users").status_code == 403
        assert _create(demo_client, world.units["KH-CAMRANH"]).status_code == 403
        assert "/staff/users" not in demo_client.get("/staff/").get_data(as_text=True)


def test_an_admin_creates_an_admin_and_usernames_are_unique_in_any_case(
    demo_client, demo_db, world, nocsrf, sign_in_as
):
    sign_in_as("admin", "KH")
    assert _create(demo_client, world.units["KH"], "tinh.admin", "admin").status_code == 200
    assert _account(demo_db, "tinh.admin").role == "admin"
    again = _create(demo_client, world.units["KH"], "Tinh.Admin", "analyst")
    assert again.status_code == 422
    assert "Tên đăng nhập này đã có người dùng" in again.get_data(as_text=True)
    # The audit log names the admin by full name and the action in words.
    html = demo_client.get("/staff/audit").get_data(as_text=True)
    assert "Tạo tài khoản" in html and "user.create" not in html


def test_the_user_list_searches_by_name_and_filters_by_role(
    demo_client, demo_db, world, nocsrf, sign_in_as
):
    sign_in_as("admin", "KH")
    _create(demo_client, world.units["KH-CAMRANH"], "an.nguyen", "analyst", "Nguyễn Văn An")
    found = demo_client.get("/staff/users?q=văn an").get_data(as_text=True)
    assert "Nguyễn Văn An" in found and "cr_desk_staff" not in found
    by_role = demo_client.get("/staff/users?role=desk_staff").get_data(as_text=True)
    assert "cr_desk_staff" in by_role and "Nguyễn Văn An" not in by_role
    assert "Chưa đăng nhập" in by_role
