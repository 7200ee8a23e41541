"""A unit manager registers a desk's shared tablet and revokes it (issue 16, point 7)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pytest
from sqlalchemy import select, update

from survey.models import Desk, KioskDevice
from survey.services import kiosks
from tests.kiosk.support import devices, kiosk_cookie, register_here
from tests.support import audit_count, audit_events, csrf_token


def _code(db, desk: int) -> str:
    with db.session() as s:
        return s.get(Desk, desk).code


def test_manager_registers_this_browser_and_is_signed_out(demo_client, demo_db, world, sign_in_as):
    client = sign_in_as("unit_manager")
    resp = register_here(client, demo_db, world.desk_in, "  Máy tính bảng quầy 1 ")
    # Straight to the desk's survey page: the tablet is handed to citizens.
    assert resp.status_code == 302
    assert resp.location == f"/s/{_code(demo_db, world.desk_in)}"
    header = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("sv_kiosk="))
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert f"Max-Age={400 * 24 * 3600}" in header
    (device,) = devices(demo_db, world.desk_in)
    assert device.label == "Máy tính bảng quầy 1"
    assert device.created_by == world.users["cr_unit_manager"] and device.revoked_at is None
    device_id, _, token = kiosk_cookie(client).partition(".")
    assert int(device_id) == device.id
    # Only the hash is stored: the database cannot mint a tablet cookie.
    assert device.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in device.token_hash
    (event,) = audit_events(demo_db, "kiosk.register")
    assert event.actor == "cr_unit_manager" and event.entity_id == str(device.id)
    assert json.loads(event.after) == {
        "desk": world.desk_in,
        "label": "Máy tính bảng quầy 1",
        "revoked": False,
    }
    # The staff session on this browser has ended; a citizen cannot reach staff pages.
    page = client.get(f"/staff/desks/{world.desk_in}")
    assert page.status_code == 302 and "/staff/login" in page.location


@pytest.mark.parametrize(
    "role, unit",
    [("desk_staff", "KH-CAMRANH"), ("analyst", "KH-CAMRANH"), ("unit_manager", "KH-NHATRANG")],
)
def test_only_a_manager_of_the_desks_unit_registers(
    demo_client, demo_db, world, nocsrf, sign_in_as, role, unit
):
    client = sign_in_as(role, unit)
    before = audit_count(demo_db)
    resp = client.post(f"/staff/desks/{world.desk_in}/kiosks", data={"label": "Máy 1"})
    assert resp.status_code == 403
    assert devices(demo_db, world.desk_in) == []
    assert kiosk_cookie(client) is None
    assert audit_count(demo_db) == before
    # And the staff session is kept: a refusal signs nobody out.
    assert client.get("/staff/").status_code == 200


def test_the_card_is_for_managers_only(demo_client, world, sign_in_as):
    page = sign_in_as("desk_staff").get(f"/staff/desks/{world.desk_in}").get_data(as_text=True)
    assert "Máy tính bảng tại quầy" not in page
    assert f"/staff/desks/{world.desk_in}/kiosks" not in page


@pytest.mark.parametrize(
    "label, message",
    [
        ("   ", "Xin nhập thông tin này."),
        ("M" * 101, "Tối đa 100 ký tự."),
        ("Máy\x1b1", "Tên máy chứa ký tự không hợp lệ."),
    ],
)
def test_a_bad_label_is_refused_with_the_field_named(
    demo_client, demo_db, world, sign_in_as, label, message
):
    client = sign_in_as("unit_manager")
    before = audit_count(demo_db)
    resp = register_here(client, demo_db, world.desk_in, label)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert message in html and 'id="kiosk-label-err"' in html
    assert devices(demo_db, world.desk_in) == [] and kiosk_cookie(client) is None
    assert audit_count(demo_db) == before
    assert client.get("/staff/").status_code == 200  # still signed in


def test_the_list_shows_vietnam_time_and_who(demo_client, demo_db, world, sign_in_as, nocsrf):
    client = sign_in_as("unit_manager")
    resp = client.post(
        f"/staff/desks/{world.desk_in}/kiosks", data={"label": "Máy tính bảng quầy 1"}
    )
    assert resp.status_code == 302
    with demo_db.session() as s:
        s.execute(
            update(KioskDevice).values(
                created_at=datetime(2026, 11, 30, 18, 30),  # UTC: 01:30 next day in Vietnam
                last_used_at=None,
            )
        )
    page = sign_in_as("unit_manager").get(f"/staff/desks/{world.desk_in}").get_data(as_text=True)
    assert "Máy tính bảng quầy 1" in page and "01/12/2026 01:30" in page
    assert "30/11/2026 18:30" not in page
    assert "Chưa dùng" in page and "cr_unit_manager" in page
    with demo_db.session() as s:
        s.execute(update(KioskDevice).values(last_used_at=datetime(2026, 12, 1, 2, 5)))
    page = client.get(f"/staff/desks/{world.desk_in}").get_data(as_text=True)
    assert "01/12/2026 09:05" in page and "Chưa dùng" not in page


def _registered(demo_db, world) -> tuple[KioskDevice, str]:
    """A tablet of desk_in registered by the unit's manager, and its cookie value."""
    from survey.models import User

    with demo_db.session() as s:
        manager = s.get(User, world.users["cr_unit_manager"])
        device, token = kiosks.register(s, manager, s.get(Desk, world.desk_in), "Máy 1")
        s.flush()
        value = kiosks.cookie_value(device.id, token)
        s.expunge(device)
    return device, value


def test_revoke(demo_client, demo_db, world, sign_in_as):
    device, value = _registered(demo_db, world)
    client = sign_in_as("unit_manager")
    token = csrf_token(client, f"/staff/desks/{world.desk_in}")
    resp = client.post(f"/staff/kiosks/{device.id}/revoke", data={"csrf_token": token})
    assert resp.status_code == 302 and resp.location.endswith(f"/staff/desks/{world.desk_in}")
    (stored,) = devices(demo_db, world.desk_in)
    assert stored.revoked_at is not None and stored.revoked_by == world.users["cr_unit_manager"]
    (event,) = audit_events(demo_db, "kiosk.revoke")
    assert json.loads(event.before)["revoked"] is False
    assert json.loads(event.after)["revoked"] is True
    page = client.get(f"/staff/desks/{world.desk_in}").get_data(as_text=True)
    assert "Đã thu hồi máy tính bảng Máy 1" in page and "Đã thu hồi lúc" in page
    assert f"/staff/kiosks/{device.id}/revoke" not in page  # no second button
    with demo_db.session() as s:
        assert kiosks.verify(s, value, s.get(Desk, world.desk_in)) is None
    # Revoking again changes nothing and records nothing.
    again = client.post(f"/staff/kiosks/{device.id}/revoke", data={"csrf_token": token})
    assert again.status_code == 302 and len(audit_events(demo_db, "kiosk.revoke")) == 1


@pytest.mark.parametrize(
    "role, unit", [("desk_staff", "KH-CAMRANH"), ("unit_manager", "KH-NHATRANG")]
)
def test_only_a_manager_of_the_desks_unit_revokes(
    demo_client, demo_db, world, nocsrf, sign_in_as, role, unit
):
    device, value = _registered(demo_db, world)
    resp = sign_in_as(role, unit).post(f"/staff/kiosks/{device.id}/revoke")
    assert resp.status_code == 403
    (stored,) = devices(demo_db, world.desk_in)
    assert stored.revoked_at is None and audit_events(demo_db, "kiosk.revoke") == []


def test_revoke_without_csrf_or_unknown_device(demo_client, demo_db, world, sign_in_as):
    device, _value = _registered(demo_db, world)
    client = sign_in_as("unit_manager")
    assert client.post(f"/staff/kiosks/{device.id}/revoke").status_code == 400
    token = csrf_token(client, f"/staff/desks/{world.desk_in}")
    assert client.post("/staff/kiosks/999999/revoke", data={"csrf_token": token}).status_code == 404
    (stored,) = devices(demo_db, world.desk_in)
    assert stored.revoked_at is None


def test_verify_accepts_only_the_desks_own_unrevoked_cookie(demo_db, world):
    device, value = _registered(demo_db, world)
    _id, _, token = value.partition(".")
    with demo_db.session() as s:
        desk_in, desk_out = s.get(Desk, world.desk_in), s.get(Desk, world.desk_out)
        assert kiosks.verify(s, value, desk_in).id == device.id
        assert kiosks.verify(s, value, desk_out) is None  # another desk's tablet
        forged = [
            None,
            "",
            token,
            f"{device.id}.",
            f"{device.id}.{token[:-1]}x",
            f"{device.id + 1}.{token}",
            f"{'²'}.{token}",
            f"{device.id}.{token}" + "x" * 300,
            "x.y",
        ]
        assert [kiosks.verify(s, v, desk_in) for v in forged] == [None] * len(forged)
        assert s.scalar(select(KioskDevice.last_used_at)) is None
        kiosks.touch(s, kiosks.verify(s, value, desk_in))
        assert s.scalar(select(KioskDevice.last_used_at)) is not None
