"""`survey report`: JSON, Excel, PDF and CSV carry the numbers of the analysis API."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from analysis.engine import analyze
from survey.models import Desk, QuestionnaireVersion, Response, Unit, Volume
from survey.reports import fmt
from survey.reports.csv_export import BOM, neutralise
from survey.reports.xlsx import OVERALL_LABEL, SHEETS
from survey.services import questionnaires as qsvc
from survey.services import units
from tests.support import PERIOD, PLANTED, answers_of, pdf_text, plant_comment, run_report


def independent_overall(db, unit_code: str, start: date, end: date) -> dict:
    """The overall index from a tidy table built row by row with the ORM (no SQL pivot)."""
    with db.session() as s:
        unit = s.scalar(select(Unit).where(Unit.code == unit_code))
        ids = units.subtree_ids(s, unit.id)
        version = qsvc.latest(s, "standard")
        q = qsvc.definition(version)
        rows = []
        for r in s.scalars(
            select(Response).where(
                Response.unit_id.in_(ids),
                Response.day >= start,
                Response.day <= end,
                Response.questionnaire_version_id == version.id,
            )
        ):
            answers = {c: ("NA" if v is None else str(v)) for c, v in answers_of(s, r).items()}
            rows.append(
                {
                    "response_id": r.id,
                    "unit": s.get(Unit, r.unit_id).code,
                    "desk": s.get(Desk, r.desk_id).code,
                    "sector": str(r.sector_id),
                    "day": r.day.isoformat(),
                    "excluded": r.quality_flags != "",
                    **{code: answers.get(code, "") for code in q.all_item_codes()},
                }
            )
        volumes = pd.DataFrame(
            [
                {
                    "desk": s.get(Desk, v.desk_id).code,
                    "month": f"{v.month:%Y-%m}",
                    "volume": v.count,
                }
                for v in s.scalars(
                    select(Volume).where(
                        Volume.unit_id.in_(ids), Volume.month >= start, Volume.month <= end
                    )
                )
            ]
        )
    frame = pd.DataFrame(rows)
    used = frame.loc[~frame["excluded"], ["desk", "day"]].assign(month=lambda d: d["day"].str[:7])
    cells = used[["desk", "month"]].drop_duplicates()
    volumes = cells.merge(volumes, on=["desk", "month"])
    # The report's design: each desk-month is a stratum of survey days.
    return analyze(frame, q, volumes=volumes, target=0.87, strata=("desk", "month"))["overall"]


def test_json_xlsx_and_pdf_carry_the_same_overall(demo_db_url, demo_db, tmp_path):
    out = {f: tmp_path / f"r.{f}" for f in ("json", "xlsx", "pdf")}
    for f, path in out.items():
        result = run_report(
            demo_db_url, "--unit", "KH-CAMRANH", *PERIOD, "--format", f, "-o", str(path)
        )
        assert result.exit_code == 0, result.output
    doc = json.loads(out["json"].read_text(encoding="utf-8"))
    overall = doc["overall"]["estimate"]
    expected = independent_overall(demo_db, "KH-CAMRANH", date(2026, 1, 1), date(2026, 10, 31))
    assert overall == pytest.approx(expected["estimate"], abs=1e-12)
    assert doc["overall"]["ci_low"] == pytest.approx(expected["ci_low"], abs=1e-12)
    assert doc["report"]["weighting"] == "desk_month_volumes"
    assert doc["selection"]["unit"]["code"] == "KH-CAMRANH"
    assert doc["selection"]["from"] == "2026-01-01" and doc["selection"]["to"] == "2026-10-31"
    assert doc["overall"]["target"] == 0.87 and doc["n_excluded"] > 0

    wb = load_workbook(out["xlsx"])
    summary = wb[SHEETS["summary"]]
    [cell] = [row[1] for row in summary.iter_rows() if row[0].value == OVERALL_LABEL]
    assert isinstance(cell.value, float) and cell.value == pytest.approx(overall, abs=1e-12)
    assert "%" in cell.number_format

    text = pdf_text(out["pdf"])
    shown = fmt.pct(overall)  # e.g. 84,1%
    assert shown.endswith("%") and "," in shown
    assert f"Chỉ số hài lòng chung: {shown}" in text
    # The administrative format (tests/reports/test_document.py has the details).
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "BÁO CÁO" in text and "Kết quả khảo sát mức độ hài lòng" in text
    assert "Khoảng tin cậy 95%" in text and "Đất đai, xây dựng, đầu tư" in text  # group verdicts
    raw = out["pdf"].read_bytes()
    assert b"LiberationSerif" in raw and b"DejaVuSans" in raw  # body; charts


def test_xlsx_sheets_numbers_and_no_formulas(demo_db_url, demo_db, tmp_path):
    plant_comment(demo_db)
    path = tmp_path / "r.xlsx"
    assert (
        run_report(
            demo_db_url, "--unit", "KH-CAMRANH", *PERIOD, "--format", "xlsx", "-o", str(path)
        ).exit_code
        == 0
    )
    wb = load_workbook(path)
    # In this order (other sheets, such as complaint handling, may stand between).
    assert [n for n in wb.sheetnames if n in SHEETS.values()] == list(SHEETS.values())
    crit = wb[SHEETS["criteria"]]
    head = [c.value for c in crit[1]]
    col = head.index("Tỷ lệ hài lòng")
    rows = list(crit.iter_rows(min_row=2))
    assert len(rows) == 7  # overall + six criteria
    for row in rows:
        assert isinstance(row[col].value, float) and 0 < row[col].value < 1
        assert row[col].number_format == "0.0%"
    desks = wb[SHEETS["desk"]]
    assert desks.max_row == 4  # three desks of Cam Ranh
    months = wb[SHEETS["month"]]
    # Months are dates (Excel sorts and filters them), shown 01/2026.
    first = [r[0] for r in months.iter_rows(min_row=2)][:2]
    assert [c.value.date() for c in first] == [date(2026, 1, 1), date(2026, 2, 1)]
    assert first[0].number_format == "mm/yyyy"
    comments = wb[SHEETS["comments"]]
    texts = [r[6] for r in comments.iter_rows(min_row=2)]
    planted = [c for c in texts if c.value and "HYPERLINK" in c.value]
    assert planted and planted[0].value == "'" + PLANTED and planted[0].data_type == "s"
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)


def test_csv_has_bom_codebook_and_neutralised_cells(demo_db_url, demo_db, tmp_path):
    plant_comment(demo_db)
    path = tmp_path / "data.csv"
    result = run_report(
        demo_db_url, "--unit", "KH-CAMRANH", *PERIOD, "--format", "csv", "-o", str(path)
    )
    assert result.exit_code == 0, result.output
    raw = path.read_bytes()
    assert raw.startswith(BOM.encode("utf-8"))
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    with demo_db.session() as s:
        unit_id = s.scalar(select(Unit.id).where(Unit.code == "KH-CAMRANH"))
        version = s.scalar(
            select(QuestionnaireVersion.id).where(QuestionnaireVersion.qid == "standard")
        )
        n = len(
            s.scalars(
                select(Response.id).where(
                    Response.unit_id == unit_id,
                    Response.questionnaire_version_id == version,
                    Response.day <= date(2026, 10, 31),
                )
            ).all()
        )
    assert len(rows) == n
    assert {"response_id", "unit", "desk", "day", "excluded", "TC1", "HL", "comment"} <= set(
        rows[0]
    )
    assert {r["TC1"] for r in rows} <= {"1", "2", "3", "4", "5", "NA", ""}
    assert any(r["PH1"] == "NA" for r in rows)
    [hit] = [r for r in rows if "HYPERLINK" in r["comment"]]
    assert hit["comment"] == "'" + PLANTED
    book = tmp_path / "data.codebook.csv"
    assert book.read_bytes().startswith(BOM.encode("utf-8"))
    entries = list(csv.DictReader(io.StringIO(book.read_text(encoding="utf-8-sig"))))
    variables = {e["variable"] for e in entries}
    assert {"response_id", "desk", "TC1", "HL", "comment"} <= variables
    assert any(e["variable"] == "unit" and e["value"] == "KH-CAMRANH" for e in entries)
    assert any(e["value"] == "NA" and e["label"] == "Không áp dụng" for e in entries)


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+84 90", "'+84 90"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Tốt lắm", "Tốt lắm"),
        (5, 5),
        (None, None),
    ],
)
def test_neutralise(value, safe):
    assert neutralise(value) == safe


def test_csv_reads_back_into_the_analysis(demo_db_url, tmp_path):
    from analysis import read_responses
    from questionnaires.loader import find

    path = tmp_path / "d.csv"
    assert (
        run_report(
            demo_db_url, "--unit", "KH-DIENKHANH", *PERIOD, "--format", "csv", "-o", str(path)
        ).exit_code
        == 0
    )
    frame = read_responses(path)
    result = analyze(frame, find("standard", 1))
    doc = tmp_path / "d.json"
    assert (
        run_report(
            demo_db_url, "--unit", "KH-DIENKHANH", *PERIOD, "--format", "json", "-o", str(doc)
        ).exit_code
        == 0
    )
    assert result["n_responses"] == json.loads(doc.read_text())["n_responses"]


def test_sector_group_report_is_judged_against_the_group_target(demo_db_url, tmp_path):
    path = tmp_path / "g.json"
    args = (
        "--unit",
        "KH",
        *PERIOD,
        "--sector-group",
        "dd-xd-dt",
        "--format",
        "json",
        "-o",
        str(path),
    )
    assert run_report(demo_db_url, *args).exit_code == 0
    doc = json.loads(path.read_text())
    assert doc["overall"]["target"] == 0.75
    assert {e["key"] for e in doc["groups"]["sector_group"]} == {"DD-XD-DT"}
    assert doc["report"]["response_rate"] is None  # volumes are per desk, not per sector


def test_invalid_input_exits_2_and_writes_nothing(demo_db_url, tmp_path):
    out = tmp_path / "r.pdf"
    cases = [
        (["--unit", "NOPE"], "--unit: There is no unit with code “NOPE”."),
        (["--unit", "KH", "--from", "2026-02-30"], "--from: The date “2026-02-30” is not valid"),
        (
            ["--unit", "KH", "--from", "2026-06-01", "--to", "2026-05-01"],
            "The start date must come before the end date.",
        ),
        (
            ["--unit", "KH", "--sector-group", "ZZZ"],
            "--sector-group: There is no sector group with code “ZZZ”.",
        ),
        (
            ["--unit", "KH", "--questionnaire", "nope@9"],
            "--questionnaire: There is no questionnaire “nope@9”.",
        ),
        (
            ["--unit", "KH-CAMRANH", "--sector", "DAT_DAI", "--sector-group", "YT-GD"],
            "does not belong",
        ),
    ]
    for args, needle in cases:
        result = run_report(demo_db_url, *args, "--format", "pdf", "-o", str(out))
        assert result.exit_code == 2, (args, result.output)
        assert needle in result.stderr, (args, result.stderr)
        assert list(tmp_path.iterdir()) == []
    result = run_report(
        demo_db_url, "--unit", "KH", "--format", "pdf", "-o", str(tmp_path / "no" / "r.pdf")
    )
    assert result.exit_code == 2 and "does not exist" in result.stderr
    result = run_report(demo_db_url, "--unit", "KH", "--format", "doc", "-o", str(out))
    assert result.exit_code == 2 and list(tmp_path.iterdir()) == []
