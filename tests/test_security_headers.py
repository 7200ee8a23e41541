"""Security headers, cookie flags, CSRF on every state-changing route, login throttling."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from flask import render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from survey import security
from survey.db import Base
from survey.models import Comment, Desk, Response, Sector, SectorGroup, Target, Unit
from survey.services import links
from survey.services.demo import demo_code
from tests.support import (
    DESK,
    PASSWORD,
    TEST_SECRET,
    add_user,
    csrf_token,
    full_answers,
    make_app,
)

ROOT = Path(__file__).resolve().parent.parent
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": security.PERMISSIONS_POLICY,
}


def _link_path(desk=DESK, case="CASE-1"):
    claims = links.Claims(
        desk, None, None, links.case_hash(TEST_SECRET, case), int(time.time()) + 3600
    )
    return f"/l/{links.make_token(TEST_SECRET, claims)}"


def _assert_headers(resp, referrer="same-origin"):
    for name, value in COMMON.items():
        assert resp.headers.get(name) == value, (name, resp.headers.get(name))
    csp = resp.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["frame-ancestors"] == "'none'" and directives["form-action"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert resp.headers["Referrer-Policy"] == referrer


# --- headers on every kind of page -------------------------------------------
def _survey(c):
    return c.get(f"/s/{DESK}")


def _thanks(c):
    return c.post(f"/s/{DESK}", data=full_answers(c))


def _api(c):
    return c.post("/api/v1/survey-links", json={}, headers={"Authorization": "Bearer nope"})


def _forged_sid(c):
    return c.post(f"/s/{DESK}", data={**full_answers(c), "sid": "0" * 32 + "." + "f" * 20})


PAGES = {
    "survey page": (_survey, 200),
    "thanks page": (_thanks, 200),
    "staff login": (lambda c: c.get("/staff/login"), 200),
    "staff redirect": (lambda c: c.get("/staff/units"), 302),
    "api": (_api, 401),
    "404 page": (lambda c: c.get("/s/NOSUCH22"), 404),
    "400 page": (_forged_sid, 400),
    "413 page": (lambda c: c.post(f"/s/{DESK}", data={"comment": "x" * 70_000}), 413),
    "410 inactive desk": (lambda c: c.get(f"/s/{demo_code('nt-old')}"), 410),
    "privacy": (lambda c: c.get("/privacy"), 200),
    "healthz": (lambda c: c.get("/healthz"), 200),
    "static css": (lambda c: c.get("/static/survey.css"), 200),
}


@pytest.mark.parametrize("name", PAGES)
def test_security_headers_on_every_kind_of_response(demo_client, name):
    fetch, status = PAGES[name]
    resp = fetch(demo_client)
    assert resp.status_code == status
    _assert_headers(resp)
    assert "Strict-Transport-Security" not in resp.headers  # not in development/testing
    resp.close()


def test_case_link_pages_keep_the_token_from_other_sites(demo_client):
    path = _link_path()
    page = demo_client.get(path)
    assert page.status_code == 200
    _assert_headers(page, referrer="no-referrer")
    base, items, _na = _form_fields(page.get_data(as_text=True))
    thanks = demo_client.post(path, data={**base, **dict.fromkeys(items, "5")})
    assert thanks.status_code == 200 and "Cảm ơn" in thanks.get_data(as_text=True)
    # Same-origin only (never another site): see the production test below for why.
    _assert_headers(thanks, referrer="same-origin")
    bad = demo_client.get(path[:-3] + "AAA")
    assert bad.status_code == 400
    _assert_headers(bad, referrer="no-referrer")


def _form_fields(html):
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    sid = re.search(r'name="sid" value="([^"]+)"', html).group(1)
    items = list(dict.fromkeys(re.findall(r'name="([A-Z]{2}\d*)" value="', html)))
    return {"csrf_token": token, "sid": sid}, items, None


# --- production: HSTS and cookies ----------------------------------------------
@pytest.fixture
def prod_app(demo_db_url):
    app = make_app(demo_db_url, ENV="production")
    yield app
    app.extensions["survey.db"].dispose()


def _set_cookies(resp) -> dict[str, set[str]]:
    """Cookie name -> its attributes, lower-cased ("secure", "samesite=lax", ...)."""
    cookies = {}
    for header in resp.headers.getlist("Set-Cookie"):
        first, _, rest = header.partition(";")
        cookies[first.split("=", 1)[0].strip()] = {a.strip().lower() for a in rest.split(";")}
    return cookies


def test_production_cookies_are_secure_httponly_samesite(prod_app):
    client = prod_app.test_client()
    page = client.get(f"/s/{DESK}?lang=en", base_url="https://localhost")
    assert page.status_code == 200
    _assert_headers(page)
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    cookies = _set_cookies(page)
    assert {"session", "sv_dev", "lang"} <= set(cookies), cookies
    for name in ("session", "sv_dev", "lang"):
        flags = cookies[name]
        assert {"secure", "httponly"} <= flags, (name, flags)
        assert flags & {"samesite=lax", "samesite=strict"}, (name, flags)


def test_production_case_link_late_comment_passes_the_strict_referrer_check(prod_app):
    """Over HTTPS Flask-WTF refuses a POST without a same-origin Referer, so the thanks
    page of a case link must not be ``no-referrer`` (its late-comment form would break)."""
    client = prod_app.test_client()
    https = "https://localhost"
    path = _link_path(case="CASE-PROD")
    page = client.get(path, base_url=https)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    base, items, _na = _form_fields(page.get_data(as_text=True))
    # The survey POST itself needs no Referer (its token is checked in the view).
    thanks = client.post(path, base_url=https, data={**base, **dict.fromkeys(items, "4")})
    assert thanks.status_code == 200
    assert thanks.headers["Referrer-Policy"] == "same-origin"
    late = {"csrf_token": base["csrf_token"], "sid": base["sid"], "comment": "Tốt"}
    comment_url = f"/s/{DESK}/y-kien"
    # What a browser does under "no-referrer": no Referer, refused.
    assert client.post(comment_url, base_url=https, data=late).status_code == 400
    # Under "same-origin" the browser sends the page's URL: accepted.
    ok = client.post(comment_url, base_url=https, data=late, headers={"Referer": f"{https}{path}"})
    assert ok.status_code == 200


# --- templates: nothing inline for the CSP to block ---------------------------
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on...= event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]
TEMPLATES = sorted(
    p.relative_to(ROOT / "templates").as_posix() for p in ROOT.glob("templates/**/*.html")
)


@pytest.mark.parametrize("name", TEMPLATES)
def test_templates_have_no_inline_script_or_style(name):
    text = (ROOT / "templates" / name).read_text(encoding="utf-8")
    found = [
        f"line {text.count(chr(10), 0, m.start()) + 1}: {what}"
        for pattern, what in INLINE
        for m in pattern.finditer(text)
    ]
    assert not found, f"{name}: {found}"


# --- CSRF on every state-changing route ---------------------------------------
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
BEARER_KEY_ENDPOINTS = {"api.create_survey_link"}


def snapshot(db) -> dict:
    """Every table: its rows (small tables) or its count and highest key (large ones)."""
    large = {"responses": "id"}
    out = {}
    with db.session() as s:
        for table in Base.metadata.sorted_tables:
            if table.name in large:
                key = table.c[large[table.name]]
                out[table.name] = tuple(s.execute(select(func.count(), func.max(key))).one())
            else:
                out[table.name] = sorted((tuple(r) for r in s.execute(select(table))), key=repr)
    return out


def _kiosk_device(session) -> int:
    """A registered tablet of desk cr-1 (revoking it is a state change too)."""
    from survey.models import KioskDevice

    desk = session.scalar(select(Desk.id).where(Desk.code == demo_code("cr-1")))
    device = KioskDevice(desk_id=desk, label="Máy tính bảng", token_hash="0" * 64)
    session.add(device)
    session.flush()
    return device.id


@pytest.fixture
def walk(demo_app, demo_db):
    """An id for every URL argument (the test signs in as an admin of the whole province)."""
    with demo_db.session() as s:
        other_unit = s.scalar(select(Unit.id).where(Unit.code == "KH-NHATRANG"))
        args = {
            "unit_id": s.scalar(select(Unit.id).where(Unit.code == "KH-CAMRANH")),
            "desk_id": s.scalar(select(Desk.id).where(Desk.code == demo_code("cr-1"))),
            "target_id": s.scalar(select(Target.id).order_by(Target.id)),
            "sector_id": s.scalar(select(Sector.id).order_by(Sector.id)),
            "group_id": s.scalar(select(SectorGroup.id).order_by(SectorGroup.id)),
            "comment_id": s.scalar(select(Comment.id).order_by(Comment.id)),
            "device_id": _kiosk_device(s),
            # An account of the ward, for the account pages (reset, disable, enable).
            "user_id": add_user(s, "x", "sec_ward_staff", "desk_staff", other_unit).id,
            "code": DESK,
            "token": _link_path(case="CASE-WALK")[3:],
        }
    form = {
        "name": "Tên mới",
        "name_en": "New name",
        "code": "SEC-NEW-1",
        "kind": "office",
        "version": "",
        "unit": str(other_unit),
        "group": "",
        "year": "2031",
        "threshold": "90",
        "source": "KH 1/2031",
        "username": "sec_admin",
        "password": PASSWORD,
        "current": PASSWORD,
        "new": "mat-khau-moi-rat-dai-01",
        "confirm": "mat-khau-moi-rat-dai-01",
        "token": "not-a-staged-upload",
        "status": "in_progress",
        "label": "Máy tính bảng quầy 1",
        "full_name": "Nguyễn Thị Thử",
        "role": "analyst",
    }
    return args, form


def _citizen_form(client, path):
    base, items, _na = _form_fields(client.get(path).get_data(as_text=True))
    return {**base, **dict.fromkeys(items, "4")}


def _stored_sid(demo_app):
    """A stored response without a comment, for the late-comment route."""
    c = demo_app.test_client()
    data = full_answers(c)
    assert c.post(f"/s/{DESK}", data=data).status_code == 200
    return data["sid"]


# Views that check the token themselves and answer with the form again (answers kept).
SELF_CHECKED = {"public.survey_submit", "public.link_submit"}
EXPIRED = "Phiên làm việc đã hết hạn"


def test_every_state_changing_form_requires_a_csrf_token(demo_app, demo_db, walk, sign_in_as):
    args, form = walk
    # Tell a CSRF refusal from any other 400 (the page is the same ordinary 400 page).
    refusals = []

    def refused(exc):
        refusals.append(request.path)
        return render_template("errors/400.html"), 400

    demo_app.register_error_handler(CSRFError, refused)
    rules = [
        r
        for r in demo_app.url_map.iter_rules()
        if r.methods & STATE_CHANGING and r.endpoint not in BEARER_KEY_ENDPOINTS
    ]
    assert len(rules) >= 20
    problems = []
    for rule in sorted(rules, key=lambda r: r.rule):
        missing = rule.arguments - set(args)
        assert not missing, f"teach this test a value for {missing} of {rule.rule}"
        client = demo_app.test_client()
        path = _build(demo_app, rule, args)
        if rule.endpoint == "public.late_comment":
            data = {"sid": _stored_sid(demo_app), "comment": "Góp ý", "comment_kind": "suggestion"}
            token = _citizen_form(client, f"/s/{DESK}")["csrf_token"]
        elif rule.endpoint.startswith("public."):
            data = _citizen_form(client, path)
            token = data.pop("csrf_token")
        else:
            sign_in_as("admin", "KH", client=client, username="sec_admin")
            data = dict(form)
            token = csrf_token(client, "/staff/")
        if rule.endpoint == "staff.volumes_upload":
            csv = f"desk,month,count\n{demo_code('cr-1')},2026-01,5\n".encode()
            data["file"] = (io.BytesIO(csv), "v.csv")

        for method in sorted(rule.methods & STATE_CHANGING):
            before, seen = snapshot(demo_db), len(refusals)
            resp = client.open(path, method=method, data=_fresh(data))
            if resp.status_code != 400 or not _forgery(rule, resp, refusals, seen):
                problems.append(f"{method} {path}: {resp.status_code} without a CSRF token")
            if snapshot(demo_db) != before:
                problems.append(f"{method} {path}: the database changed without a CSRF token")
            # The same request with the session's token is not refused as a forgery.
            seen = len(refusals)
            resp = client.open(path, method=method, data=_fresh({**data, "csrf_token": token}))
            if _forgery(rule, resp, refusals, seen):
                problems.append(f"{method} {path}: refused as a forgery even with the token")
    assert not problems, "\n".join(problems)


def _forgery(rule, resp, refusals: list, seen: int) -> bool:
    """Was this response a refusal for a missing or wrong CSRF token?"""
    if rule.endpoint in SELF_CHECKED:
        return EXPIRED in resp.get_data(as_text=True)
    return len(refusals) > seen


def _build(app, rule, args):
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{k: args[k] for k in rule.arguments})


def _fresh(data: dict) -> dict:
    """A copy whose file (if any) can be read again."""
    out = dict(data)
    if "file" in out:
        stream, name = out["file"]
        out["file"] = (io.BytesIO(stream.getvalue()), name)
    return out


def test_csrf_walk_covers_the_citizen_and_comment_routes(demo_app):
    endpoints = {r.endpoint for r in demo_app.url_map.iter_rules() if r.methods & STATE_CHANGING}
    assert {"public.survey_submit", "public.link_submit", "public.late_comment"} <= endpoints
    assert {"staff.login", "staff.logout", "staff.volumes_upload"} <= endpoints


def test_late_comment_without_token_stores_nothing(demo_app, demo_db):
    sid = _stored_sid(demo_app)
    client = demo_app.test_client()
    resp = client.post(f"/s/{DESK}/y-kien", data={"sid": sid, "comment": "Chờ lâu"})
    assert resp.status_code == 400
    with demo_db.session() as s:
        response_id = s.scalar(select(Response.id).where(Response.submission_id == sid))
        assert s.scalar(select(Comment).where(Comment.response_id == response_id)) is None


# --- login throttling -------------------------------------------------------
def test_repeated_failed_logins_are_throttled(demo_client, demo_db):
    cheap = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    with demo_db.session() as s:
        root = s.scalar(select(Unit.id).where(Unit.parent_id.is_(None)))
        add_user(s, cheap, "sec_login", "unit_manager", root)
    token = csrf_token(demo_client, "/staff/login")
    statuses = [
        demo_client.post(
            "/staff/login", data={"csrf_token": token, "username": "sec_login", "password": f"x{i}"}
        ).status_code
        for i in range(12)
    ]
    assert 429 in statuses and statuses[0] == 422
    first = statuses.index(429)
    assert all(s == 429 for s in statuses[first:])
    right = demo_client.post(
        "/staff/login", data={"csrf_token": token, "username": "sec_login", "password": PASSWORD}
    )
    assert right.status_code == 429
    _assert_headers(right)
    assert demo_client.get("/staff/").status_code == 302  # still signed out
