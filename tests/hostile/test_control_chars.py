"""Control characters: refused at every text input, dropped by every file writer.

One stored comment holding U+0001 used to make every XLSX export covering it
fail (openpyxl ``IllegalCharacterError``); U+FFFE or a lone surrogate wrote a
file Excel calls corrupt.  The rule lives in survey/text.py.
"""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from flask_wtf import FlaskForm
from openpyxl import load_workbook
from sqlalchemy import select
from wtforms import PasswordField, SelectField, StringField

from survey.cli import cli
from survey.models import Desk, Response, Unit, User
from survey.reports.xlsx import SHEETS
from survey.staff import forms
from survey.text import clean_for_file, has_control_chars
from tests.support import (
    DESK,
    PERIOD,
    TEST_SECRET,
    TODAY,
    counts,
    full_answers,
    plant_comment,
    run_report,
)

REFUSED = ["\x01", "\x08", "\x0b", "\x0c", "\r", "\x1b", "\x1f", "\x7f", "\x85", "\x9f"]
REFUSED += ["\ud800", "\udcff", "\ufffe", "\uffff"]
ALLOWED = ["\t", "\n", " ", "\u00a0", "\u200b", "\u202e", "ệ", "\U0001f600"]
# What legacy rows may hold: everything refused that a database can store
# (neither engine stores NUL or a lone surrogate).
LEGACY = "Chờ\x01 lâu\x0b quá\x7f\x85\ufffe!"
LEGACY_CLEAN = "Chờ lâu quá!"


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch):
    monkeypatch.setattr("survey.clock.local_today", lambda _tz: TODAY)


# --- the rule ---------------------------------------------------------------------
@pytest.mark.parametrize("ch", REFUSED, ids=lambda c: f"U+{ord(c):04X}")
def test_refused_characters_are_found_and_dropped(ch):
    assert has_control_chars(f"a{ch}b")
    assert clean_for_file(f"a{ch}b") == "ab"


@pytest.mark.parametrize("ch", ALLOWED, ids=lambda c: f"U+{ord(c):04X}")
def test_allowed_characters_pass_untouched(ch):
    assert not has_control_chars(f"a{ch}b")
    assert clean_for_file(f"a{ch}b") == f"a{ch}b"


def test_clean_for_file_keeps_line_breaks_and_other_values():
    assert clean_for_file("một\r\nhai\rba") == "một\nhaiba"
    assert clean_for_file(12) == 12 and clean_for_file(None) is None


def test_the_analysis_package_applies_the_same_rule():
    # analysis may not import survey, so it holds a copy of the pattern.
    from analysis import result
    from survey import text

    assert result._NOT_IN_FILES.pattern == text._CONTROL.pattern


# --- citizens -------------------------------------------------------------------
@pytest.mark.parametrize("ch", ["\x01", "\x1b", "\x7f", "\x85", "\ufffe"], ids=repr)
def test_survey_comment_with_a_control_is_refused(demo_client, demo_db, ch):
    data = full_answers(demo_client)
    data["comment"] = f"Tốt{ch} lắm"
    before = counts(demo_db)
    resp = demo_client.post(f"/s/{DESK}", data=data)
    assert resp.status_code == 400
    assert "Ý kiến chứa ký tự không hợp lệ." in resp.get_data(as_text=True)
    assert counts(demo_db) == before


def test_late_comment_with_a_control_is_refused(demo_client, demo_db):
    data = full_answers(demo_client)
    assert demo_client.post(f"/s/{DESK}", data=data).status_code == 200
    base = {"csrf_token": data["csrf_token"], "sid": data["sid"], "comment_kind": "complaint"}
    resp = demo_client.post(f"/s/{DESK}/y-kien", data={**base, "comment": "Chờ\x01 lâu"})
    assert resp.status_code == 400
    assert "Ý kiến chứa ký tự không hợp lệ." in resp.get_data(as_text=True)
    with demo_db.session() as s:
        response = s.scalar(select(Response).where(Response.submission_id == data["sid"]))
        assert response.comment is None
    # Tabs and line breaks are text.
    ok = demo_client.post(f"/s/{DESK}/y-kien", data={**base, "comment": "Chờ\tlâu\r\nquá"})
    assert ok.status_code == 200
    with demo_db.session() as s:
        response = s.scalar(select(Response).where(Response.submission_id == data["sid"]))
        assert response.comment.text == "Chờ\tlâu\nquá"


# --- staff ----------------------------------------------------------------------
def _form_classes():
    return [
        cls
        for cls in vars(forms).values()
        if isinstance(cls, type) and issubclass(cls, FlaskForm) and cls is not FlaskForm
    ]


def _text_fields(form) -> list[str]:
    return [
        f.name
        for f in form
        if isinstance(f, StringField)
        and not isinstance(f, PasswordField)
        and f.name != "csrf_token"
    ]


def test_every_staff_text_field_refuses_controls(app):
    app.config["WTF_CSRF_ENABLED"] = False
    checked = []
    for cls in _form_classes():
        assert issubclass(cls, forms.StaffForm), cls.__name__
        with app.test_request_context(method="POST"):
            names = _text_fields(cls())
        for name in names:
            with app.test_request_context(method="POST", data={name: "Quầy\x01 một"}):
                form = cls()
                for f in form:
                    if isinstance(f, SelectField) and f.choices is None:
                        f.choices = []
                form.validate()
                errors = [str(e) for e in form.errors.get(name, [])]
                assert any("chứa ký tự không hợp lệ" in e for e in errors), (cls, name, errors)
            checked.append(f"{cls.__name__}.{name}")
    # The fields whose values are stored and exported are among them.
    for name in ("UnitForm.name", "DeskNameForm.name", "SectorForm.name", "TargetForm.source"):
        assert name in checked


def test_desk_rename_with_a_control_is_refused(demo_client, demo_db, world, nocsrf, sign_in_as):
    sign_in_as("unit_manager")
    with demo_db.session() as s:
        old = s.get(Desk, world.desk_in).name
    resp = demo_client.post(f"/staff/desks/{world.desk_in}/rename", data={"name": "Quầy\x1b 9"})
    assert resp.status_code == 422
    assert "Tên quầy chứa ký tự không hợp lệ." in resp.get_data(as_text=True)
    with demo_db.session() as s:
        assert s.get(Desk, world.desk_in).name == old


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bad\x01name"], "username contains control"),
        (["ten-dung", "--name", "Nguyễn\x7f Văn A"], "full name contains control"),
        # An undecodable command-line byte arrives as a lone surrogate.
        (["ten\udcffsai"], "username contains control"),
    ],
    ids=["C0 in username", "DEL in full name", "surrogate in username"],
)
def test_cli_user_create_refuses_controls(demo_db_url, demo_db, args, message):
    env = {"SURVEY_DATABASE_URL": demo_db_url, "SURVEY_SECRET_KEY": TEST_SECRET}
    env["SURVEY_ENV"] = "testing"
    result = CliRunner().invoke(
        cli,
        ["user", "create", *args, "--role", "analyst", "--unit", "KH"],
        env=env,
        catch_exceptions=False,
    )
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    with demo_db.session() as s:
        assert s.scalar(select(User).where(User.role == "analyst")) is None


# --- legacy rows: every writer still works -------------------------------------------
def _plant_legacy(db) -> None:
    """A comment and a desk name stored before the checks existed."""
    plant_comment(db, text=LEGACY)
    with db.session() as s:
        unit_id = s.scalar(select(Unit.id).where(Unit.code == "KH-CAMRANH"))
        desk = s.scalar(select(Desk).where(Desk.unit_id == unit_id).order_by(Desk.id))
        desk.name = "Quầy\x01 một\x0c"


def _assert_clean_workbook(data: bytes) -> None:
    book = load_workbook(io.BytesIO(data))
    texts = [
        c.value
        for ws in book.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str)
    ]
    assert LEGACY_CLEAN in texts
    assert any("Quầy một" in t for t in texts)
    assert not any(has_control_chars(t) for t in texts)
    assert LEGACY_CLEAN in [c.value for c in book[SHEETS["comments"]]["G"]]


def test_legacy_controls_do_not_break_the_web_exports(demo_client, demo_db, world, sign_in_as):
    _plant_legacy(demo_db)
    sign_in_as("analyst")
    query = "?unit=KH-CAMRANH&from=2026-01-01&to=2026-10-31"
    xlsx = demo_client.get(f"/staff/reports/export.xlsx{query}")
    assert xlsx.status_code == 200, xlsx.get_data(as_text=True)[:300]
    _assert_clean_workbook(xlsx.data)
    pdf = demo_client.get(f"/staff/reports/export.pdf{query}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_legacy_controls_do_not_break_a_background_export(
    demo_app,
    demo_client,
    demo_db,
    world,
    nocsrf,
    tmp_path,
    sign_in_as,
    worker,
):
    from survey.reports import jobs

    _plant_legacy(demo_db)
    sign_in_as("analyst")
    start = demo_client.post(
        "/staff/reports/jobs",
        data={"fmt": "xlsx", "unit": "KH-CAMRANH", "from": "2026-01-01", "to": "2026-10-31"},
    )
    assert start.status_code == 303
    token = start.headers["Location"].rsplit("/", 1)[1]
    uid = world.users["cr_analyst"]
    job = jobs.wait(demo_app, jobs.get(demo_app, token, uid), uid)
    assert job.status == "done", job
    with demo_client.get(f"/staff/reports/jobs/{token}/file") as resp:
        assert resp.status_code == 200
        _assert_clean_workbook(resp.data)


def test_legacy_controls_do_not_break_the_cli_exports(demo_db_url, demo_db, tmp_path):
    _plant_legacy(demo_db)
    out = tmp_path / "r.xlsx"
    result = run_report(
        demo_db_url, "--unit", "KH-CAMRANH", *PERIOD, "--format", "xlsx", "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    _assert_clean_workbook(out.read_bytes())
    pdf = tmp_path / "r.pdf"
    result = run_report(
        demo_db_url, "--unit", "KH-CAMRANH", *PERIOD, "--format", "pdf", "-o", str(pdf)
    )
    assert result.exit_code == 0 and pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("size", ["a4", "a6"])
def test_pdf_writers_survive_any_text(size):
    # reportlab copes with C0 controls but fails on lone surrogates (which a
    # CLI argument or a JSON escape can carry): the writers drop them first.
    from survey.posters import PosterDesk, render_posters
    from survey.reports import pdf

    desk = PosterDesk(
        "Phường\udcff Một", "Quầy\x01 một\ud800", "https://x.example/s/ABCD2345", "ABCD2345"
    )
    assert render_posters([desk], size).startswith(b"%PDF")
    assert "\ud800" not in pdf._p("Ý kiến\ud800\x01", pdf._Styles().body).text
