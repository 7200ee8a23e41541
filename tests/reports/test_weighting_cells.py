"""Weighting degrades per cell: a desk-month without a volume is collapsed, never the year."""

from __future__ import annotations

import html as html_lib
import re
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import delete, select

from survey.models import Desk, Unit, Volume
from survey.reports import build, export, texts
from survey.reports.weighting import collapse
from survey.services.access import SystemActor
from survey.services.demo import demo_code
from tests.support import TODAY

CLI = SystemActor()
HOTICH = "Quầy 1 – Hộ tịch"  # cr-1
TONGHOP = "Quầy 3 – Tổng hợp"  # cr-3


def drop_volumes(db, key: str, month: date | None = None) -> None:
    with db.session() as s:
        desk_id = s.scalar(select(Desk.id).where(Desk.code == demo_code(key)))
        stmt = delete(Volume).where(Volume.desk_id == desk_id)
        if month is not None:
            stmt = stmt.where(Volume.month == month)
        s.execute(stmt)


def desk_estimates(report) -> dict[str, tuple[float, float]]:
    return {
        report.label("desk", e["key"]): (e["overall"]["estimate"], e["overall"]["se"])
        for e in report.result["groups"]["desk"]
    }


def month_estimates(report) -> dict[str, tuple[float, float]]:
    return {e["key"]: (e["overall"]["estimate"], e["overall"]["se"]) for e in report.months()}


def test_collapse_rule_on_a_small_table():
    kept = pd.DataFrame(
        {
            "desk": ["A"] * 4 + ["B"] * 3 + ["C"] * 2,
            "month": ["2026-01", "2026-01", "2026-02", "2026-03"]
            + ["2026-01", "2026-02", "2026-02"]
            + ["2026-01", "2026-02"],
        }
    )
    volumes = pd.DataFrame(
        {
            "desk": ["A", "A", "A", "B", "B", "B"],
            "month": ["2026-01", "2026-02", "2026-03", "2026-01", "2026-02", "2026-04"],
            "volume": [100, 0, 60, 30, 50, 999],
        }
    )
    cell_of, table, desks = collapse(kept, volumes)
    pop = dict(zip(table["cell"], table["volume"], strict=True))
    # A: January and March keep their own volumes; February (zero) is prorated at
    # A's mean month, (100 + 60) x 1 / 2, so A's total is (100 + 60) x 3 / 2.
    assert [cell_of[("A", m)] for m in ("2026-01", "2026-02", "2026-03")] == [
        "A|2026-01",
        "A|missing",
        "A|2026-03",
    ]
    assert (pop["A|2026-01"], pop["A|2026-03"]) == (100, 60)
    assert pop["A|missing"] == pytest.approx(80)
    # B: every month with responses has a volume; April's 999 transactions have no
    # response and are absorbed pro rata, so B weighs 30 + 50 + 999.
    assert pop["B|2026-01"] == pytest.approx(30 * 1079 / 80)
    assert pop["B|2026-02"] == pytest.approx(50 * 1079 / 80) and len(pop) == 6
    # C: no volume at all: its 2 respondents at the mean weight (100 + 80 + 60 + 1079) / 7.
    assert pop["C|mean"] == pytest.approx(2 * 1319 / 7)
    treated = {d.desk: (d.treatment, d.missing) for d in desks}
    assert treated == {
        "A": ("collapsed", ("2026-02",)),
        "B": ("month", ()),
        "C": ("mean_weight", ("2026-01", "2026-02")),
    }
    # No volume anywhere: equal weights.
    assert collapse(kept, volumes.iloc[0:0])[1] is None


def test_one_missing_desk_month_keeps_the_rest_weighted_and_names_the_cell(demo_db):
    with demo_db.session() as s:
        full = build.build(s, CLI, today=TODAY, unit="KH-CAMRANH")
    drop_volumes(demo_db, "cr-1", date(2026, 3, 1))
    with demo_db.session() as s:
        report = build.build(s, CLI, today=TODAY, unit="KH-CAMRANH")
    assert report.weighted and report.result["design"]["weighting"] == "poststratification"
    (cell,) = report.treated_cells
    assert (cell.desk_name, cell.treatment, cell.missing) == (HOTICH, "collapsed", ("2026-03",))
    words = [texts.note_text(n) for n in report.notes]
    assert any(HOTICH in w and "tháng 3/2026" in w for w in words)
    assert not any("không gia quyền" in w for w in words)
    # Every other desk-month keeps exactly its own weight: the other desks and
    # the other months (all desks of each) estimate as with every volume present.
    before, after = desk_estimates(full), desk_estimates(report)
    assert set(after) == set(before)
    for name in before:
        if name != HOTICH:
            assert after[name] == pytest.approx(before[name], rel=1e-12)
    months_before, months_after = month_estimates(full), month_estimates(report)
    assert months_after["2026-03"] != pytest.approx(months_before["2026-03"], rel=1e-9)
    for month in months_before:
        if month != "2026-03":
            assert months_after[month] == pytest.approx(months_before[month], rel=1e-12)
    doc = export.to_json(report)
    cells = {c["desk_name"]: c for c in doc["report"]["weighting_cells"]}
    assert cells[HOTICH]["treatment"] == "collapsed"
    assert cells[HOTICH]["missing_months"] == ["2026-03"]
    assert {c["treatment"] for n, c in cells.items() if n != HOTICH} == {"month"}


def test_a_desk_without_any_volume_sits_at_the_mean_weight(demo_db):
    drop_volumes(demo_db, "cr-3")
    with demo_db.session() as s:
        report = build.build(s, CLI, today=TODAY, unit="KH-CAMRANH")
        assert report.weighted
        (cell,) = report.treated_cells
        assert (cell.desk_name, cell.treatment) == (TONGHOP, "mean_weight")
        words = [texts.note_text(n) for n in report.notes]
        assert any(TONGHOP in w and "trọng số bình quân" in w for w in words)


def test_the_dashboard_lists_the_cells_with_a_link_to_the_volumes(demo_db, sign_in_as):
    drop_volumes(demo_db, "cr-1", date(2026, 3, 1))
    with demo_db.session() as s:
        unit_id = s.scalar(select(Unit.id).where(Unit.code == "KH-CAMRANH"))
    page = sign_in_as("analyst").get("/staff/reports")
    body = html_lib.unescape(page.get_data(as_text=True))
    assert page.status_code == 200
    block = body[body.index("Quầy chưa đủ số lượng hồ sơ") :]
    # One row per desk, under its unit: the desk's name and the month it lacks.
    row = block[block.index(f"<td>{HOTICH}</td>") :]
    assert row.index("tháng 3/2026") < row.index("</tr>")
    assert "<b>Phường Cam Ranh</b>" in block
    assert f'href="/staff/units/{unit_id}/volumes"' in block
    assert "/staff/volumes" not in block  # analysts do not import volumes
    manager = sign_in_as("unit_manager").get("/staff/reports")
    assert 'href="/staff/volumes"' in manager.get_data(as_text=True)
    shown = re.sub(r"<[^>]+>", " ", block)  # the words on the page, not the links' targets
    assert demo_code("cr-1") not in shown  # names, not codes
