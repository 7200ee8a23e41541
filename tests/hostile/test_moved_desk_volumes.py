"""A moved desk's volume history stays with its old unit, out of the new unit's reach.

Reports select and weight volumes by the unit each row was imported under (as
responses keep the unit they were given under), so after desk NT1 moves from
KH-NHATRANG to KH-CAMRANH its past counts still belong to Nha Trang: Cam
Ranh's manager may add months, not overwrite Nha Trang's.
"""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from survey.models import AuditEvent, Desk, Unit, User, Volume
from survey.services import volumes
from survey.services.demo import demo_code
from survey.services.org import desks as org_desks

TODAY = date(2026, 11, 22)
NT1 = demo_code("nt-1")
TOKEN = re.compile(r'name="token" type="hidden" value="([^"]+)"')
REFUSED = "số liệu tháng này của quầy “%s” đã được nhập cho một đơn vị ngoài phạm vi"


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch):
    monkeypatch.setattr("survey.clock.local_today", lambda _tz: TODAY)


def _move_nt1_to_cam_ranh(db, world) -> tuple[int, int, int]:
    """(desk id, old unit id, new unit id) after the admin moved the desk."""
    with db.session() as s:
        admin = s.get(User, world.users["admin"])
        desk = s.scalar(select(Desk).where(Desk.code == NT1))
        old_unit = desk.unit_id
        new_unit = s.get(Unit, world.units["KH-CAMRANH"])
        org_desks.move_desk(s, admin, desk, new_unit)
        return desk.id, old_unit, new_unit.id


def _rows(db, desk_id: int) -> dict[date, tuple[int, int]]:
    """month -> (unit id, count) of the desk's stored volumes."""
    with db.session() as s:
        found = s.execute(
            select(Volume.month, Volume.unit_id, Volume.count).where(Volume.desk_id == desk_id)
        )
        return {month: (unit, count) for month, unit, count in found}


def _imports(db) -> int:
    with db.session() as s:
        return s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "volume.import")
        )


def _upload(client, text: str):
    return client.post(
        "/staff/volumes",
        data={"file": (io.BytesIO(text.encode()), "so-lieu.csv")},
        buffered=True,
    )


def test_new_unit_cannot_overwrite_the_moved_desks_history(
    demo_client,
    demo_db,
    world,
    nocsrf,
    sign_in_as,
):
    desk_id, nha_trang, cam_ranh = _move_nt1_to_cam_ranh(demo_db, world)
    history = _rows(demo_db, desk_id)
    assert history[date(2026, 1, 1)][0] == nha_trang  # imported before the move
    sign_in_as("unit_manager")

    resp = _upload(demo_client, f"desk,month,count\n{NT1},2026-11,40\n{NT1},2026-01,999\n")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Dòng 3, cột desk: " + REFUSED % NT1 in html
    assert "Dòng 2" not in html  # the new month is fine
    assert _rows(demo_db, desk_id) == history and _imports(demo_db) == 0

    # A month with nothing stored is the new unit's to fill.
    ok = _upload(demo_client, f"desk,month,count\n{NT1},2026-11,40\n")
    assert ok.status_code == 200
    token = TOKEN.search(ok.get_data(as_text=True)).group(1)
    assert demo_client.post("/staff/volumes/confirm", data={"token": token}).status_code == 302
    assert _rows(demo_db, desk_id)[date(2026, 11, 1)] == (cam_ranh, 40)

    # Whoever has both units in scope may correct the old count; it stays Nha Trang's.
    with demo_db.session() as s:
        admin = s.get(User, world.users["admin"])
        parsed, plan = volumes.prepare(
            s, admin, f"desk,month,count\n{NT1},2026-01,999\n".encode(), TODAY
        )
        assert plan.ok and plan.replaced == 1
        volumes.apply(s, admin, plan)
    assert _rows(demo_db, desk_id)[date(2026, 1, 1)] == (nha_trang, 999)


def test_confirmation_rechecks_the_row_being_replaced(
    demo_client,
    demo_db,
    world,
    nocsrf,
    sign_in_as,
):
    """Staged when the month was empty, confirmed after the old unit filled it."""
    desk_id, nha_trang, _cam_ranh = _move_nt1_to_cam_ranh(demo_db, world)
    sign_in_as("unit_manager")
    preview = _upload(demo_client, f"desk,month,count\n{NT1},2026-11,40\n")
    assert preview.status_code == 200
    token = TOKEN.search(preview.get_data(as_text=True)).group(1)
    with demo_db.session() as s:
        s.add(Volume(unit_id=nha_trang, desk_id=desk_id, month=date(2026, 11, 1), count=12))
    resp = demo_client.post("/staff/volumes/confirm", data={"token": token})
    assert resp.status_code == 422
    assert REFUSED % NT1 in resp.get_data(as_text=True)
    assert _rows(demo_db, desk_id)[date(2026, 11, 1)] == (nha_trang, 12)
    assert _imports(demo_db) == 0
