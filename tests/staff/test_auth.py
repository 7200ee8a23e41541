"""Sign-in, sign-out, the login rate limit and password changes."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from survey.models import Unit, User
from survey.services import auth
from survey.services.users import create_user, verify_password
from tests.support import audit_events, csrf_token, sign_in

GOOD = "mot-mat-khau-du-dai"


def _user(db, username="tram", password: str | None = GOOD, cheap=True):
    """A unit manager of KH-CAMRANH made by the real service; a fast hash unless ``cheap=False``."""
    with db.session() as s:
        user, pw = create_user(
            s, username=username, role="unit_manager", unit_code="KH-CAMRANH", password=password
        )
        if cheap:
            user.password_hash = generate_password_hash(pw, method="pbkdf2:sha256:1000")
    return pw


def _login(client, username, password, token=None, next_url=None):
    data = {"username": username, "password": password}
    if token is not None:
        data["csrf_token"] = token
    path = "/staff/login" + (f"?next={next_url}" if next_url else "")
    return client.post(path, data=data)


def test_login_with_the_form_token_starts_a_minimal_session(demo_client, demo_db):
    _user(demo_db, cheap=False)  # the stored scrypt hash, as in production
    token = csrf_token(demo_client, "/staff/login")
    resp = _login(demo_client, "tram", GOOD, token)
    assert resp.status_code == 302 and resp.location.endswith("/staff/")
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("staff_session=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/staff" in cookie
    with demo_client.session_transaction("/staff/") as session:
        # Identity is the user id, the session version and generation, and two
        # times; nothing else about the user.
        assert set(session) <= {
            auth.SESSION_USER,
            auth.SESSION_VERSION,
            auth.SESSION_GENERATION,
            auth.SESSION_STARTED,
            auth.SESSION_SEEN,
            "csrf_token",
            "_flashes",
        }
        assert session[auth.SESSION_USER] and session[auth.SESSION_VERSION]
    page = demo_client.get("/staff/")
    assert page.status_code == 200
    assert "Quản lý đơn vị" in page.get_data(as_text=True)
    with demo_db.session() as s:
        assert s.scalar(select(User.last_login_at).where(User.username == "tram")) is not None


def test_login_without_csrf_token_is_refused(demo_client, demo_db):
    _user(demo_db)
    resp = _login(demo_client, "tram", GOOD)
    assert resp.status_code == 400
    assert demo_client.get("/staff/").status_code == 302


def test_wrong_password_and_unknown_user_get_the_same_answer(demo_client, demo_db, nocsrf):
    _user(demo_db)
    wrong = _login(demo_client, "tram", "not-the-password")
    unknown = _login(demo_client, "nobody", "not-the-password")
    for resp in (wrong, unknown):
        assert resp.status_code == 422
        assert "Sai tên đăng nhập hoặc mật khẩu" in resp.get_data(as_text=True)
    assert demo_client.get("/staff/").status_code == 302


def test_login_is_rate_limited(demo_client, demo_db, nocsrf):
    _user(demo_db)
    # Ten accounts from one address (each stays under its own account limit).
    statuses = [_login(demo_client, f"tram{i}", f"guess-{i}").status_code for i in range(10)]
    assert statuses == [422] * 10
    # The 11th attempt within the minute is refused even with the right password.
    resp = _login(demo_client, "tram", GOOD)
    assert resp.status_code == 429
    assert demo_client.get("/staff/").status_code == 302
    # Reading the form is not limited.
    assert demo_client.get("/staff/login").status_code == 200


def test_anonymous_requests_go_to_the_login_with_a_safe_next(demo_client, demo_db, nocsrf):
    _user(demo_db)
    resp = demo_client.get("/staff/units?x=1")
    assert resp.status_code == 302
    assert "/staff/login?next=/staff/units?x%3D1" in resp.location
    done = _login(demo_client, "tram", GOOD, next_url="/staff/units")
    assert done.location.endswith("/staff/units")


def test_next_never_leaves_the_staff_pages(demo_client, demo_db, nocsrf):
    _user(demo_db)
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "/s/ABC"):
        resp = _login(demo_client, "tram", GOOD, next_url=evil)
        assert resp.status_code == 302 and resp.location.endswith("/staff/"), evil
        demo_client.post("/staff/logout")


def test_logout_needs_post_with_csrf(demo_client, demo_db):
    _user(demo_db)
    _login(demo_client, "tram", GOOD, csrf_token(demo_client, "/staff/login"))
    assert demo_client.get("/staff/logout").status_code == 405
    assert demo_client.post("/staff/logout").status_code == 400
    assert demo_client.get("/staff/").status_code == 200  # still signed in
    token = csrf_token(demo_client, "/staff/")
    resp = demo_client.post("/staff/logout", data={"csrf_token": token})
    assert resp.status_code == 302 and "/staff/login" in resp.location
    assert demo_client.get("/staff/").status_code == 302


def test_one_time_password_must_be_changed_first(demo_client, demo_db, nocsrf):
    one_time = _user(demo_db, password=None)
    resp = _login(demo_client, "tram", one_time)
    assert resp.location.endswith("/staff/password")
    with demo_db.session() as s:
        unit_id = s.scalar(select(Unit.id).where(Unit.code == "KH-CAMRANH"))
    for path in ("/staff/", "/staff/units", f"/staff/units/{unit_id}", "/staff/volumes"):
        blocked = demo_client.get(path)
        assert blocked.status_code == 302 and blocked.location.endswith("/staff/password"), path
    blocked = demo_client.post(f"/staff/units/{unit_id}/desks/new", data={"name": "Quầy X"})
    assert blocked.location.endswith("/staff/password")
    page = demo_client.get("/staff/password")
    assert "mật khẩu một lần" in page.get_data(as_text=True)

    def change(current, new, confirm):
        return demo_client.post(
            "/staff/password", data={"current": current, "new": new, "confirm": confirm}
        )

    bad = change(one_time, "ngan", "ngan")
    assert bad.status_code == 422 and "ít nhất 10 ký tự" in bad.get_data(as_text=True)
    bad = change(one_time, GOOD, GOOD + "x")
    assert bad.status_code == 422 and "không khớp" in bad.get_data(as_text=True)
    bad = change("sai-mat-khau-hien-tai", GOOD, GOOD)
    assert bad.status_code == 422 and "hiện tại không đúng" in bad.get_data(as_text=True)
    bad = change(one_time, one_time, one_time)
    assert bad.status_code == 422 and "khác mật khẩu hiện tại" in bad.get_data(as_text=True)
    with demo_db.session() as s:
        user = s.scalar(select(User).where(User.username == "tram"))
        assert user.must_change_password and verify_password(user, one_time)

    ok = change(one_time, GOOD, GOOD)
    assert ok.status_code == 302 and ok.location.endswith("/staff/")
    assert demo_client.get("/staff/units").status_code == 200
    with demo_db.session() as s:
        user = s.scalar(select(User).where(User.username == "tram"))
        assert not user.must_change_password and verify_password(user, GOOD)
    (event,) = audit_events(demo_db, "user.password_change")
    assert event.actor == "tram" and '"must_change_password": true' in event.before
    assert "password" not in (event.after or "").replace("must_change_password", "")


def test_password_change_ends_the_other_sessions(demo_app, demo_db, nocsrf):
    _user(demo_db)
    here, elsewhere = demo_app.test_client(), demo_app.test_client()
    sign_in(here, demo_db, "tram")
    sign_in(elsewhere, demo_db, "tram")
    new = GOOD + "-moi"
    resp = here.post("/staff/password", data={"current": GOOD, "new": new, "confirm": new})
    assert resp.status_code == 302
    assert here.get("/staff/").status_code == 200
    assert elsewhere.get("/staff/").status_code == 302


def test_deactivated_user_is_signed_out_and_cannot_sign_in(demo_client, demo_db, nocsrf):
    _user(demo_db)
    sign_in(demo_client, demo_db, "tram")
    assert demo_client.get("/staff/").status_code == 200
    with demo_db.session() as s:
        s.scalar(select(User).where(User.username == "tram")).active = False
    resp = demo_client.get("/staff/")
    assert resp.status_code == 302 and "/staff/login" in resp.location
    assert _login(demo_client, "tram", GOOD).status_code == 422


def test_a_forged_or_stale_session_is_ignored(demo_client, demo_db, nocsrf):
    _user(demo_db)
    sign_in(demo_client, demo_db, "tram")
    with demo_client.session_transaction("/staff/") as session:
        session[auth.SESSION_VERSION] = "0" * 16
    assert demo_client.get("/staff/").status_code == 302
