"""A sector filter is a domain of the full design; uncovered desk-months are reported.

Issue 15, parts 1 and 2: `survey report --sector X` must equal the X row of the
unfiltered report (same weights, same design), and transactions of desk-months
without a counted response must be counted, listed and handled by the rule of
``survey.reports.weighting.collapse`` / ``coverage``.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from survey.models import Desk, Response, Sector, Unit, Volume
from survey.reports.xlsx import SHEETS
from survey.services import units
from tests.support import PERIOD, run_report

TOL = 1e-9


def _report(url, tmp_path, *args: str) -> dict:
    path = tmp_path / f"r{abs(hash(args))}.json"
    result = run_report(url, "--unit", "KH", *PERIOD, *args, "--format", "json", "-o", str(path))
    assert result.exit_code == 0, result.output
    return json.loads(path.read_text())


def _same(a: dict, b: dict) -> None:
    for key in ("estimate", "se", "ci_low", "ci_high"):
        assert a[key] == pytest.approx(b[key], abs=TOL), key
    for key in ("n", "df", "verdict", "more_needed"):
        assert a.get(key) == b.get(key), key


@pytest.fixture
def unfiltered(demo_db_url, tmp_path):
    return _report(demo_db_url, tmp_path)


def _row(doc: dict, by: str, key: str) -> dict:
    return next(e for e in doc["groups"][by] if e["key"] == key)


def test_sector_report_equals_the_sector_row(demo_db_url, tmp_path, unfiltered):
    doc = _report(demo_db_url, tmp_path, "--sector", "DAT_DAI")
    row = _row(unfiltered, "sector", "DAT_DAI")
    _same(doc["overall"], row["overall"])
    _same(doc["mean_score"], row["mean_score"])
    for got, want in zip(doc["criteria"], row["criteria"], strict=True):
        _same(got, want)
    assert doc["n_responses"] == row["n"]
    # Its breakdowns are the domain's: only DAT_DAI, and its desks as rows of the domain.
    assert [e["key"] for e in doc["groups"]["sector"]] == ["DAT_DAI"]
    _same(doc["groups"]["sector"][0]["overall"], row["overall"])
    assert sum(e["n"] for e in doc["groups"]["desk"]) == doc["n_responses"]
    # The weights are those of the whole report, and the report says so.
    assert doc["design"]["n_psu"] == unfiltered["design"]["n_psu"]
    assert doc["design"]["weight_max"] <= unfiltered["design"]["weight_max"]
    assert not any("trọng số vẫn theo tổng số hồ sơ của quầy" in n for n in doc["report"]["notes"])
    assert any("miền" in line or "bằng đúng dòng" in line for line in doc["report"]["notes"])
    assert doc["report"]["response_rate"] is None  # no volumes per sector
    assert doc["report"]["coverage"] == unfiltered["report"]["coverage"]


def test_sector_group_report_equals_the_group_row(demo_db_url, tmp_path, unfiltered):
    doc = _report(demo_db_url, tmp_path, "--sector-group", "dd-xd-dt")
    row = _row(unfiltered, "sector_group", "DD-XD-DT")
    _same(doc["overall"], row["overall"])
    assert doc["n_responses"] == row["n"]
    assert {e["key"] for e in doc["groups"]["sector_group"]} == {"DD-XD-DT"}
    # Its sectors are the rows of the unfiltered report for the same sectors.
    for entry in doc["groups"]["sector"]:
        _same(entry["overall"], _row(unfiltered, "sector", entry["key"])["overall"])


def test_counts_of_a_sector_report_are_the_sector_s(demo_db_url, demo_db, tmp_path):
    doc = _report(demo_db_url, tmp_path, "--sector", "DAT_DAI")
    with demo_db.session() as s:
        kh = s.scalar(select(Unit).where(Unit.code == "KH"))
        ids = units.subtree_ids(s, kh.id)
        sector_id = s.scalar(select(Sector.id).where(Sector.code == "DAT_DAI"))
        rows = s.execute(
            select(Response.quality_flags).where(
                Response.unit_id.in_(ids),
                Response.sector_id == sector_id,
                Response.day >= date(2026, 1, 1),
                Response.day <= date(2026, 10, 31),
            )
        ).all()
    flagged = sum(1 for (f,) in rows if f)
    assert doc["report"]["responses_received"] == len(rows)
    assert doc["n_excluded"] == flagged
    assert doc["n_responses"] == len(rows) - flagged


def test_dashboard_with_a_sector_filter_shows_the_sector_row(sign_in_as, demo_db_url, tmp_path):
    doc = _report(demo_db_url, tmp_path, "--sector", "DAT_DAI")
    analyst = sign_in_as("analyst", unit_code="KH")
    resp = analyst.get(
        "/staff/reports/export.json?unit=KH&from=2026-01-01&to=2026-10-31&sector=DAT_DAI"
    )
    assert resp.status_code == 200, resp.data[:300]
    web = resp.get_json()
    _same(web["overall"], doc["overall"])
    page = analyst.get("/staff/reports?unit=KH&from=2026-01-01&to=2026-10-31&sector=DAT_DAI")
    html = page.get_data(as_text=True)
    est = doc["overall"]["estimate"] * 100
    assert f"{est:.1f}".replace(".", ",") + "%" in html
    assert "Phạm vi đại diện" in html


def _uncover(db, unit_code: str, month: date) -> tuple[str, str, int]:
    """Flag every response of one month of a desk (its volume stays): an uncovered month.

    Returns the desk's code and name and the month's volume.
    """
    last = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    with db.session() as s:
        desk = s.scalars(
            select(Desk)
            .join(Unit, Desk.unit_id == Unit.id)
            .join(Volume, Volume.desk_id == Desk.id)
            .where(Unit.code == unit_code, Volume.month == month, Volume.count > 0)
            .order_by(Desk.code)
        ).first()
        volume = s.scalar(
            select(func.sum(Volume.count)).where(Volume.desk_id == desk.id, Volume.month == month)
        )
        s.execute(
            update(Response)
            .where(Response.desk_id == desk.id, Response.day >= month, Response.day < last)
            .values(quality_flags="straightline")
        )
        s.commit()
        return desk.code, desk.name, int(volume)


def test_an_uncovered_month_is_absorbed_by_the_desk_s_other_months(demo_db, demo_db_url, tmp_path):
    code, name, volume = _uncover(demo_db, "KH-CAMRANH", date(2026, 3, 1))
    doc = _report(demo_db_url, tmp_path)
    cov = doc["report"]["coverage"]
    assert cov["total_volume"] == 60_355
    assert cov["covered_volume"] == 60_355 - volume
    assert cov["share"] == pytest.approx(1 - volume / 60_355)
    # The desk keeps its whole weight: its other months carry March's transactions.
    assert cov["represented_volume"] == 60_355
    assert cov["uncovered"] == [
        {
            "desk": code,
            "desk_name": name,
            "unit": "KH-CAMRANH",
            "months": ["2026-03"],
            "volume": volume,
            "treatment": "absorbed",
        }
    ]
    assert any(name in n and "tháng 3/2026" in n for n in doc["report"]["notes"])


def test_a_desk_without_responses_is_reported_not_represented(sign_in_as, demo_db_url, tmp_path):
    # On the standard form alone, one Nha Trang desk (it answers the short form) has
    # 9,646 transactions and no counted response: 84.0% of the transactions are covered.
    doc = _report(demo_db_url, tmp_path, "--questionnaire", "standard@1")
    cov = doc["report"]["coverage"]
    assert (cov["covered_volume"], cov["total_volume"]) == (50_709, 60_355)
    assert cov["represented_volume"] == 50_709
    (desk,) = cov["uncovered"]
    assert desk["treatment"] == "not_represented" and desk["volume"] == 9_646
    assert len(desk["months"]) == 10
    assert any("không đại diện cho 9.646 hồ sơ" in n for n in doc["report"]["notes"])
    analyst = sign_in_as("analyst", unit_code="KH")
    html = analyst.get(
        "/staff/reports?unit=KH&from=2026-01-01&to=2026-10-31&q=standard@1"
    ).get_data(as_text=True)
    assert "Phạm vi đại diện" in html and "84,0% số hồ sơ" in html
    assert "không được đại diện" in html


def test_excel_states_the_coverage_and_the_domain(demo_db_url, tmp_path):
    path = tmp_path / "r.xlsx"
    args = ("--unit", "KH", *PERIOD, "--questionnaire", "standard@1", "--sector", "DAT_DAI")
    result = run_report(demo_db_url, *args, "--format", "xlsx", "-o", str(path))
    assert result.exit_code == 0, result.output
    wb = load_workbook(path)
    rows = {r[0]: r[1] for r in wb[SHEETS["summary"]].iter_rows(values_only=True) if r and r[0]}
    share = rows["Phạm vi đại diện (số hồ sơ của quầy-tháng có phiếu)"]
    assert share == pytest.approx(50_709 / 60_355)
    method = " ".join(
        str(r[0]) for r in wb[SHEETS["method"]].iter_rows(values_only=True) if r and r[0]
    )
    assert "Phạm vi đại diện: 84,0% số hồ sơ" in method
    assert "một miền của cả báo cáo" in method
