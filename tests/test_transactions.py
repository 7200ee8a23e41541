"""One transaction per request (survey/web_db.py).

The request's session commits once, when the view answers below 400, and
rolls back on an exception or an error status; a refusal that must be kept
(an audited failed sign-in) says so with ``keep_on_refusal()``.  Test-only
routes on a fresh app write through a real service; the staff cases check
views that fail or refuse after their service wrote.
"""

from __future__ import annotations

import io
import re
from datetime import date

import psycopg
import pytest
from flask import abort, flash, redirect
from sqlalchemy import func, select

from survey.models import AuditEvent, Desk, Unit, User
from survey.models.planning import VolumeUpload
from survey.services import audit
from survey.services.demo import demo_code
from survey.services.org import desks as org_desks
from survey.web_db import get_session, keep_on_refusal
from tests.databases import _pg_conninfo
from tests.support import add_user, audit_events

CR1 = demo_code("cr-1")
TOKEN = re.compile(r'name="token" type="hidden" value="([^"]+)"')


def _written(db) -> int:
    with db.session() as s:
        return s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "test.write")
        )


def _write() -> None:
    session = get_session()
    audit.record(session, actor="test", action="test.write", entity="test")
    session.flush()  # in the database (inside the transaction), as services leave it


@pytest.fixture
def routes(demo_app):
    """Test-only routes: each writes an audit event, then answers as its name says."""

    def status(code: int):
        _write()
        return "answered", code

    def redirected():
        _write()
        flash("saved")
        return redirect("/privacy")

    def aborted(code: int):
        _write()
        abort(code)

    def raised():
        _write()
        raise RuntimeError("a bug after the service wrote")

    def kept(code: int):
        _write()
        keep_on_refusal()
        return "refused, and the refusal kept", code

    def kept_then_raised():
        _write()
        keep_on_refusal()
        raise RuntimeError("a bug after a kept refusal")

    for rule, view in [
        ("/_t/status/<int:code>", status),
        ("/_t/redirect", redirected),
        ("/_t/abort/<int:code>", aborted),
        ("/_t/raise", raised),
        ("/_t/kept/<int:code>", kept),
        ("/_t/kept-raise", kept_then_raised),
    ]:
        demo_app.add_url_rule(rule, view.__name__, view)
    return demo_app


@pytest.mark.parametrize(
    ("path", "status", "stored"),
    [
        ("/_t/status/200", 200, True),
        ("/_t/status/201", 201, True),
        ("/_t/redirect", 302, True),  # flash() then redirect: a success
        ("/_t/status/400", 400, False),
        ("/_t/status/409", 409, False),
        ("/_t/status/422", 422, False),  # a form shown again after a refused change
        ("/_t/abort/403", 403, False),
        ("/_t/abort/404", 404, False),
        ("/_t/status/500", 500, False),
        ("/_t/kept/422", 422, True),
        ("/_t/kept/429", 429, True),
        ("/_t/kept/500", 500, False),  # a 5xx never commits
    ],
)
def test_the_status_decides_commit_or_rollback(routes, demo_db, path, status, stored):
    resp = routes.test_client().get(path)
    assert resp.status_code == status
    assert _written(demo_db) == (1 if stored else 0)


@pytest.mark.parametrize("path", ["/_t/raise", "/_t/kept-raise"])
def test_an_exception_after_a_write_leaves_nothing(routes, demo_db, path):
    # As in production: the 500 page is answered, the transaction rolled back.
    routes.config["PROPAGATE_EXCEPTIONS"] = False
    assert routes.test_client().get(path).status_code == 500
    assert _written(demo_db) == 0


def test_an_exception_that_propagates_leaves_nothing(routes, demo_db):
    # As under a debugger or the test client: no error page, teardown rolls back.
    with pytest.raises(RuntimeError):
        routes.test_client().get("/_t/raise")
    assert _written(demo_db) == 0


def test_keeping_a_refusal_holds_for_that_request_only(routes, demo_db):
    client = routes.test_client()
    assert client.get("/_t/kept/422").status_code == 422
    assert client.get("/_t/status/422").status_code == 422
    assert _written(demo_db) == 1


def test_a_commit_that_fails_gets_the_error_page_and_leaves_nothing(routes, demo_db):
    """The connection dies between the view's write and the commit (a database restart)."""
    if demo_db.is_sqlite:
        pytest.skip("PostgreSQL only: a server connection to cut")

    def cut():
        session = get_session()
        _write()
        pid = session.connection().connection.dbapi_connection.info.backend_pid
        with psycopg.connect(_pg_conninfo(demo_db.url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        return "answered"

    routes.add_url_rule("/_t/cut", "cut", cut)
    resp = routes.test_client().get("/_t/cut")
    assert resp.status_code == 503  # as if the view had met the dead database
    assert resp.headers["Retry-After"] == "5"
    assert "Content-Security-Policy" in resp.headers  # every hook ran on the error page
    assert _written(demo_db) == 0


# --- staff views ------------------------------------------------------------------
def _desk_name(db, desk_id: int) -> str:
    with db.session() as s:
        return s.get(Desk, desk_id).name


def test_a_staff_view_failing_after_its_service_wrote_leaves_nothing(
    demo_app,
    demo_client,
    demo_db,
    world,
    nocsrf,
    monkeypatch,
    sign_in_as,
):
    sign_in_as("unit_manager")
    before = _desk_name(demo_db, world.desk_in)

    def broken_flash(_message):
        raise RuntimeError("the page failed after the rename was flushed")

    monkeypatch.setattr("survey.staff.desks_views.flash", broken_flash)
    demo_app.config["PROPAGATE_EXCEPTIONS"] = False
    resp = demo_client.post(f"/staff/desks/{world.desk_in}/rename", data={"name": "Tên mới"})
    assert resp.status_code == 500
    assert _desk_name(demo_db, world.desk_in) == before
    assert audit_events(demo_db, "desk.rename") == []


def _move(db, world, desk_code: str, unit_code: str) -> None:
    with db.session() as s:
        admin = s.get(User, world.users["admin"])
        desk = s.scalar(select(Desk).where(Desk.code == desk_code))
        org_desks.move_desk(s, admin, desk, s.get(Unit, world.units[unit_code]))


def _staged(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(VolumeUpload))


def test_a_refusal_after_a_write_rolls_it_back(
    demo_client,
    demo_db,
    world,
    nocsrf,
    monkeypatch,
    sign_in_as,
):
    """Confirming takes (deletes) the staged upload, then re-checks it: a 422 puts it back."""
    monkeypatch.setattr("survey.clock.local_today", lambda _tz: date(2026, 11, 22))
    sign_in_as("unit_manager")
    preview = demo_client.post(
        "/staff/volumes",
        data={"file": (io.BytesIO(f"desk,month,count\n{CR1},2024-05,40\n".encode()), "v.csv")},
        buffered=True,
    )
    assert preview.status_code == 200
    token = TOKEN.search(preview.get_data(as_text=True)).group(1)
    _move(demo_db, world, CR1, "KH-NHATRANG")  # out of the manager's scope meanwhile
    refused = demo_client.post("/staff/volumes/confirm", data={"token": token})
    assert refused.status_code == 422
    assert _staged(demo_db) == 1  # the DELETE of the staged row was rolled back
    _move(demo_db, world, CR1, "KH-CAMRANH")
    assert demo_client.post("/staff/volumes/confirm", data={"token": token}).status_code == 302
    assert _staged(demo_db) == 0
    assert len(audit_events(demo_db, "volume.import")) == 1


def _login(app, address: str, password: str) -> int:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client.post("/staff/login", data={"username": "tram", "password": password}).status_code


def test_refused_and_throttled_sign_ins_are_kept(
    demo_app,
    demo_db,
    cheap_hash,
    nocsrf,
):
    """Both are answered with a 4xx (422, then 429 from the limiter), and both are audited."""
    with demo_db.session() as s:
        root = s.scalar(select(Unit.id).where(Unit.parent_id.is_(None)))
        add_user(s, cheap_hash, "tram", "analyst", root)
    # The per-account limit is 5 a minute, whatever the address.
    assert [_login(demo_app, f"10.0.2.{i}", "sai") for i in range(5)] == [422] * 5
    assert _login(demo_app, "10.0.2.99", "sai") == 429
    reasons = [e.after for e in audit_events(demo_db, "user.login_failed")]
    assert len(reasons) == 6
    assert sum('"reason": "wrong_password"' in r for r in reasons) == 5
    assert '"reason": "throttled"' in reasons[-1]
