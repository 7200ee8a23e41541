"""Units, desks (incl. public code regeneration), questionnaire assignment, sectors."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from survey.models import Desk, DeskCodeHistory, QuestionnaireVersion, Response, Sector, Unit, User
from survey.services import access
from survey.services.codes import ALPHABET, LENGTH
from survey.services.org import desks as org_desks
from tests.support import audit_count, audit_events


def _desk(db, desk_id) -> Desk:
    with db.session() as s:
        desk = s.get(Desk, desk_id)
        s.expunge(desk)
        return desk


@pytest.fixture
def manager(demo_client, demo_db, world, nocsrf, sign_in_as):
    sign_in_as("unit_manager")
    return demo_client


def test_create_desk_gets_a_fresh_public_code(manager, demo_db, world):
    unit = world.units["KH-CAMRANH"]
    resp = manager.post(f"/staff/units/{unit}/desks/new", data={"name": "  Quầy 4 – Đất đai  "})
    assert resp.status_code == 302
    desk_id = int(resp.location.rsplit("/", 1)[1])
    desk = _desk(demo_db, desk_id)
    assert desk.name == "Quầy 4 – Đất đai" and desk.unit_id == unit and desk.active
    assert len(desk.code) == LENGTH and set(desk.code) <= set(ALPHABET)
    assert manager.get(f"/s/{desk.code}").status_code == 200
    page = manager.get(f"/staff/desks/{desk_id}").get_data(as_text=True)
    assert desk.code in page and f"/s/{desk.code}" in page
    (event,) = audit_events(demo_db, "desk.create")
    assert event.actor == "cr_unit_manager" and event.user_id == world.users["cr_unit_manager"]
    assert event.before is None
    assert json.loads(event.after) == {
        "code": desk.code,
        "name": "Quầy 4 – Đất đai",
        "unit": "KH-CAMRANH",
        "active": True,
        "questionnaire": None,
    }


def test_invalid_desk_name_rerenders_with_message_and_writes_nothing(manager, demo_db, world):
    unit = world.units["KH-CAMRANH"]
    with demo_db.session() as s:
        before = s.scalar(select(func.count()).select_from(Desk))
    events = audit_count(demo_db)
    for name in ("", "   ", "x" * 201):
        resp = manager.post(f"/staff/units/{unit}/desks/new", data={"name": name})
        assert resp.status_code == 422
        html = resp.get_data(as_text=True)
        assert 'class="err"' in html and 'aria-invalid="true"' in html
    with demo_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Desk)) == before
    assert audit_count(demo_db) == events


def test_rename_move_deactivate_reactivate(manager, demo_db, world):
    desk_id = world.desk_in
    old = _desk(demo_db, desk_id)
    assert (
        manager.post(f"/staff/desks/{desk_id}/rename", data={"name": "Quầy mới"}).status_code == 302
    )
    (rename,) = audit_events(demo_db, "desk.rename")
    assert json.loads(rename.before)["name"] == old.name
    assert json.loads(rename.after)["name"] == "Quầy mới"

    with demo_db.session() as s:
        answered_under = set(s.scalars(select(Response.unit_id).where(Response.desk_id == desk_id)))
    resp = manager.post(f"/staff/desks/{desk_id}/move", data={"unit": str(world.child_in)})
    assert resp.status_code == 302
    assert _desk(demo_db, desk_id).unit_id == world.child_in
    (move,) = audit_events(demo_db, "desk.move")
    assert json.loads(move.before)["unit"] == "KH-CAMRANH"
    assert json.loads(move.after)["unit"] == "KH-CAMRANH-TO1"
    with demo_db.session() as s:
        # Responses keep the unit they were given under.
        assert set(s.scalars(select(Response.unit_id).where(Response.desk_id == desk_id))) == (
            answered_under
        )

    assert manager.post(f"/staff/desks/{desk_id}/deactivate").status_code == 302
    closed = manager.get(f"/s/{old.code}")
    assert closed.status_code == 410 and "không nhận đánh giá" in closed.get_data(as_text=True)
    assert manager.post(f"/staff/desks/{desk_id}/reactivate").status_code == 302
    assert manager.get(f"/s/{old.code}").status_code == 200
    assert [json.loads(e.after)["active"] for e in audit_events(demo_db, "desk.deactivate")] == [
        False
    ]
    assert len(audit_events(demo_db, "desk.reactivate")) == 1


def test_moving_a_desk_out_of_scope_is_refused(manager, demo_db, world):
    other_ward = world.units["KH-NHATRANG"]
    events = audit_count(demo_db)
    resp = manager.post(f"/staff/desks/{world.desk_in}/move", data={"unit": str(other_ward)})
    assert resp.status_code == 422  # not among the offered destinations
    assert _desk(demo_db, world.desk_in).unit_id == world.units["KH-CAMRANH"]
    assert audit_count(demo_db) == events
    # The service refuses it too, whatever the view offers.
    with demo_db.session() as s:
        user = s.get(User, world.users["cr_unit_manager"])
        with pytest.raises(access.Forbidden):
            org_desks.move_desk(s, user, s.get(Desk, world.desk_in), s.get(Unit, other_ward))


def test_regenerated_code_retires_the_old_one(manager, demo_db, world):
    desk_id = world.desk_in
    old_code = _desk(demo_db, desk_id).code
    assert manager.get(f"/s/{old_code}").status_code == 200
    resp = manager.post(f"/staff/desks/{desk_id}/regenerate")
    assert resp.status_code == 302
    new_code = _desk(demo_db, desk_id).code
    assert new_code != old_code
    replaced = manager.get(f"/s/{old_code}")
    assert replaced.status_code == 410
    assert "đã được thay" in replaced.get_data(as_text=True)
    assert manager.get(f"/s/{new_code.lower()}").status_code == 200
    with demo_db.session() as s:
        assert s.scalar(
            select(DeskCodeHistory.desk_id).where(DeskCodeHistory.code == old_code)
        ) == (desk_id)
    (event,) = audit_events(demo_db, "desk.regenerate_code")
    assert json.loads(event.before)["code"] == old_code
    assert json.loads(event.after)["code"] == new_code
    page = manager.get(f"/staff/desks/{desk_id}").get_data(as_text=True)
    assert old_code in page and "Mã QR cũ" in page


def test_create_child_unit(manager, demo_db, world):
    parent = world.units["KH-CAMRANH"]
    resp = manager.post(
        f"/staff/units/{parent}/new",
        data={"code": "kh-camranh-to2", "name": "Tổ 2", "kind": "office"},
    )
    assert resp.status_code == 302
    with demo_db.session() as s:
        unit = s.scalar(select(Unit).where(Unit.code == "KH-CAMRANH-TO2"))
        assert unit.parent_id == parent and unit.kind == "office"
    assert "KH-CAMRANH-TO2" in manager.get("/staff/units").get_data(as_text=True)
    (event,) = audit_events(demo_db, "unit.create")
    assert json.loads(event.after)["parent"] == "KH-CAMRANH"
    for data, message in (
        ({"code": "KH-CAMRANH-TO2", "name": "Lặp", "kind": "ward"}, "Đã có đơn vị dùng mã này"),
        ({"code": "có dấu", "name": "Sai mã", "kind": "ward"}, "Mã gồm chữ cái không dấu"),
        ({"code": "KH-X", "name": "", "kind": "ward"}, "Xin nhập thông tin này"),
        ({"code": "KH-Y", "name": "Loại lạ", "kind": "galaxy"}, "Xin chọn một mục trong danh sách"),
    ):
        bad = manager.post(f"/staff/units/{parent}/new", data=data)
        assert bad.status_code == 422, data
        assert message in bad.get_data(as_text=True), data
    assert len(audit_events(demo_db, "unit.create")) == 1


def test_questionnaire_assignment_to_unit_and_desk(manager, demo_db, world):
    with demo_db.session() as s:
        short = s.scalar(select(QuestionnaireVersion).where(QuestionnaireVersion.qid == "short"))
        short_id, short_key = short.id, short.key
    unit = world.units["KH-CAMRANH"]
    resp = manager.post(f"/staff/units/{unit}/questionnaire", data={"version": str(short_id)})
    assert resp.status_code == 302
    page = manager.get(f"/staff/desks/{world.desk_in}").get_data(as_text=True)
    assert "Phiếu rút gọn – 7 câu" in page and "kế thừa" in page
    (event,) = audit_events(demo_db, "unit.assign_questionnaire")
    # Phường Cam Ranh chose the standard form in the demo (demo.UNIT_FORMS).
    assert json.loads(event.before)["questionnaire"] == "standard@1"
    assert json.loads(event.after)["questionnaire"] == short_key

    bad = manager.post(f"/staff/desks/{world.desk_in}/questionnaire", data={"version": "99999"})
    assert bad.status_code == 422
    assert (
        manager.post(
            f"/staff/desks/{world.desk_in}/questionnaire", data={"version": str(short_id)}
        ).status_code
        == 302
    )
    assert _desk(demo_db, world.desk_in).questionnaire_version_id == short_id
    assert (
        manager.post(
            f"/staff/desks/{world.desk_in}/questionnaire", data={"version": ""}
        ).status_code
        == 302
    )
    assert _desk(demo_db, world.desk_in).questionnaire_version_id is None


def test_sectors_and_groups_for_admins(demo_client, demo_db, world, nocsrf, sign_in_as):
    sign_in_as("admin", "KH")
    resp = demo_client.post(
        "/staff/sector-groups", data={"code": "an-ninh", "name": "An ninh, trật tự", "name_en": ""}
    )
    assert resp.status_code == 302
    html = demo_client.get("/staff/sectors").get_data(as_text=True)
    assert "AN-NINH" in html
    dup = demo_client.post("/staff/sectors", data={"code": "HO_TICH", "name": "Lặp", "group": ""})
    assert dup.status_code == 422 and "Mã này đã được dùng" in dup.get_data(as_text=True)
    ok = demo_client.post(
        "/staff/sectors",
        data={"code": "CU_TRU", "name": "Cư trú", "name_en": "Residence", "group": ""},
    )
    assert ok.status_code == 302
    with demo_db.session() as s:
        sector = s.scalar(select(Sector).where(Sector.code == "CU_TRU"))
        sector_id = sector.id
    edit = demo_client.post(
        f"/staff/sectors/{sector_id}",
        data={"code": "CHANGED", "name": "Cư trú (sửa)", "name_en": "Residence", "group": ""},
    )
    assert edit.status_code == 302
    with demo_db.session() as s:
        sector = s.get(Sector, sector_id)
        assert (sector.code, sector.name) == ("CU_TRU", "Cư trú (sửa)")  # the code is fixed
    (event,) = audit_events(demo_db, "sector.update")
    assert json.loads(event.before)["name"] == "Cư trú"
    assert json.loads(event.after)["name"] == "Cư trú (sửa)"
    assert len(audit_events(demo_db, "sector.create")) == 1
    assert len(audit_events(demo_db, "sector_group.create")) == 1


def test_desk_staff_sees_desks_read_only(demo_client, demo_db, world, nocsrf, sign_in_as):
    sign_in_as("desk_staff")
    page = demo_client.get(f"/staff/desks/{world.desk_in}").get_data(as_text=True)
    assert "Cấp mã QR mới" not in page and "Đổi tên" not in page
    assert "qr.png" in page  # can print its QR code
    unit_page = demo_client.get(f"/staff/units/{world.units['KH-CAMRANH']}").get_data(as_text=True)
    assert "Thêm quầy" not in unit_page and "posters.pdf" in unit_page


def test_unit_posters_pdf(manager, world):
    resp = manager.get(f"/staff/units/{world.units['KH-CAMRANH']}/posters.pdf?size=a5")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.data.startswith(b"%PDF")
    assert (
        manager.get(f"/staff/units/{world.units['KH-CAMRANH']}/posters.pdf?size=a0").status_code
        == 404
    )
