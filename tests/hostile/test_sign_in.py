"""Staff sessions that end, sign-in guessing that is slow, passwords that are not common."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from survey.models import User
from survey.services import auth
from survey.services.users import PasswordProblem, create_user
from tests.support import audit_events, csrf_token

GOOD = "mot-mat-khau-du-dai"


@pytest.fixture
def nocsrf(demo_app):
    demo_app.config["WTF_CSRF_ENABLED"] = False
    return demo_app


def _user(db, username="tram"):
    with db.session() as s:
        user, _pw = create_user(
            s, username=username, role="unit_manager", unit_code="KH-CAMRANH", password=GOOD
        )
        user.password_hash = generate_password_hash(GOOD, method="pbkdf2:sha256:1000")
        user.full_name = "Nguyễn Thị Trâm"


def _client(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _login(client, username, password):
    return client.post("/staff/login", data={"username": username, "password": password})


def _signed_in(client) -> bool:
    return client.get("/staff/").status_code == 200


# --- item 5: sessions end ---------------------------------------------------------
def test_a_copied_cookie_stops_working_at_logout(demo_app, demo_db, nocsrf):
    _user(demo_db)
    here = demo_app.test_client()
    assert _login(here, "tram", GOOD).status_code == 302
    stolen = here.get_cookie("staff_session", path="/staff").value
    copy = demo_app.test_client()
    copy.set_cookie("staff_session", stolen, path="/staff")
    assert _signed_in(copy)
    assert here.post("/staff/logout").status_code == 302
    assert not _signed_in(here)
    assert not _signed_in(copy)  # the copy is dead too


@pytest.mark.parametrize(
    ("started_ago", "seen_ago", "alive"),
    [
        (60, 60, True),
        (29 * 60, 29 * 60, True),
        (31 * 60, 31 * 60, False),  # idle for more than 30 minutes
        (8 * 3600 + 60, 60, False),  # active, but signed in more than 8 hours ago
        (7 * 3600, 60, True),
    ],
    ids=["fresh", "idle-29min", "idle-31min", "absolute-8h", "active-7h"],
)
def test_staff_sessions_have_an_idle_and_an_absolute_lifetime(
    demo_client, demo_db, started_ago, seen_ago, alive
):
    _user(demo_db)
    now = time.time()
    with demo_db.session() as s:
        user = s.scalar(select(User).where(User.username == "tram"))
        with demo_client.session_transaction("/staff/") as cookie:
            auth.sign_in(cookie, user, now=now - started_ago)
            cookie[auth.SESSION_SEEN] = int(now - seen_ago)
    assert _signed_in(demo_client) is alive


def test_lifetimes_follow_the_settings(demo_db_url, demo_db):
    from tests.support import make_app

    app = make_app(demo_db_url, STAFF_IDLE_MINUTES="5", STAFF_SESSION_HOURS="1")
    _user(demo_db)
    client = app.test_client()
    with demo_db.session() as s:
        user = s.scalar(select(User).where(User.username == "tram"))
        with client.session_transaction("/staff/") as cookie:
            auth.sign_in(cookie, user, now=time.time() - 6 * 60)
    assert not _signed_in(client)
    app.extensions["survey.db"].dispose()


def test_the_staff_cookie_is_strict_and_stays_on_staff_pages(demo_app, demo_db, nocsrf):
    _user(demo_db)
    client = demo_app.test_client()
    resp = _login(client, "tram", GOOD)
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("staff_session=")
    assert "SameSite=Strict" in cookie and "Path=/staff" in cookie and "HttpOnly" in cookie
    # A citizen page neither receives nor sets the staff cookie.
    page = client.get("/privacy")
    assert "staff_session" not in " ".join(page.headers.getlist("Set-Cookie"))


# --- item 6: per-account throttle ---------------------------------------------------
def test_guessing_one_account_from_many_addresses_is_throttled(demo_app, demo_db, nocsrf):
    _user(demo_db)
    for i in range(5):
        resp = _login(_client(demo_app, f"10.0.0.{i + 1}"), "tram", f"doan-sai-{i}")
        assert resp.status_code == 422
    # The right password from a sixth address, within the minute: refused.
    sixth = _client(demo_app, "10.0.0.99")
    resp = _login(sixth, "tram", GOOD)
    assert resp.status_code == 429
    html = resp.get_data(as_text=True)
    assert "đã nhập sai mật khẩu nhiều lần" in html and "Xin thử lại sau" in html
    assert int(resp.headers["Retry-After"]) <= 60
    assert not _signed_in(sixth)
    # Another account is not affected.
    _user(demo_db, "lan")
    assert _login(_client(demo_app, "10.0.0.98"), "lan", GOOD).status_code == 302


def test_failed_sign_ins_are_audited_and_shown_to_admins(demo_app, demo_db, nocsrf):
    _user(demo_db)
    for i in range(3):
        _login(_client(demo_app, f"10.0.1.{i}"), "tram", "sai-mat-khau-roi")
    _login(_client(demo_app, "10.0.1.9"), "mat-khau-go-nham-o-ten", "x")
    events = audit_events(demo_db, "user.login_failed")
    assert len(events) == 4
    assert '"address": "10.0.1.0"' in events[0].after
    # What was typed as a username is kept only when it names an account.
    assert all("mat-khau-go-nham" not in (e.after or "") + e.actor for e in events)
    with demo_db.session() as s:
        create_user(s, username="quantri", role="admin", unit_code="KH", password=GOOD)
        s.scalar(
            select(User).where(User.username == "quantri")
        ).password_hash = generate_password_hash(GOOD, method="pbkdf2:sha256:1000")
    admin = demo_app.test_client()
    assert _login(admin, "quantri", GOOD).status_code == 302
    html = admin.get("/staff/audit").get_data(as_text=True)
    assert "Đăng nhập sai trong 24 giờ qua" in html
    assert "Nguyễn Thị Trâm" in html and "Tên đăng nhập không tồn tại" in html


# --- item 7: common passwords --------------------------------------------------------
COMMON = ["1234567890", "password12", "aaaaaaaaaa", "qwertyuiop", "matkhau123", "0987654321"]


@pytest.mark.parametrize("weak", COMMON)
def test_common_passwords_are_refused_on_change(demo_app, demo_db, weak):
    _user(demo_db)
    client = demo_app.test_client()
    token = csrf_token(client, "/staff/login")
    client.post("/staff/login", data={"username": "tram", "password": GOOD, "csrf_token": token})
    token = csrf_token(client, "/staff/password")
    resp = client.post(
        "/staff/password",
        data={"current": GOOD, "new": weak, "confirm": weak, "csrf_token": token},
    )
    assert resp.status_code == 422
    assert "quá dễ đoán" in resp.get_data(as_text=True)
    with demo_db.session() as s:
        user = s.scalar(select(User).where(User.username == "tram"))
        assert auth.password_problem(weak, user.username) == "guessable"


@pytest.mark.parametrize("weak", ["1234567890", "tram123456"])
def test_common_passwords_are_refused_by_the_cli_service(demo_db, weak):
    with demo_db.session() as s, pytest.raises(PasswordProblem, match="^guessable$"):
        create_user(s, username="tram", role="analyst", unit_code="KH", password=weak)


@pytest.mark.parametrize(
    "strong", ["ngay mai troi dep", "Khanhhoa-mot-cua-2026", "xk7#pq2mzr", GOOD]
)
def test_long_or_random_passwords_pass_without_composition_rules(strong):
    assert auth.password_problem(strong, "tram", "Nguyễn Thị Trâm") is None
