"""`survey responses import`: a tidy CSV of paper forms or history into responses.

Run on SQLite and, with SURVEY_TEST_DATABASE_URL, on PostgreSQL (COPY there).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from survey.cli import cli
from survey.models import Comment, Response
from survey.services.demo import demo_code
from tests.support import TEST_SECRET, answers_of, audit_events, counts

CR1 = demo_code("cr-1")  # Phường Cam Ranh, sectors HO_TICH and TU_PHAP
YTE = demo_code("tt-yte")  # the province's centre, one sector (Y_TE)
NT1 = demo_code("nt-1")  # Nha Trang: outside a Cam Ranh manager's units
HEADER = "response_id,desk,day,sector,TC1,DK1,TT1,CC1,KQ1,PH1,HL,comment"
GOOD = f"""{HEADER}
P1,{CR1},2026-03-02,HO_TICH,5,4,4,NA,3,5,4,"Cán bộ tận tình, chu đáo."
P2,{CR1},02/03/2026,TU_PHAP,4,NA,5,,2,1,4,
P3,{YTE},2026-03-03,,1,2,3,4,5,5,5,
"""


def run(url, *args):
    env = {"SURVEY_DATABASE_URL": url, "SURVEY_SECRET_KEY": TEST_SECRET, "SURVEY_ENV": "testing"}
    return CliRunner().invoke(cli, ["responses", "import", *args], env=env)


@pytest.fixture
def csv_file(tmp_path):
    def _write(text: str, name: str = "paper.csv"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return _write


def imported(db) -> list[Response]:
    with db.session() as s:
        rows = s.scalars(
            select(Response).where(Response.submission_id.like("import:%")).order_by(Response.id)
        ).all()
        for r in rows:
            _ = r.comment
            r.values = answers_of(s, r)
        return rows


def total(db) -> tuple[int, int, int]:
    """(responses, answers stored, comments)."""
    responses, answers = counts(db)
    with db.session() as s:
        return responses, answers, s.scalar(select(func.count()).select_from(Comment))


def test_a_good_file_is_stored_with_its_channel_and_no_flags_or_hashes(
    demo_db_url, demo_db, csv_file
):
    result = run(demo_db_url, csv_file(GOOD), "--questionnaire", "short@1", "--channel", "paper")
    assert result.exit_code == 0, result.output
    assert "imported 3 responses (20 answers, 1 comments) at 2 desks" in result.output
    rows = imported(demo_db)
    assert [r.submission_id for r in rows] == ["import:P1", "import:P2", "import:P3"]
    assert {r.channel for r in rows} == {"paper"}
    assert {r.quality_flags for r in rows} == {""}
    assert all(r.client_hash is None and r.device_hash is None for r in rows)
    p1, p2, p3 = rows
    assert str(p2.day) == "2026-03-02"  # DD/MM/YYYY, as Vietnamese Excel writes it
    assert p1.values["CC1"] is None  # NA
    assert "CC1" not in p2.values  # blank: unanswered
    assert p1.comment.text == "Cán bộ tận tình, chu đáo." and p2.comment is None
    # A one-sector desk gives a row without a sector its sector, as the QR path does.
    assert p3.sector_id is not None and p2.sector_id != p1.sector_id
    (event,) = audit_events(demo_db, "responses.import")
    assert json.loads(event.after)["imported"] == 3


def test_re_importing_the_same_file_adds_nothing(demo_db_url, demo_db, csv_file):
    path = csv_file(GOOD)
    assert run(demo_db_url, path, "--questionnaire", "short").exit_code == 0
    before = total(demo_db)
    again = run(demo_db_url, path, "--questionnaire", "short")
    assert again.exit_code == 0, again.output
    assert "imported 0 responses" in again.output and "3 already stored, skipped" in again.output
    assert total(demo_db) == before


@pytest.mark.parametrize(
    ("line", "where"),
    [
        (f"X9,{CR1},2026-03-04,,4,4,4,4,4,4,7,", "row 4 (line 5), column HL: '7' is not an answer"),
        (f"X9,{CR1},2026-03-04,,NA,4,4,4,4,4,4,", "row 4 (line 5), column TC1: NA"),
        (f"X9,{CR1},2026-02-30,,4,4,4,4,4,4,4,", "row 4 (line 5), column day:"),
        ("X9,ZZZZZZZZ,2026-03-04,,4,4,4,4,4,4,4,", "row 4 (line 5), column desk: unknown"),
        (f"X9,{CR1},2026-03-04,NOPE,4,4,4,4,4,4,4,", "row 4 (line 5), column sector:"),
        (f"P1,{CR1},2026-03-04,,4,4,4,4,4,4,4,", "row 4 (line 5), column response_id: "),
    ],
)
def test_one_bad_row_writes_nothing_and_names_row_and_column(
    demo_db_url, demo_db, csv_file, line, where
):
    before = total(demo_db)
    result = run(demo_db_url, csv_file(GOOD + line + "\n"), "--questionnaire", "short@1")
    assert result.exit_code == 2
    assert where in result.output
    assert "nothing was imported" in result.output
    assert total(demo_db) == before


def test_a_misspelt_item_column_is_refused(demo_db_url, demo_db, csv_file):
    before = total(demo_db)
    result = run(demo_db_url, csv_file(GOOD.replace("KQ1", "KQ 1")), "--questionnaire", "short")
    assert result.exit_code == 2
    assert "header, column KQ 1: not a column" in result.output
    assert "header, column KQ1: missing" in result.output
    assert total(demo_db) == before


def test_a_desk_outside_the_operators_units_is_refused(demo_db_url, demo_db, world, csv_file):
    before = total(demo_db)
    mine = f"{HEADER}\nA1,{CR1},2026-03-02,,4,4,4,4,4,4,4,\n"
    theirs = mine + f"A2,{NT1},2026-03-02,,4,4,4,4,4,4,4,\n"
    refused = run(
        demo_db_url, csv_file(theirs), "--questionnaire", "short", "--as", "cr_unit_manager"
    )
    assert refused.exit_code == 2
    assert f"row 2 (line 3), column desk: desk {NT1} is outside the operator's units" in (
        refused.output
    )
    assert total(demo_db) == before
    analyst = run(demo_db_url, csv_file(mine), "--questionnaire", "short", "--as", "cr_analyst")
    assert analyst.exit_code == 2 and "may not import responses" in analyst.output
    ok = run(demo_db_url, csv_file(mine), "--questionnaire", "short", "--as", "cr_unit_manager")
    assert ok.exit_code == 0, ok.output
    (event,) = audit_events(demo_db, "responses.import")
    assert event.actor == "cr_unit_manager"


def test_dry_run_checks_and_counts_but_writes_nothing(demo_db_url, demo_db, csv_file):
    before = total(demo_db)
    result = run(demo_db_url, csv_file(GOOD), "--questionnaire", "short", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would import 3 responses" in result.output
    assert total(demo_db) == before
    assert audit_events(demo_db, "responses.import") == []


def test_an_unpublished_questionnaire_is_refused(demo_db_url, csv_file):
    result = run(demo_db_url, csv_file(GOOD), "--questionnaire", "short@9")
    assert result.exit_code == 2 and "--questionnaire: 'short@9'" in result.output


def test_the_column_check_and_the_row_check_read_a_clean_file_alike(demo_db, tmp_path, monkeypatch):
    """A clean file takes the column-by-column path; the row-by-row one (which names
    issues) must read it into the very same rows, or the two paths have drifted."""
    from survey.services import questionnaires as qservice
    from survey.services import response_import as ri
    from survey.services.access import SystemActor

    path = tmp_path / "paper.csv"
    # Sectors given, left blank at a one-sector desk and at a two-sector desk; N/A; blanks.
    path.write_text(
        GOOD + f"P4,{CR1},2026-03-04,,5,5,5,5,5,5,5,\nP5,{YTE},2026-03-05,Y_TE,,,,,,,4,\n",
        encoding="utf-8",
    )
    header, rows = ri.read_csv(path)
    with demo_db.session() as s:
        version = ri.resolve_questionnaire(s, "short@1")
        q = qservice.definition(version)
        columns = ri._columns(header, q)
        args = (s, rows, columns, q, SystemActor(), "Asia/Ho_Chi_Minh")
        taken = []
        original = ri._clean_file
        monkeypatch.setattr(ri, "_clean_file", lambda *a: taken.append(original(*a)) or taken[-1])
        by_columns = ri._check_rows(*args)
        monkeypatch.setattr(ri, "_clean_file", lambda *_a: None)
        by_rows = ri._check_rows(*args)
    assert taken and taken[0] is not None  # the first read took the column path
    assert len(by_columns) == 5
    assert by_columns == by_rows
