"""Excel and CSV that work where analysts are (vi-VN Excel): filters, frozen headers,
print setup, months as dates, technical columns apart, a ';' CSV with decimal comma."""

from __future__ import annotations

import csv
import io
import json

from openpyxl import load_workbook

from survey.reports.csv_export import BOM
from survey.reports.xlsx import DETAILS_HEAD, OVERALL_LABEL, SHEETS
from tests.support import PERIOD, run_report

CAMRANH = ("--unit", "KH-CAMRANH", *PERIOD)
TECHNICAL = ("Sai số chuẩn", "Hiệu ứng thiết kế", "Giá trị p (một phía)", "Bậc tự do")


def test_every_table_sheet_filters_freezes_and_prints_landscape(demo_db_url, tmp_path):
    path = tmp_path / "r.xlsx"
    assert run_report(demo_db_url, *CAMRANH, "--format", "xlsx", "-o", str(path)).exit_code == 0
    wb = load_workbook(path)
    for ws in wb.worksheets:
        if ws.max_row < 2:
            continue
        head = int(ws.freeze_panes[1:]) - 1  # the header row is frozen
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith(f"A{head}:"), ws.title
        assert ws.auto_filter.ref.endswith(str(ws.max_row)), ws.title
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.print_title_rows.replace("$", "") == f"{head}:{head}", ws.title
        if ws.title != SHEETS["details"]:  # technical columns only on their own sheet
            names = {c.value for c in ws[head]}
            assert not names & set(TECHNICAL), ws.title


def test_details_sheet_holds_the_technical_columns_of_the_json(demo_db_url, tmp_path):
    book, doc = tmp_path / "r.xlsx", tmp_path / "r.json"
    assert run_report(demo_db_url, *CAMRANH, "--format", "xlsx", "-o", str(book)).exit_code == 0
    assert run_report(demo_db_url, *CAMRANH, "--format", "json", "-o", str(doc)).exit_code == 0
    o = json.loads(doc.read_text("utf-8"))["overall"]
    ws = load_workbook(book)[SHEETS["details"]]
    assert [c.value for c in ws[1]] == DETAILS_HEAD
    [row] = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[2] == OVERALL_LABEL]
    assert row[3:] == (
        o["n"],
        o["estimate"],
        o["se"],
        o["df"],
        o["df_interval"],
        o["p_value"],
        o["deff"] if o["deff"] is not None else o["deff_composite"],  # an index's deff
        o["n_eff"],
    )
    months = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == SHEETS["month"]]
    assert len(months) == 10


def test_csv_vn_dialect_uses_semicolons_and_keeps_the_bom(demo_db_url, tmp_path):
    rfc, vn = tmp_path / "rfc.csv", tmp_path / "vn.csv"
    assert run_report(demo_db_url, *CAMRANH, "--format", "csv", "-o", str(rfc)).exit_code == 0
    result = run_report(
        demo_db_url, *CAMRANH, "--format", "csv", "--csv-dialect", "vn", "-o", str(vn)
    )
    assert result.exit_code == 0, result.output
    for path in (vn, tmp_path / "vn.codebook.csv"):
        assert path.read_bytes().startswith(BOM.encode("utf-8"))
    plain = list(csv.reader(io.StringIO(rfc.read_text("utf-8-sig"))))
    semi = list(csv.reader(io.StringIO(vn.read_text("utf-8-sig")), delimiter=";"))
    assert semi == plain  # the same cells (no decimals in the response file)
    assert ";" in vn.read_text("utf-8-sig").splitlines()[0]
    assert "," in rfc.read_text("utf-8-sig").splitlines()[0]


def test_csv_dialect_is_refused_for_other_formats(demo_db_url, tmp_path):
    out = tmp_path / "r.pdf"
    result = run_report(
        demo_db_url, *CAMRANH, "--format", "pdf", "--csv-dialect", "vn", "-o", str(out)
    )
    assert result.exit_code == 2 and "--csv-dialect" in result.stderr
    assert not out.exists()


def test_vn_dialect_writes_decimal_commas():
    from survey.reports.csv_export import _line

    assert _line(["a", 4.25, 3, "=x"], "vn") == "a;4,25;3;'=x\r\n"
    assert _line(["a", 4.25, 3], "rfc") == "a,4.25,3\r\n"
