"""A desk's sectors reach the report: its QR responses carry its sector, and a
desk of one sector group is judged against that group's target, like its sectors."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select

from survey.models import Desk, Response, Sector
from survey.services.demo import demo_code
from tests.support import full_answers, run_report

LAND_DESK = demo_code("tt-datdai")  # KH-TTHCC "Quầy Đất đai", DAT_DAI only
# Demo targets for 2026: KH 85% overall, 75% land/construction/investment,
# 80% health/education; KH-CAMRANH 87% overall.
PERIOD = ("--from", "2026-01-01", "--to", "2026-11-20")


def _report(url, tmp_path, name="r.json") -> dict:
    out = tmp_path / name
    result = run_report(url, "--unit", "KH", "--format", "json", *PERIOD, "-o", str(out))
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text(encoding="utf-8"))


def _rows(doc, breakdown) -> dict[str, dict]:
    return {row["key"]: row for row in doc["groups"][breakdown]}


@pytest.fixture
def on_the_last_demo_day(monkeypatch):
    """Responses stored now fall on the demo's last day, inside the report period
    and its 2026 targets, whatever the machine's date."""
    monkeypatch.setattr("survey.services.submission.utcnow", lambda: datetime(2026, 11, 20, 3, 0))


def test_qr_answer_at_the_land_desk_is_land_and_judged_at_75(
    demo_client, demo_db, demo_db_url, tmp_path, on_the_last_demo_day
):
    before = _report(demo_db_url, tmp_path, "before.json")
    data = full_answers(demo_client, LAND_DESK)
    resp = demo_client.post(f"/s/{LAND_DESK}", data=data)
    assert resp.status_code == 200 and "Cảm ơn" in resp.get_data(as_text=True)
    with demo_db.session() as s:
        stored = s.scalar(select(Response).where(Response.submission_id == data["sid"]))
        assert s.get(Sector, stored.sector_id).code == "DAT_DAI"

    after = _report(demo_db_url, tmp_path, "after.json")
    sector, desk = _rows(after, "sector")["DAT_DAI"], _rows(after, "desk")[LAND_DESK]
    assert sector["n"] == _rows(before, "sector")["DAT_DAI"]["n"] + 1
    assert desk["n"] == _rows(before, "desk")[LAND_DESK]["n"] + 1
    assert sector["overall"]["target"] == desk["overall"]["target"] == 0.75
    assert desk["overall"]["verdict"] in ("dat", "khong_dat", "chua_du_can_cu")


def test_desk_and_sector_rankings_agree_on_every_single_group_desk(demo_db, demo_db_url, tmp_path):
    doc = _report(demo_db_url, tmp_path)
    sectors, desks = _rows(doc, "sector"), _rows(doc, "desk")
    with demo_db.session() as s:
        served = {d.code: d.sectors for d in s.scalars(select(Desk).where(Desk.active))}
        groups = {
            code: {x.group.code if x.group else None for x in sector_list}
            for code, sector_list in served.items()
        }
    checked = 0
    for code, sector_list in served.items():
        if code not in desks or len(groups[code]) != 1 or None in groups[code]:
            continue
        for sector in sector_list:
            assert desks[code]["overall"]["target"] == sectors[sector.code]["overall"]["target"]
            checked += 1
    assert checked >= 8  # the centre's five group desks and the wards' land desks
    # Two land sectors, one group: 75%, not the ward’s 87%.
    assert desks[demo_code("cr-2")]["overall"]["target"] == 0.75
    # Sectors of a group and of none: the unit's own target, as before.
    assert desks[demo_code("cr-3")]["overall"]["target"] == 0.87
    assert desks[demo_code("cr-1")]["overall"]["target"] == 0.87
    assert desks[demo_code("tt-tuphap")]["overall"]["target"] == 0.85
