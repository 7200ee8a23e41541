"""The sectors a desk serves, set on the desk page: who may, what is audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from survey.models import Desk, Unit
from survey.services.access import Forbidden, SystemActor
from survey.services.org import OrgError
from survey.services.org import desks as org_desks
from tests.support import audit_count, audit_events


def _sectors(db, desk_id) -> list[str]:
    with db.session() as s:
        return [sector.code for sector in s.get(Desk, desk_id).sectors]


@pytest.fixture
def manager(demo_client, nocsrf, world, sign_in_as):
    return sign_in_as("unit_manager")


def test_manager_sets_sectors_on_the_desk_page(manager, demo_db, world):
    desk_id = world.desk_in
    before = _sectors(demo_db, desk_id)
    page = manager.get(f"/staff/desks/{desk_id}").get_data(as_text=True)
    assert "Lĩnh vực của quầy" in page
    assert 'type="checkbox" name="sector" value="Y_TE"' in page
    for code in before:
        assert f'name="sector" value="{code}" checked' in page

    with demo_db.session() as s:
        code = s.get(Desk, desk_id).code
    assert 'value="HO_TICH"' in manager.get(f"/s/{code}?moi=1", follow_redirects=True).get_data(
        as_text=True
    )

    resp = manager.post(f"/staff/desks/{desk_id}/sectors", data={"sector": ["GIAO_DUC", "Y_TE"]})
    assert resp.status_code == 302
    assert _sectors(demo_db, desk_id) == ["GIAO_DUC", "Y_TE"]
    page = manager.get(resp.location).get_data(as_text=True)
    assert "phiếu khảo sát sẽ hỏi người dân thuộc lĩnh vực nào" in page
    assert "Giáo dục, Y tế" in page
    # The citizen's page asks at once (the desk snapshot is refreshed on commit).
    survey = manager.get(f"/s/{code}?moi=1", follow_redirects=True).get_data(as_text=True)
    assert "Ông/Bà vừa làm thủ tục thuộc lĩnh vực nào?" in survey
    assert 'name="sector" value="GIAO_DUC"' in survey and 'value="HO_TICH"' not in survey

    (event,) = audit_events(demo_db, "desk.set_sectors")
    assert event.actor == "cr_unit_manager" and event.entity_id == str(desk_id)
    assert json.loads(event.before)["sectors"] == before
    assert json.loads(event.after)["sectors"] == ["GIAO_DUC", "Y_TE"]

    one = manager.post(f"/staff/desks/{desk_id}/sectors", data={"sector": "Y_TE"})
    page = manager.get(one.location).get_data(as_text=True)
    assert "mọi phiếu qua mã QR của quầy thuộc lĩnh vực Y tế" in page
    none = manager.post(f"/staff/desks/{desk_id}/sectors", data={})
    assert none.status_code == 302 and _sectors(demo_db, desk_id) == []
    assert "Đã bỏ hết lĩnh vực" in manager.get(none.location).get_data(as_text=True)
    assert len(audit_events(demo_db, "desk.set_sectors")) == 3


def test_unchanged_sectors_are_not_audited(manager, demo_db, world):
    desk_id = world.desk_in
    events = audit_count(demo_db)
    resp = manager.post(
        f"/staff/desks/{desk_id}/sectors", data={"sector": _sectors(demo_db, desk_id)}
    )
    assert "không thay đổi" in manager.get(resp.location).get_data(as_text=True)
    assert audit_count(demo_db) == events


def test_unknown_sector_is_refused_by_name_and_changes_nothing(manager, demo_db, world):
    desk_id = world.desk_in
    before = _sectors(demo_db, desk_id)
    events = audit_count(demo_db)
    resp = manager.post(f"/staff/desks/{desk_id}/sectors", data={"sector": ["Y_TE", "NOPE<b>"]})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Lĩnh vực: không có lĩnh vực mã NOPE&lt;B&gt;." in html
    assert _sectors(demo_db, desk_id) == before
    assert audit_count(demo_db) == events


def test_desk_staff_cannot_set_sectors(demo_client, demo_db, world, nocsrf, sign_in_as):
    desk_id = world.desk_in
    before = _sectors(demo_db, desk_id)
    staff = sign_in_as("desk_staff")
    page = staff.get(f"/staff/desks/{desk_id}").get_data(as_text=True)
    assert "Lĩnh vực của quầy" not in page  # no form, only the fact
    resp = staff.post(f"/staff/desks/{desk_id}/sectors", data={"sector": "Y_TE"})
    assert resp.status_code == 403
    assert _sectors(demo_db, desk_id) == before
    assert audit_events(demo_db, "desk.set_sectors") == []


def test_manager_of_another_unit_gets_403(demo_client, demo_db, world, nocsrf, sign_in_as):
    desk_id = world.desk_out  # KH-NHATRANG
    before = _sectors(demo_db, desk_id)
    other = sign_in_as("unit_manager", unit_code="KH-CAMRANH")
    resp = other.post(f"/staff/desks/{desk_id}/sectors", data={"sector": "Y_TE"})
    assert resp.status_code == 403
    assert _sectors(demo_db, desk_id) == before


def test_service_checks_rights_and_codes(demo_db, world):
    with demo_db.session() as s:
        desk = s.get(Desk, world.desk_in)
        viewer = SystemActor(username="x", role="desk_staff", unit_id=desk.unit_id)
        with pytest.raises(Forbidden):
            org_desks.set_sectors(s, viewer, desk, ["Y_TE"])
        with pytest.raises(OrgError) as refused:
            org_desks.set_sectors(s, SystemActor(), desk, ["y_te", "ZZZ"])
        assert (refused.value.field, refused.value.code, refused.value.value) == (
            "sectors",
            "unknown_sector",
            "ZZZ",
        )
        assert s.scalar(select(Unit.code).where(Unit.id == desk.unit_id)) == "KH-CAMRANH"
        assert org_desks.set_sectors(s, SystemActor(), desk, [" y_te ", "Y_TE"]) is True
        assert [x.code for x in desk.sectors] == ["Y_TE"]
