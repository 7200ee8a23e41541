"""Period over period and unit vs unit in the report: JSON, Excel and PDF agree,
and a difference is the difference of the two estimates shown."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from openpyxl import load_workbook

from survey.reports import texts
from survey.reports.xlsx import PREVIOUS_HEAD, SHEETS
from tests.support import PERIOD, pdf_text, run_report

PROVINCE = ("--unit", "KH", *PERIOD)


@pytest.fixture
def files(demo_db_url, tmp_path):
    paths = {f: tmp_path / f"r.{f}" for f in ("json", "xlsx", "pdf")}
    for f, path in paths.items():
        assert run_report(demo_db_url, *PROVINCE, "--format", f, "-o", str(path)).exit_code == 0
    return paths


def test_each_month_against_the_one_before(files):
    doc = json.loads(files["json"].read_text("utf-8"))
    months = sorted(doc["groups"]["month"], key=lambda e: e["key"])
    assert months[0]["vs_previous"] is None  # January has no month before it in the period
    compared = 0
    for before, e in zip(months, months[1:], strict=False):
        c = e["vs_previous"]
        if c is None:
            continue
        compared += 1
        diff = e["overall"]["estimate"] - before["overall"]["estimate"]
        assert c["difference"] == pytest.approx(diff, abs=1e-12)
        assert c["ci_low"] < c["difference"] < c["ci_high"]
        assert c["significant"] == (c["ci_low"] > 0 or c["ci_high"] < 0)
    assert compared == 9
    wb = load_workbook(files["xlsx"])
    ws = wb[SHEETS["month"]]
    head = [c.value for c in ws[1]]
    col = head.index(PREVIOUS_HEAD[0])
    for row, e in zip(ws.iter_rows(min_row=2, values_only=True), months, strict=True):
        c = e["vs_previous"]
        assert row[col] == (pytest.approx(c["difference"], abs=1e-15) if c else None)
        assert row[head.index(PREVIOUS_HEAD[-1])] == (texts.pair_label(c) or None)
    text = " ".join(pdf_text(files["pdf"]).split())
    assert "So với tháng trước" in text
    # The label wraps in its cell; its figure stays whole.
    assert f"({texts.points(months[1]['vs_previous']['difference'])} điểm)" in text


def test_units_against_each_other(files):
    doc = json.loads(files["json"].read_text("utf-8"))
    units = {e["key"]: e for e in doc["groups"]["unit"]}
    seen = 0
    for a, e in units.items():
        for b, c in e["vs_others"].items():
            other = units[b]
            assert c["difference"] == pytest.approx(
                e["overall"]["estimate"] - other["overall"]["estimate"], abs=1e-12
            )
            assert other["vs_others"][a]["difference"] == -c["difference"]
            assert 0 <= c["p_value"] <= c["p_adjusted"] <= 1  # Holm over every pair
            seen += 1
    assert seen >= 2 * 10
    ws = load_workbook(files["xlsx"])[SHEETS["pairs"]]
    rows = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == SHEETS["unit"]]
    assert len(rows) == seen // 2
    for row in rows:
        c = units[row[1]]["vs_others"][row[3]]
        expected = (c["difference"], c["ci_low"], c["ci_high"], c["p_value"], c["p_adjusted"])
        assert row[5:10] == pytest.approx(expected, abs=1e-15)  # as Excel stores them


def test_a_ranking_row_opens_that_units_report(sign_in_as):
    client = sign_in_as("analyst", unit_code="KH")
    html = client.get("/staff/reports?from=2026-01-01&to=2026-10-31").get_data(as_text=True)
    links = re.findall(r'<td class="name"><a href="([^"]+)">([^<]+)</a>', html)
    by_name = {unescape(name): unescape(href) for href, name in links}
    href = by_name["Phường Cam Ranh"]
    assert "unit=KH-CAMRANH" in href and "from=2026-01-01" in href and "to=2026-10-31" in href
    page = client.get(href)
    assert page.status_code == 200
    assert "Phường Cam Ranh" in page.get_data(as_text=True)
    assert any("desk=" in h for h in by_name.values())  # desk rows open the desk's report
    desk = next(h for h in by_name.values() if "desk=" in h)
    assert client.get(desk).status_code == 200
