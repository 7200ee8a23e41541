"""Behind a reverse proxy, per-address limits and abuse flags see the citizen.

A real WSGI server (Werkzeug's) serves the app on loopback and a small
forwarding proxy in front of it adds ``X-Forwarded-For`` and
``X-Forwarded-Proto`` the way the README's nginx block does
(``$proxy_add_x_forwarded_for``, ``$scheme`` after TLS). Clients are told apart
by their source address: all of 127.0.0.0/8 is loopback on Linux.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
from flask import jsonify, request, url_for
from sqlalchemy import select
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from survey.config import ConfigError, load_settings
from survey.models import Response, Unit
from survey.services import hash_keys, submission
from tests.support import CSRF, DESK, PASSWORD, add_user, make_app

CITIZEN_A, CITIZEN_B = "127.0.0.2", "127.0.0.3"
# POST /s/<code> without a device cookie: "60 per minute" per address (with one,
# each device has its own 20; see tests/public/test_shared_network.py).
PER_ADDRESS = 60
SIGN_INS = 10  # "10 per minute" on POST /staff/login
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    # Set again by the proxy itself.
    "content-length",
    "date",
    "server",
}


@contextmanager
def _running(server) -> Iterator[int]:
    """Serve ``server`` on a thread until the block ends; yields its port."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@contextmanager
def serving(app) -> Iterator[int]:
    """The app on a real threaded WSGI server on loopback; yields its port."""
    with _running(make_server("127.0.0.1", 0, app, threaded=True)) as port:
        yield port


class _Forwarder(BaseHTTPRequestHandler):
    """Forwards each request to the app like nginx with the README's settings."""

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        prior = self.headers.get("X-Forwarded-For")
        peer = self.client_address[0]
        headers["X-Forwarded-For"] = f"{prior}, {peer}" if prior else peer
        headers["X-Forwarded-Proto"] = "https"  # TLS ends here
        if body is not None:
            headers["Content-Length"] = str(len(body))
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.upstream, timeout=30)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            resp = upstream.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for name, value in resp.getheaders():
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        finally:
            upstream.close()

    do_GET = do_POST = _forward

    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@contextmanager
def proxying(upstream: int) -> Iterator[int]:
    """A forwarding proxy on loopback in front of ``upstream``; yields its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Forwarder)
    server.upstream = upstream
    with _running(server) as port:
        yield port


class Browser:
    """One client: a source address, a cookie jar, plain HTTP/1.1 requests."""

    def __init__(self, port: int, source: str) -> None:
        self.port, self.source = port, source
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, headers=None):
        headers = dict(headers or {})
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=30, source_address=(self.source, 0)
        )
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode()
            for cookie in resp.headers.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
            return resp.status, resp.headers, text
        finally:
            conn.close()

    def probe(self, headers=None) -> dict:
        status, _headers, text = self.request("GET", "/_probe", headers=headers)
        assert status == 200, text
        return json.loads(text)

    def junk_post(self, headers=None) -> int:
        """A survey POST that stores nothing (400) but counts against the limits."""
        return self.request("POST", f"/s/{DESK}", {"sid": "junk"}, headers)[0]


@pytest.fixture
def build(demo_db_url):
    """An app on the demo database with a probe of what the app sees of a request."""
    apps = []

    def factory(**overrides):
        app = make_app(demo_db_url, **overrides)

        def probe():
            return jsonify(
                remote_addr=request.remote_addr,
                scheme=request.scheme,
                url=url_for("public.privacy", _external=True),
            )

        app.add_url_rule("/_probe", "probe", probe)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["survey.db"].dispose()


def _exhaust(client: Browser, limit: int, send) -> None:
    statuses = [send() for _ in range(limit)]
    assert 429 not in statuses, statuses
    assert send() == 429


def test_two_citizens_behind_the_proxy_do_not_share_a_limit(build):
    app = build(TRUSTED_PROXIES=1)
    with serving(app) as upstream, proxying(upstream) as port:
        a, b = Browser(port, CITIZEN_A), Browser(port, CITIZEN_B)
        seen = a.probe()
        assert seen["remote_addr"] == CITIZEN_A
        # x_proto: URLs the app builds (and Flask-WTF's HTTPS checks) see https.
        assert seen["scheme"] == "https"
        assert seen["url"].startswith("https://")
        assert b.probe()["remote_addr"] == CITIZEN_B

        _exhaust(a, PER_ADDRESS, a.junk_post)
        assert b.junk_post() == 400  # B's bucket is B's own


def test_a_forged_forwarded_for_through_the_proxy_does_not_escape_the_limit(build):
    app = build(TRUSTED_PROXIES=1)
    with serving(app) as upstream, proxying(upstream) as port:
        a = Browser(port, CITIZEN_A)
        # The proxy appends the real peer; only that rightmost value is believed.
        assert a.probe({"X-Forwarded-For": "203.0.113.7"})["remote_addr"] == CITIZEN_A
        forged = iter(f"203.0.113.{i}" for i in range(100))
        _exhaust(a, PER_ADDRESS, lambda: a.junk_post({"X-Forwarded-For": next(forged)}))


def test_forwarded_headers_change_nothing_without_trusted_proxies(build, monkeypatch):
    monkeypatch.setenv("SURVEY_TRUSTED_PROXIES", "0")
    app = build()
    forged = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    with serving(app) as upstream, proxying(upstream) as port:
        # Straight to the app: the forged headers are ignored.
        direct = Browser(upstream, CITIZEN_A)
        seen = direct.probe(forged)
        assert (seen["remote_addr"], seen["scheme"]) == (CITIZEN_A, "http")
        assert seen["url"].startswith("http://")
        # Through the proxy: the app still sees the proxy itself, as before.
        assert Browser(port, CITIZEN_B).probe()["remote_addr"] == "127.0.0.1"

        forged_for = iter(f"203.0.113.{i}" for i in range(100))
        _exhaust(
            direct,
            PER_ADDRESS,
            lambda: direct.junk_post({"X-Forwarded-For": next(forged_for)}),
        )


def _sign_in(client: Browser, port: int, username: str, password: str) -> int:
    status, _headers, html = client.request("GET", "/staff/login")
    assert status == 200
    token = CSRF.search(html).group(1)
    # Over HTTPS (X-Forwarded-Proto) Flask-WTF wants a same-origin Referer, as browsers send.
    return client.request(
        "POST",
        "/staff/login",
        {"csrf_token": token, "username": username, "password": password},
        {"Referer": f"https://127.0.0.1:{port}/staff/login"},
    )[0]


def test_bad_sign_ins_from_one_address_do_not_lock_out_the_others(build):
    app = build(TRUSTED_PROXIES=1)
    with app.extensions["survey.db"].session() as s:
        unit = s.scalar(select(Unit.id).where(Unit.code == "KH"))
        add_user(
            s,
            generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
            "lan",
            "analyst",
            unit,
        )
    with serving(app) as upstream, proxying(upstream) as port:
        attacker, colleague = Browser(port, CITIZEN_A), Browser(port, CITIZEN_B)
        # A new username each time: the per-account limit stays out of the way,
        # only the per-address one is exhausted.
        names = iter(f"guess{i}" for i in range(100))
        _exhaust(attacker, SIGN_INS, lambda: _sign_in(attacker, port, next(names), "wrong-pass"))
        assert _sign_in(colleague, port, "lan", PASSWORD) == 302


def test_the_abuse_hashes_are_of_the_citizens_address(build):
    """The burst flag counts responses by a daily hash of the client address:
    behind the proxy it must be the citizen's, not the proxy's (one for all)."""
    app = build(TRUSTED_PROXIES=1)
    with serving(app) as upstream, proxying(upstream) as port:
        a = Browser(port, CITIZEN_A)
        status, _headers, html = a.request("GET", f"/s/{DESK}")  # a first visit: a fresh form
        assert status == 200
        form = {
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1),
            "sid": re.search(r'name="sid" value="([^"]+)"', html).group(1),
        }
        form.update(dict.fromkeys(re.findall(r'name="([A-Z]{2}\d*)" value="', html), "4"))
        status, headers, _html = a.request("POST", f"/s/{DESK}", form)
        assert status == 303 and headers["Location"].endswith(f"/s/{DESK}/cam-on")
    with app.extensions["survey.db"].session() as s:
        row = s.scalar(select(Response).where(Response.submission_id == form["sid"]))
        key = hash_keys.stored_key(s, row.day)
        assert row.client_hash == submission.daily_hash(key, "ip", CITIZEN_A, row.day)
        assert row.client_hash != submission.daily_hash(key, "ip", "127.0.0.1", row.day)


@pytest.mark.parametrize("value", ["-1", "6", "yes", "1.5"])
def test_a_nonsense_proxy_count_is_refused_at_start(tmp_path, value):
    with pytest.raises(ConfigError, match="SURVEY_TRUSTED_PROXIES"):
        load_settings(environ={"SURVEY_TRUSTED_PROXIES": value}, instance_path=tmp_path)
