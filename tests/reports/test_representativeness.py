"""Representativeness: the unit × sector margin, the sensitivity figure, rates per row."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from analysis import analyze, read_responses
from survey.models import Desk, Response, Sector, Unit, Volume
from survey.reports import build, fmt, inputs, representativeness, texts, weighting
from survey.reports.dashboard import ranking
from survey.reports.frame import read_frame
from survey.reports.xlsx import SHEETS
from survey.services.access import SystemActor
from tests.analysis.support import close_to_r, ref_questionnaire
from tests.support import PERIOD, TODAY, pdf_text, run_report

CLI = SystemActor()
UNIT = "KH-CAMRANH"
REFERENCE = Path(__file__).parent / "reference"


def _sector_counts(db, unit: str = UNIT) -> pd.Series:
    """Counted responses of the unit per sector code in the default period."""
    with db.session() as s:
        report = build.build(s, CLI, today=TODAY, unit=unit)
        frame, _labels = read_frame(s, report.selection)
    counted = frame.loc[~frame["excluded"].astype(bool)]
    return counted.groupby("sector").size()


def _import_sector_volumes(db, volumes: dict[str, int], unit: str = UNIT) -> None:
    """Unit × sector volumes, the same count every month January–October 2026."""
    with db.session() as s:
        unit_id = s.scalar(select(Unit.id).where(Unit.code == unit))
        sector_ids = dict(s.execute(select(Sector.code, Sector.id)).all())
        for code, count in volumes.items():
            for month in range(1, 11):
                s.add(
                    Volume(
                        unit_id=unit_id,
                        sector_id=sector_ids[code],
                        month=date(2026, month, 1),
                        count=count,
                    )
                )
        s.commit()


def _shifted(db, unit: str = UNIT) -> dict[str, int]:
    """Volumes near the desk × month weighted sector mix, one sector up 30%, the next down."""
    with db.session() as s:
        report = build.build(s, CLI, today=TODAY, unit=unit)
        frame, _labels = read_frame(s, report.selection)
        weights = weighting.weighting(
            frame, inputs.desk_volumes(s, report.selection), report.selection
        )
    counted = frame.loc[~frame["excluded"].astype(bool)]
    cells = weights.cells[counted.index]
    w0 = cells.map(weights.table.set_index("cell")["volume"] / cells.value_counts())
    totals = w0.groupby(counted["sector"]).sum().drop("_NONE", errors="ignore")
    factors = (1.3, 0.8)
    return {
        code: round(total * factors[i % 2])
        for i, (code, total) in enumerate(sorted(totals.items()))
    }


def _rake(frame: pd.DataFrame, margins: list[tuple[str, dict[str, float]]]) -> np.ndarray:
    """Raking by iterative proportional fitting, written out: the weight of every row."""
    w = np.ones(len(frame))
    for _sweep in range(1000):
        for column, totals in margins:
            keys = frame[column].to_numpy()
            sums = pd.Series(w).groupby(keys).sum()
            w *= np.array([totals[k] / sums[k] for k in keys])
        worst = max(
            abs(pd.Series(w).groupby(frame[c].to_numpy()).sum()[k] / t - 1)
            for c, totals in margins
            for k, t in totals.items()
        )
        if worst < 1e-13:
            return w
    raise AssertionError("the written-out raking did not converge")


def test_sector_margin_is_raked_to_when_unit_sector_volumes_exist(demo_db):
    counts = _sector_counts(demo_db)
    assert len([c for c in counts.index if c != "_NONE"]) >= 2
    with demo_db.session() as s:
        before = build.build(s, CLI, today=TODAY, unit=UNIT)
    volumes = _shifted(demo_db)
    _import_sector_volumes(demo_db, volumes)
    with demo_db.session() as s:
        report = build.build(s, CLI, today=TODAY, unit=UNIT)
        frame, _labels = read_frame(s, report.selection)
        desk_volumes = inputs.desk_volumes(s, report.selection)
        sector_volumes = inputs.sector_volumes(s, report.selection)

    margin = report.sector_margin
    assert margin is not None and margin.units == (UNIT,)
    assert report.result["design"]["weighting"] == "raking"
    assert [n.code for n in report.notes if n.code.startswith("sector_margin")] == ["sector_margin"]
    # Consistent with desk × month: each desk (here no two share a sector) keeps
    # the total its desk-month weights give it, split by the imported sector shares.
    totals = dict(zip(margin.table["unit_sector"], margin.table["volume"], strict=True))
    weights = weighting.weighting(frame, desk_volumes, report.selection)
    assert sum(totals.values()) == pytest.approx(weights.table["volume"].sum(), rel=1e-12)
    counted = frame.loc[~frame["excluded"].astype(bool)]
    cell = weights.cells[counted.index]
    w0 = cell.map(weights.table.set_index("cell")["volume"] / cell.value_counts())
    served = counted.groupby("desk")["sector"].agg(set)
    assert sum(len(v) for v in served) == len(set().union(*served))  # disjoint
    assert max(len(v) for v in served) >= 2
    for desk, codes in served.items():
        desk_total = float(w0[counted["desk"] == desk].sum())
        for code in codes:
            share = volumes[code] / sum(volumes[c] for c in codes)
            assert totals[f"{UNIT}|{code}"] == pytest.approx(desk_total * share, rel=1e-12)

    # Raked by hand, the weights add up to both margins, and the report's index is
    # the weighted index under those weights.
    # The report's margin column is per row of its cell table; the rows' own is
    # the same margin (same totals) per response.
    frame = frame.assign(cell=weights.cells)
    by_rows = representativeness.sector_margin(frame, weights.table, sector_volumes)
    assert dict(zip(by_rows.table["unit_sector"], by_rows.table["volume"], strict=True)) == (
        pytest.approx(totals, rel=1e-12)
    )
    frame = frame.assign(unit_sector=by_rows.column)
    counted = frame.loc[~frame["excluded"].astype(bool)].reset_index(drop=True)
    cells = dict(zip(weights.table["cell"], weights.table["volume"], strict=True))
    w = _rake(counted, [("cell", cells), ("unit_sector", totals)])
    by_sector = pd.Series(w).groupby(counted["unit_sector"]).sum()
    for key, total in totals.items():
        assert by_sector[key] == pytest.approx(total, rel=1e-9)
    flat = counted.drop(columns=["cell", "unit_sector"]).assign(weight=w)
    by_hand = analyze(flat, report.questionnaire)["overall"]["estimate"]
    assert report.overall["estimate"] == pytest.approx(by_hand, abs=1e-9)
    # The margin moved the index, and the sensitivity figure says by how much.
    assert abs(report.overall["estimate"] - before.overall["estimate"]) > 1e-4
    sens = report.sensitivity
    assert sens.cells_only == pytest.approx(before.overall["estimate"], abs=1e-12)
    lines = texts.method_lines(report)
    assert any(
        f"Chỉ số chung: {fmt.pct(sens.weighted)} (gia quyền theo số hồ sơ của quầy, tháng và "
        f"lĩnh vực); {fmt.pct(sens.cells_only)} nếu chỉ gia quyền theo quầy và tháng" in line
        for line in lines
    )
    assert any(
        "theo cơ cấu số hồ sơ theo lĩnh vực của Phường Cam Ranh" in texts.note_text(n)
        for n in report.notes
    )


def test_no_sector_margin_without_unit_sector_volumes(demo_db):
    with demo_db.session() as s:
        report = build.build(s, CLI, today=TODAY, unit=UNIT)
        assert inputs.sector_volumes(s, report.selection).empty
    assert report.sector_margin is None
    assert report.result["design"]["weighting"] == "poststratification"
    assert not [n for n in report.notes if n.code.startswith("sector_margin")]
    assert report.sensitivity.cells_only is None


def test_a_margin_that_cannot_be_met_falls_back_to_desk_and_month(demo_db):
    # One month of the registry desk recorded as "hộ tịch" only: that desk-month
    # alone holds more "hộ tịch" weight than one transaction in 100,001 can give.
    with demo_db.session() as s:
        desk = s.scalar(
            select(Desk).join(Unit).where(Unit.code == UNIT, Desk.name.like("%Hộ tịch%"))
        )
        ho_tich = s.scalar(select(Sector.id).where(Sector.code == "HO_TICH"))
        march = s.scalars(
            select(Response).where(
                Response.desk_id == desk.id,
                Response.day >= date(2026, 3, 1),
                Response.day <= date(2026, 3, 31),
            )
        ).all()
        assert march
        for r in march:
            r.sector_id = ho_tich
        s.commit()
    with demo_db.session() as s:
        before = build.build(s, CLI, today=TODAY, unit=UNIT)
    _import_sector_volumes(demo_db, {"HO_TICH": 1, "TU_PHAP": 100_000})
    with demo_db.session() as s:
        report = build.build(s, CLI, today=TODAY, unit=UNIT)
    assert report.sector_margin is None
    [note] = [n for n in report.notes if n.code.startswith("sector_margin")]
    assert note.code == "sector_margin_failed"
    assert "Không hiệu chỉnh được trọng số" in texts.note_text(note)
    assert "Phường Cam Ranh" in texts.note_text(note)
    assert report.overall["estimate"] == pytest.approx(before.overall["estimate"], abs=1e-12)
    assert report.result["design"]["weighting"] == "poststratification"
    assert report.sensitivity.cells_only is None


def test_sensitivity_is_the_unweighted_index_in_every_output(demo_db_url, demo_db, tmp_path):
    with demo_db.session() as s:
        report = build.build(s, CLI, today=TODAY, unit=UNIT)
        frame, _labels = read_frame(s, report.selection)
    flat = analyze(frame, report.questionnaire)["overall"]["estimate"]
    sens = report.sensitivity
    assert sens.unweighted == pytest.approx(flat, abs=1e-12)
    assert sens.weighted == report.overall["estimate"]
    assert sens.difference == pytest.approx(abs(flat - sens.weighted), abs=1e-15)
    sentence = (
        f"Chỉ số chung: {fmt.pct(sens.weighted)} (gia quyền theo số hồ sơ); "
        f"{fmt.pct(flat)} nếu không gia quyền; chênh lệch "
        f"{fmt.num(sens.difference * 100, digits=1)} điểm phần trăm."
    )
    rate = f"Tỷ lệ phản hồi {fmt.pct(report.rate.share)}"

    out = {f: tmp_path / f"r.{f}" for f in ("json", "xlsx", "pdf")}
    for f, path in out.items():
        result = run_report(demo_db_url, "--unit", UNIT, *PERIOD, "--format", f, "-o", str(path))
        assert result.exit_code == 0, result.output
    doc = json.loads(out["json"].read_text(encoding="utf-8"))
    assert doc["report"]["sensitivity"]["unweighted"] == pytest.approx(flat, abs=1e-12)
    assert doc["report"]["sensitivity"]["weighted"] == doc["overall"]["estimate"]
    assert doc["report"]["sector_margin"] is None
    notes = [c.value for c in load_workbook(out["xlsx"])[SHEETS["method"]]["A"]]
    assert sentence in notes
    assert any(str(n).startswith(rate) and "tự chọn tham gia" in str(n) for n in notes)
    text = " ".join(pdf_text(out["pdf"]).split())
    assert sentence in text and rate in text


def test_dashboard_method_states_the_rate_and_the_sensitivity(analyst, demo_db):
    with demo_db.session() as s:
        report = build.build(s, CLI, today=TODAY, unit=UNIT)
    html = analyst.get("/staff/reports").get_data(as_text=True)
    assert f"{fmt.pct(report.sensitivity.unweighted)} nếu không gia quyền" in html
    assert "khoảng tin cậy chỉ phản ánh sai số do chọn mẫu" in html
    assert "chưa đơn vị nào nhập cơ cấu của tổng thể" in html


def test_rate_beside_every_unit_and_desk_row(demo_db_url, demo_db, tmp_path):
    with demo_db.session() as s:
        report = build.build(s, CLI, today=TODAY, unit="KH")
    path = tmp_path / "r.pdf"
    result = run_report(demo_db_url, "--unit", "KH", *PERIOD, "--format", "pdf", "-o", str(path))
    assert result.exit_code == 0, result.output
    text = " ".join(pdf_text(path).split())
    # Table cells wrap, so "tỷ lệ phản hồi 4,8%" may come apart; "hồi 4,8%" stays whole.
    shown = Counter(re.findall(r"hồi (\d+,\d%)", text))
    expected = Counter(
        fmt.pct(report.rates[name][e["key"]].share)
        for name in ("unit", "desk")
        for e in report.ranked(name)
    )
    assert len(report.ranked("desk")) > 10
    assert all(shown[rate] >= n for rate, n in expected.items()), (expected, shown)
    # The staff ranking tables carry the same column.
    table = ranking(report, "desk", "Quầy", "vi", texts.plain)
    assert table.has_rate and all(row.extra["rate"] for row in table.rows)


# --- against R ----------------------------------------------------------------------
def test_sector_raking_matches_r():
    """representativeness.sector_margin + analyze equal R's rake(design, list(~cell, ~unit_sector))."""
    frame = read_responses(REFERENCE / "raking_responses.csv")
    svol = pd.read_csv(REFERENCE / "raking_sector_volumes.csv", dtype=str).astype({"volume": int})
    table = pd.read_csv(REFERENCE / "raking_cells.csv", dtype={"cell": str})
    margin = representativeness.sector_margin(frame, table, svol)
    assert margin is not None and margin.units == ("U1", "U2")
    expected = pd.read_csv(REFERENCE / "raking_margin.csv")
    got = dict(zip(margin.table["unit_sector"], margin.table["volume"], strict=True))
    assert set(got) == set(expected["unit_sector"])
    for key, volume in expected.itertuples(index=False):
        assert got[key] == pytest.approx(volume, rel=1e-14), key
    frame = frame.assign(unit_sector=margin.column)
    result = analyze(
        frame, ref_questionnaire(), volumes=table, margins=[margin.table], by=["desk", "unit"]
    )
    assert result["design"]["weighting"] == "raking"
    reference = pd.read_csv(REFERENCE / "raking_reference.csv", keep_default_na=False)
    compared = 0
    for row in reference.astype({"by": str, "key": str}).itertuples():
        if not row.estimand.endswith(":share") or row.estimand.startswith("item:"):
            continue
        base = row.estimand.rpartition(":")[0]
        scope = (
            next(e for e in result["groups"][row.by] if e["key"] == row.key) if row.by else result
        )
        if base == "overall":
            got_s = scope["overall"]
        elif base == "overall_item":
            if row.by:
                continue
            got_s = scope["overall_item"]
        else:
            got_s = next(c for c in scope["criteria"] if c["code"] == base.split(":")[1])
        assert close_to_r(got_s["estimate"], row.estimate), row
        assert close_to_r(got_s["se"], row.se), row
        compared += 1
    assert compared >= 20
