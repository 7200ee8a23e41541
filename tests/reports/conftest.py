"""Report fixtures: a fixed "today", the staff users of tests/staff, a planted comment."""

from __future__ import annotations

import subprocess
from datetime import date, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from survey.cli import cli
from survey.models import Comment, Response, Unit
from tests.conftest import TEST_SECRET
from tests.staff.conftest import cheap_hash, nocsrf, sign_in, world  # noqa: F401  (fixtures)

# The demo responses run from 1 January to 20 November 2026; volumes to October.
TODAY = date(2026, 11, 22)
PERIOD = ("--from", "2026-01-01", "--to", "2026-10-31")
PLANTED = '=HYPERLINK("http://evil.example/x","Nhấn vào đây")'


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch):
    """Pages and commands take "today" from the local clock: pin it to the demo's."""
    monkeypatch.setattr("survey.clock.local_today", lambda _tz: TODAY)


def run_report(url: str, *args: str):
    env = {"SURVEY_DATABASE_URL": url, "SURVEY_SECRET_KEY": TEST_SECRET, "SURVEY_ENV": "testing"}
    return CliRunner().invoke(cli, ["report", *args], env=env, catch_exceptions=False)


def pdf_text(path) -> str:
    run = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return run.stdout.decode("utf-8")


def plant_comment(db, unit_code: str = "KH-CAMRANH", text: str = PLANTED) -> int:
    """Put ``text`` on a clean response of the unit in October 2026 (replacing any comment)."""
    with db.session() as s:
        unit_id = s.scalar(select(Unit.id).where(Unit.code == unit_code))
        resp = s.scalar(
            select(Response)
            .where(
                Response.unit_id == unit_id,
                Response.quality_flags == "",
                Response.day >= date(2026, 10, 1),
                Response.day <= date(2026, 10, 31),
            )
            .order_by(Response.id)
            .limit(1)
        )
        if resp.comment is not None:
            s.delete(resp.comment)
            s.flush()
        s.add(
            Comment(
                response_id=resp.id, text=text, kind="complaint", created_at=datetime(2026, 10, 5)
            )
        )
        return resp.id


@pytest.fixture
def analyst(demo_client, demo_db, world):  # noqa: F811
    """A client signed in as the analyst of KH-CAMRANH."""
    sign_in(demo_client, demo_db, "cr_analyst")
    return demo_client
