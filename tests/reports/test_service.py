"""The results wing: periods, formats, weighting fallback, empty selections, charts."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from survey.models import Response, Unit
from survey.reports import build, charts, export, fmt, selection, texts
from survey.services.access import SystemActor
from tests.support import TODAY

CLI = SystemActor()


def test_periods():
    assert selection.default_period(date(2026, 11, 22)) == (date(2026, 1, 1), date(2026, 10, 31))
    assert selection.default_period(date(2027, 1, 5)) == (date(2026, 1, 1), date(2026, 12, 31))
    assert selection.latest_complete_month(date(2027, 1, 5)) == (
        date(2026, 12, 1),
        date(2026, 12, 31),
    )
    assert selection.latest_complete_quarter(date(2026, 11, 22)) == (
        2026,
        3,
        date(2026, 7, 1),
        date(2026, 9, 30),
    )
    assert selection.latest_complete_quarter(date(2026, 2, 1))[:2] == (2025, 4)
    assert selection.parse_day("22/11/2026", "from") == selection.parse_day("2026-11-22", "from")
    assert selection.parse_day("", "from") is None
    for bad in ("2026-02-30", "11/22/2026", "1900-01-01", "hôm nay"):
        with pytest.raises(selection.SelectionError):
            selection.parse_day(bad, "from")


def test_vietnamese_and_english_formats():
    assert fmt.pct(0.8534) == "85,3%" and fmt.pct(0.8534, "en") == "85.3%"
    assert fmt.pct(0.85, digits=0) == "85%" and fmt.pct(None) == "–"
    assert fmt.interval(0.831, 0.874) == "83,1–87,4%"
    assert fmt.num(14027) == "14.027" and fmt.num(4.0512, digits=2) == "4,05"
    assert fmt.day(date(2026, 11, 22)) == "22/11/2026"
    assert fmt.month(date(2026, 10, 1)) == "Tháng 10/2026"
    assert fmt.month(date(2026, 10, 1), "en") == "October 2026"
    assert fmt.quarter(2026, 3) == "Quý III/2026" and fmt.quarter(2026, 3, "en") == "Q3 2026"


def test_weighted_when_every_desk_month_has_a_volume(demo_db):
    with demo_db.session() as s:
        report = build.build(s, CLI, today=TODAY, unit="KH-CAMRANH")
        assert report.weighted and report.result["design"]["weighting"] == "poststratification"
        assert report.rate.volume > 0 and 0 < report.rate.share < 1
        flagged = s.scalar(
            select(func.count())
            .select_from(Response)
            .join(Unit, Response.unit_id == Unit.id)
            .where(
                Unit.code == "KH-CAMRANH",
                Response.quality_flags != "",
                Response.day <= date(2026, 10, 31),
            )
        )
        assert report.result["n_excluded"] == flagged > 0


def test_a_month_without_volumes_is_collapsed_not_the_whole_report_unweighted(demo_db):
    # November 2026 has responses but no imported volumes yet: each desk's
    # November joins its October in one post-stratum; the report stays weighted.
    with demo_db.session() as s:
        report = build.build(
            s, CLI, today=TODAY, unit="KH-CAMRANH", start=date(2026, 10, 1), end=date(2026, 11, 22)
        )
        assert report.weighted and report.result["design"]["weighting"] == "poststratification"
        notes = [texts.note_text(n) for n in report.notes]
        assert any("tháng 11/2026" in n and "Quầy 1 – Hộ tịch" in n for n in notes)
        assert not any("không gia quyền" in n for n in notes)
        doc = export.to_json(report)
        assert doc["report"]["weighting"] == "desk_month_volumes"
        cells = {c["desk_name"]: c for c in doc["report"]["weighting_cells"]}
        assert cells["Quầy 1 – Hộ tịch"]["treatment"] == "collapsed"
        assert cells["Quầy 1 – Hộ tịch"]["missing_months"] == ["2026-11"]
        # With no volume in the whole period, equal weights remain, and say so.
        november = build.build(
            s, CLI, today=TODAY, unit="KH-CAMRANH", start=date(2026, 11, 1), end=date(2026, 11, 22)
        )
        assert not november.weighted and november.result["design"]["weighting"] == "none"
        assert any("không gia quyền" in texts.note_text(n) for n in november.notes)


def test_an_empty_selection_reports_nothing_without_failing(analyst):
    query = "?from=2025-01-01&to=2025-12-31"
    page = analyst.get(f"/staff/reports{query}")
    assert page.status_code == 200
    assert re.search(r'<p class="index">–</p>', page.get_data(as_text=True))
    doc = analyst.get(f"/staff/reports/export.json{query}").get_json()
    assert doc["n_responses"] == 0 and doc["overall"]["estimate"] is None
    assert analyst.get(f"/staff/reports/export.pdf{query}").data.startswith(b"%PDF")
    assert analyst.get(f"/staff/reports/export.xlsx{query}").status_code == 200


def test_mixed_questionnaires_count_every_form_unless_one_is_picked(demo_db):
    with demo_db.session() as s:
        report = build.build(s, CLI, today=TODAY, unit="KH-NHATRANG")
        sel = report.selection
        keys = [v.key for v, _n in sel.versions]
        assert set(keys) == {"short@1", "standard@1"}
        assert sel.version is None and not sel.picked and sel.other_versions == 0
        assert report.result["n_responses"] + report.result["n_excluded"] == report.n_received
        assert not any(n.code in ("picked_form", "forms_not_combined") for n in report.notes)
        for key, n in ((v.key, n) for v, n in sel.versions):
            other = build.build(s, CLI, today=TODAY, unit="KH-NHATRANG", questionnaire=key)
            assert other.selection.version.key == key and other.selection.picked
            assert other.selection.other_versions == report.n_received - n
            assert any(n.code == "picked_form" for n in other.notes)
            counted = other.result["n_responses"] + other.result["n_excluded"]
            assert counted + other.selection.other_versions == other.n_received
            # The rate's numerator is the headline's: the picked form's responses.
            assert other.rate.volume == report.rate.volume
            assert other.rate.responses < report.rate.responses


def test_charts_are_plain_svg():
    svg = str(charts.trend_chart([("T1", 0.8, 0.75, 0.85), ("T2", None, None, None)], 0.83))
    svg += str(charts.interval_cell(0.9, 0.85, 0.95, 0.83, title="<Quầy & 1>").svg("cell", True))
    svg += str(charts.overall_gauge(0.84, 0.82, 0.86, 0.85).svg("gauge"))
    assert "style" not in svg and "<script" not in svg and "href" not in svg
    assert "&lt;Quầy &amp; 1&gt;" in svg
    assert charts.axis_range([0.62, 0.97]) == (0.6, 1.0)
