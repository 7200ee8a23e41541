"""Targets: percent input, inheritance down the unit tree, the targets page."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from survey.models import SectorGroup, Target, Unit
from survey.services.org.targets import effective_target, parse_percent
from tests.support import audit_count, audit_events


@pytest.mark.parametrize(
    ("text", "share"),
    [("85", 0.85), ("85,5", 0.855), ("85.5", 0.855), (" 87 % ", 0.87), ("50", 0.5)],
)
def test_percent_input(text, share):
    assert parse_percent(text) == pytest.approx(share)


@pytest.mark.parametrize(
    "text", ["", "0", "0,85", "49", "100", "120", "-5", "abc", "85,5,5", "0.85e2", "8 5"]
)
def test_percent_input_rejected(text):
    with pytest.raises(ValueError):
        parse_percent(text)


def _ids(session):
    units = {u.code: u for u in session.scalars(select(Unit))}
    groups = {g.code: g.id for g in session.scalars(select(SectorGroup))}
    return units, groups


def test_effective_target_is_inherited_from_the_nearest_ancestor(demo_db, world):
    # Demo targets for 2026: KH 85% overall, 75% land/construction/investment,
    # 80% health/education; KH-CAMRANH 87% overall.
    with demo_db.session() as s:
        units, groups = _ids(s)
        camranh, commune, child = (
            units["KH-CAMRANH"],
            units["KH-DIENKHANH"],
            units["KH-CAMRANH-TO1"],
        )

        own = effective_target(s, camranh, 2026)
        assert (own.unit_id, own.threshold) == (camranh.id, 0.87)
        inherited = effective_target(s, commune, 2026)
        assert (inherited.unit_id, inherited.threshold) == (units["KH"].id, 0.85)
        # Two levels down: the ward's target, not the province's.
        assert effective_target(s, child, 2026).threshold == 0.87
        # A group target on the path wins over a nearer overall one.
        land = effective_target(s, camranh, 2026, groups["DD-XD-DT"])
        assert (land.unit_id, land.threshold) == (units["KH"].id, 0.75)
        # No target for the group anywhere: the overall target applies.
        with_group = effective_target(s, units["KH-VPUB"], 2024, groups["YT-GD"])
        assert (with_group.unit_id, with_group.threshold) == (units["KH-VPUB"].id, 0.87)
        assert effective_target(s, camranh, 2019) is None

        # A nearer target for the group replaces the inherited one.
        s.add(
            Target(unit_id=child.id, year=2026, sector_group_id=groups["DD-XD-DT"], threshold=0.8)
        )
        s.flush()
        assert effective_target(s, child, 2026, groups["DD-XD-DT"]).threshold == 0.8
        assert effective_target(s, child, 2026).threshold == 0.87


def test_set_update_and_delete_a_target(demo_client, demo_db, world, nocsrf, sign_in_as):
    sign_in_as("unit_manager")
    unit_id = world.units["KH-CAMRANH-TO1"]
    page = demo_client.get(f"/staff/units/{unit_id}/targets?year=2026").get_data(as_text=True)
    assert "87%" in page and "kế thừa" in page and "Phường Cam Ranh" in page

    resp = demo_client.post(
        f"/staff/units/{unit_id}/targets",
        data={"year": "2027", "group": "", "threshold": "85,5", "source": "KH số 1/KH-UBND"},
    )
    assert resp.status_code == 302
    with demo_db.session() as s:
        target = s.scalar(select(Target).where(Target.unit_id == unit_id, Target.year == 2027))
        assert target.threshold == pytest.approx(0.855) and target.source == "KH số 1/KH-UBND"
        target_id = target.id
    page = demo_client.get(f"/staff/units/{unit_id}/targets?year=2027").get_data(as_text=True)
    assert "85,5%" in page

    demo_client.post(
        f"/staff/units/{unit_id}/targets",
        data={"year": "2027", "group": "", "threshold": "90", "source": "KH số 2/KH-UBND"},
    )
    (created,) = audit_events(demo_db, "target.create")
    (updated,) = audit_events(demo_db, "target.update")
    assert json.loads(created.after)["threshold"] == pytest.approx(0.855)
    assert json.loads(updated.before)["threshold"] == pytest.approx(0.855)
    assert json.loads(updated.after)["threshold"] == pytest.approx(0.9)
    assert json.loads(updated.after)["unit"] == "KH-CAMRANH-TO1"

    assert demo_client.post(f"/staff/targets/{target_id}/delete").status_code == 302
    with demo_db.session() as s:
        assert s.get(Target, target_id) is None
    (deleted,) = audit_events(demo_db, "target.delete")
    assert json.loads(deleted.before)["threshold"] == pytest.approx(0.9)
    assert deleted.after is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"year": "2027", "threshold": "100"}, "Chỉ tiêu phải nhỏ hơn 100%"),
        ({"year": "2027", "threshold": "0"}, "Nhập chỉ tiêu theo phần trăm, ví dụ 85"),
        ({"year": "2027", "threshold": "tám lăm"}, "ví dụ 85 hoặc 85,5"),
        ({"year": "2027", "threshold": ""}, "Xin nhập chỉ tiêu"),
        ({"year": "1850", "threshold": "85"}, "Năm không hợp lệ"),
        ({"year": "năm nay", "threshold": "85"}, "Năm không hợp lệ"),
        ({"year": "2027", "threshold": "85", "group": "999"}, "Xin chọn một mục trong danh sách"),
    ],
)
def test_invalid_target_writes_nothing(
    demo_client, demo_db, world, nocsrf, data, message, sign_in_as
):
    sign_in_as("unit_manager")
    unit_id = world.units["KH-CAMRANH"]
    events = audit_count(demo_db)
    resp = demo_client.post(f"/staff/units/{unit_id}/targets", data={"group": "", **data})
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert audit_count(demo_db) == events
    with demo_db.session() as s:
        assert s.scalar(select(Target).where(Target.year == 2027)) is None
