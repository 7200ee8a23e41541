"""Plain helpers and constants shared by the tests (no fixtures: those are in
tests/fixtures/, registered once by tests/conftest.py)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey.cli import cli
from survey.models import AuditEvent, Comment, QuestionnaireVersion, Response, Unit, User
from survey.models.response import NOT_ANSWERED, decode_answers
from survey.services import auth
from survey.services import questionnaires as qservice
from survey.services.demo import demo_code
from tests.databases import PG_ENV

ROOT = Path(__file__).resolve().parent.parent


# --- source code ------------------------------------------------------------------
def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Every module an ``import`` or ``from … import`` of the file names, made absolute.

    ``from survey import reports`` names ``survey.reports`` too, so each
    imported name is also listed as a submodule of the ``from`` module.
    """
    package = list(path.relative_to(root).with_suffix("").parts[:-1])
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            parts = package[: len(package) - node.level + 1] if node.level else []
            base = ".".join([*parts, *([node.module] if node.module else [])])
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


# --- apps and databases ---------------------------------------------------------
TEST_SECRET = "test-secret-key-0123456789abcdef"


def migrated(url: str) -> None:
    from survey.migrate import upgrade

    upgrade(url)


def with_demo(url: str) -> None:
    from survey.db import Database
    from survey.services.demo import load_demo

    migrated(url)
    database = Database(url)
    with database.session() as session:
        load_demo(session)
    database.dispose()


class BrowserLikeClient(FlaskClient):
    """Follows the 303 that ends a citizen's POST (post/redirect/get) with a GET,
    as every browser does, so a test sees the page the citizen sees.  Pass
    ``follow_redirects=False`` to look at the redirect itself; staff POSTs
    (302 and their Location) are left as they are."""

    def open(self, *args, follow_redirects=None, **kwargs):
        path = args[0] if args and isinstance(args[0], str) else kwargs.get("path", "")
        citizen_post = kwargs.get("method") == "POST" and CITIZEN_POST.match(path) is not None
        resp = super().open(*args, follow_redirects=bool(follow_redirects), **kwargs)
        if follow_redirects is None and citizen_post and resp.status_code == 303:
            return super().open(resp.headers["Location"], method="GET")
        return resp


CITIZEN_POST = re.compile(r"(https?://[^/]+)?/(s|l)/")


def make_app(url: str, **overrides):
    from survey import create_app

    config = {"ENV": "testing", "DATABASE_URL": url, "SECRET_KEY": TEST_SECRET}
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = BrowserLikeClient
    return app


# --- staff ------------------------------------------------------------------------
PASSWORD = "mat-khau-thu-nghiem-01"
CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


@dataclass
class World:
    """Ids of the demo objects the staff tests act on."""

    units: dict[str, int]
    users: dict[str, int]
    desk_in: int  # a desk of KH-CAMRANH
    desk_out: int  # a desk of KH-NHATRANG
    target_in: int
    target_out: int
    child_in: int  # a unit below KH-CAMRANH


def add_user(session, cheap_hash, username, role, unit_id, **extra) -> User:
    user = User(
        username=username,
        password_hash=cheap_hash,
        role=role,
        unit_id=unit_id,
        must_change_password=extra.pop("must_change_password", False),
        **extra,
    )
    session.add(user)
    session.flush()
    return user


def sign_in(client, db, username: str) -> None:
    """Put a valid session cookie on the client, as a successful login would."""
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        with client.session_transaction("/staff/") as cookie:
            auth.sign_in(cookie, user)


def csrf_token(client, path: str) -> str:
    page = client.get(path)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def audit_count(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent))


def audit_events(db, action: str) -> list[AuditEvent]:
    with db.session() as s:
        return list(
            s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        )


# --- the public survey --------------------------------------------------------------
DESK = demo_code("tt-datdai")  # short questionnaire: the default form
SHORT_DESK = demo_code("nt-1")  # short questionnaire, its own choice
# Standard questionnaire: its unit, Phường Cam Ranh, chose it (demo.UNIT_FORMS);
# a desk of two sectors, so its form asks which one (an optional question).
STANDARD_DESK = demo_code("cr-1")


def form_of(client, code=DESK):
    """A form for a new evaluation (``?moi=1``: not a reload of the last one)."""
    resp = client.get(f"/s/{code}?moi=1", follow_redirects=True)
    html = resp.get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    sid = re.search(r'name="sid" value="([^"]+)"', html).group(1)
    items = list(dict.fromkeys(re.findall(r'name="([A-Z]{2}\d*)" value="', html)))
    na_items = set(re.findall(r'name="([A-Z]{2}\d*)" value="NA"', html))
    return {"csrf_token": token, "sid": sid}, items, na_items


def full_answers(client, code=DESK, value="4"):
    base, items, _na = form_of(client, code)
    return {**base, **{item: value for item in items}}


def counts(db):
    """(responses stored, answers stored: items answered or N/A, over all responses)."""
    answered = func.length(func.replace(Response.answers, NOT_ANSWERED, ""))
    with db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Response)),
            int(s.scalar(select(func.coalesce(func.sum(answered), 0))) or 0),
        )


def answers_of(session, response: Response) -> dict[str, int | None]:
    """A stored response's answers: item code -> 1..5, None for N/A (unanswered: absent)."""
    version = session.get(QuestionnaireVersion, response.questionnaire_version_id)
    return decode_answers(qservice.definition(version).all_item_codes(), response.answers)


# --- reports --------------------------------------------------------------------------
# The demo responses run from 1 January to 20 November 2026; volumes to October.
TODAY = date(2026, 11, 22)
PERIOD = ("--from", "2026-01-01", "--to", "2026-10-31")
PLANTED = '=HYPERLINK("http://evil.example/x","Nhấn vào đây")'


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


@contextmanager
def unlimited_demo_app(templates):
    """A demo database and app with rate limits off (many posts from one address),
    for the module-scoped ``demo_app`` of the hostile-input batteries."""
    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name.startswith("SURVEY_") and name != PG_ENV:
                env.delenv(name)
        templates.template("demo", with_demo)
        url = templates.clone("demo")
        app = make_app(url, RATELIMIT_ENABLED=False)
    yield app
    app.extensions["survey.db"].dispose()
    templates.drop(url)
