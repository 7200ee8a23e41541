"""No request parameter gives a 500: every route, every query parameter it reads.

The sweep takes the routes from ``app.url_map`` and, for each route, the query
keys it reads from a probe (a first request that records them), so a new route
or parameter is swept without editing this file.  Path variables get integers
beyond 32 and 64 bits and a NUL; query values get NUL, huge integers, odd years
and dates, CR/LF and more; every GET route also gets url_for's reserved names
and malformed keys.  Each case is requested anonymously and as an admin, and
must answer below 500.  The focused tests after it pin the expected 4xx.

One demo database for the module (nothing here is meant to change it).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

import pytest
from sqlalchemy import select
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.security import generate_password_hash
from werkzeug.utils import cached_property

from survey.config import settings
from survey.models import Comment, Desk, Sector, SectorGroup, Target, Unit, User
from survey.services.demo import demo_code
from survey.staff.plumbing import safe_next
from tests.support import (
    PASSWORD,
    add_user,
    csrf_token,
    make_app,
    sign_in,
    unlimited_demo_app,
)

SURVEY = Path(__file__).resolve().parents[2] / "survey"
ADMIN = "sweep_admin"
UNIT = "KH-CAMLAM"  # one desk: its posters and reports are quick to build
DESK_KEY = "cl-1"

# Path variables: integer converters get values beyond int4 and int8 (and the
# largest int4, which must be a plain 404); any other variable a NUL.
INT_PATH_VALUES = ["99999999999999999999", "9223372036854775808", "2147483648", "2147483647", "-1"]
STR_PATH_VALUES = ["K\x00H", "\x00"]

# Query values tried on every key a route reads.
QUERY_VALUES = [
    "K\x00H",
    "\x00",
    "99999999999999999999",
    "9223372036854775808",
    "2147483648",
    "10000",
    "-1",
    "0",
    "",
    "/staff/\r\nSet-Cookie: x=1",
    "\r\n",
    "x@99999999999999999999",  # a questionnaire version beyond 64 bits
    "9999-12-31",  # the day after it does not exist
    "0001-01-01",  # before it in UTC does not exist
    "31/12/9999",
    "A" * 3000,
    "9" * 5000,  # int() refuses more than 4,300 digits
    "²",  # a digit to str.isdigit(), not to int()
    "x@²",
]
# Whole query strings tried on every GET route: url_for's reserved keyword
# names (a view passing the query to url_for would break on them), NUL in a
# key, and query strings that are not UTF-8.
EXTRA_QUERIES: list[str | bytes] = [
    *(f"{name}=x" for name in ("endpoint", "_external", "_anchor", "_method", "_scheme")),
    "endpoint=x&_method=x&_scheme=x&_external=&_anchor=%00",
    "K%00H=1",
    "%00=1",
    "a=%FF%FE",
    b"a=\xff\xfe",
    b"\xff=1",
    "next=/staff/%0D%0ALocation:%20//evil.example",
    "page=1&page=99999999999999999999",
]
VARIABLE = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")
ANY = "*"


@pytest.fixture(scope="module")
def demo_app(templates):
    """One demo database and app for the module, with rate limits off."""
    with unlimited_demo_app(templates) as app:
        yield app


@pytest.fixture(scope="module")
def path_values(demo_app) -> dict[str, str]:
    """A valid value for each path variable, by name (the admin is added here too)."""
    db = demo_app.extensions["survey.db"]
    cheap_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    with db.session() as s:
        unit = s.scalar(select(Unit).where(Unit.code == UNIT))
        # An admin may act anywhere; its home unit is the default report
        # selection, a small one here so that the sweep's reports are quick.
        add_user(s, cheap_hash, ADMIN, "admin", unit.id)
        values = {
            "unit_id": unit.id,
            "desk_id": s.scalar(select(Desk.id).where(Desk.code == demo_code(DESK_KEY))),
            "sector_id": s.scalar(select(Sector.id).order_by(Sector.id)),
            "group_id": s.scalar(select(SectorGroup.id).order_by(SectorGroup.id)),
            "target_id": s.scalar(select(Target.id).order_by(Target.id)),
            "comment_id": s.scalar(select(Comment.id).order_by(Comment.id)),
            "user_id": s.scalar(select(User.id).where(User.username == ADMIN)),
        }
        s.commit()
    return {
        **{k: str(v) for k, v in values.items()},
        "token": "not-a-token",
        "filename": "survey.css",
    }


def _value(endpoint: str, name: str, path_values: dict[str, str]) -> str:
    if name == "code":  # a unit code for the results board, a desk code elsewhere
        return UNIT if endpoint.startswith("public.board") else demo_code(DESK_KEY)
    return path_values[name]


def _path(rule, path_values, hostile: tuple[str, str] | None = None) -> str:
    """The rule's URL with valid values, or ``hostile`` = (variable, value) in one place."""

    def fill(match: re.Match) -> str:
        converter, args, name = match.groups()
        if hostile and hostile[0] == name:
            return quote(hostile[1], safe="-")
        if converter == "any":
            return args.split(",")[0].strip().strip("'\"")
        return quote(_value(rule.endpoint, name, path_values), safe="/")

    return VARIABLE.sub(fill, rule.rule)


def _rules(app, method: str):
    return sorted(
        (r for r in app.url_map.iter_rules() if method in r.methods),
        key=lambda r: (r.rule, r.endpoint),
    )


@pytest.fixture(scope="module")
def clients(demo_app, path_values):
    """An anonymous client and one signed in as an admin."""
    anonymous = demo_app.test_client()
    admin = demo_app.test_client()
    sign_in(admin, demo_app.extensions["survey.db"], ADMIN)
    return {"anonymous": anonymous, "admin": admin}


def _outcome(client, method: str, url: str, **kwargs) -> str | None:
    """None if the answer is below 500, else what went wrong (testing re-raises errors)."""
    try:
        resp = client.open(url, method=method, **kwargs)
    except Exception as exc:  # noqa: BLE001 - every escape is a finding
        return f"{method} {url!r} kw={kwargs}: {type(exc).__name__}: {str(exc)[:160]}"
    resp.close()  # a file or a streamed CSV
    if resp.status_code >= 500:
        return f"{method} {url!r} kw={kwargs}: {resp.status_code}"
    return None


def _report(failures: list[str], total: int) -> None:
    assert not failures, f"{len(failures)} of {total} cases failed:\n" + "\n".join(failures)


# --- which query keys each route reads ---------------------------------------------
class _ReadsArgs(ImmutableMultiDict):
    """Query (and form) values noting the keys read; iterating them reads every key."""

    log: ClassVar[set[str] | None] = None

    def _note(self, key):
        if _ReadsArgs.log is not None:
            _ReadsArgs.log.add(key)

    def __getitem__(self, key):  # get() goes through here
        self._note(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self._note(key)
        return super().__contains__(key)

    def getlist(self, key, type=None):
        self._note(key)
        return super().getlist(key, type)

    def __iter__(self):
        self._note(ANY)
        return super().__iter__()

    def items(self, multi=False):
        self._note(ANY)
        return super().items(multi)

    def lists(self):
        self._note(ANY)
        return super().lists()

    def to_dict(self, flat=True):
        self._note(ANY)
        return super().to_dict(flat)


def _source_keys() -> set[str]:
    """Every literal ``request.args.get("...")`` key in the app's source."""
    found = set()
    for path in SURVEY.rglob("*.py"):
        found |= set(re.findall(r"request\.args\.get\(\s*[\"'](\w+)[\"']", path.read_text()))
    return found


def _probe_request(base):
    class ProbeRequest(base):
        parameter_storage_class = _ReadsArgs

        @cached_property
        def args(self):
            # Parsing checks every key (survey.security): that is not a read.
            log, _ReadsArgs.log = _ReadsArgs.log, None
            try:
                return super().args
            finally:
                _ReadsArgs.log = log

    return ProbeRequest


@pytest.fixture(scope="module")
def reads(demo_app, clients, path_values) -> dict[tuple[str, str], set[str]]:
    """(client name, endpoint) -> the query keys a plain GET of the route reads."""
    plain = demo_app.request_class
    demo_app.request_class = _probe_request(plain)
    out = {}
    try:
        for who, client in clients.items():
            for rule in _rules(demo_app, "GET"):
                _ReadsArgs.log = set()
                client.get(_path(rule, path_values)).close()
                out[who, rule.endpoint] = _ReadsArgs.log
    finally:
        _ReadsArgs.log = None
        demo_app.request_class = plain
    return out


def test_the_probe_finds_every_query_key_in_the_source(reads):
    probed = set().union(*reads.values())
    assert _source_keys() <= probed
    # The report filters are read through a loop, not request.args.get("..."):
    assert {"unit", "desk", "sector", "group", "q", "from", "to"} <= probed


# --- the sweep ---------------------------------------------------------------------
@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_no_path_value_gives_a_500(demo_app, clients, path_values, who):
    client = clients[who]
    token = csrf_token(client, "/staff/units") if who == "admin" else None
    failures, total = [], 0
    for method in ("GET", "POST"):
        for rule in _rules(demo_app, method):
            for match in VARIABLE.finditer(rule.rule):
                converter, _args, name = match.groups()
                if converter == "any":
                    continue
                values = INT_PATH_VALUES if converter == "int" else STR_PATH_VALUES
                for value in values:
                    total += 1
                    url = _path(rule, path_values, (name, value))
                    data = {"csrf_token": token} if method == "POST" and token else None
                    failures.append(_outcome(client, method, url, data=data))
    _report([f for f in failures if f], total)


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_no_query_value_gives_a_500(demo_app, clients, path_values, reads, who):
    client = clients[who]
    every_key = set().union(*reads.values()) - {ANY}
    failures, total = [], 0
    for rule in _rules(demo_app, "GET"):
        # The keys any user's GET reads: a staff page redirecting an anonymous
        # client to the login still carries the query in ``next``.
        keys = reads["anonymous", rule.endpoint] | reads["admin", rule.endpoint]
        keys = every_key if ANY in keys else keys
        path = _path(rule, path_values)
        for key in sorted(keys):
            for value in QUERY_VALUES:
                total += 1
                failures.append(_outcome(client, "GET", f"{path}?{quote(key)}={quote(value)}"))
        for query in EXTRA_QUERIES:
            total += 1
            # Raw bytes as a WSGI server passes them (latin-1), not re-encoded.
            raw = query.decode("latin-1") if isinstance(query, bytes) else query
            failures.append(_outcome(client, "GET", path, environ_overrides={"QUERY_STRING": raw}))
    _report([f for f in failures if f], total)


# --- what each kind of bad value gets ---------------------------------------------
@pytest.fixture
def admin(clients):
    return clients["admin"]


@pytest.mark.parametrize(
    "url",
    [
        "/staff/reports?unit=K%00H",
        "/staff/reports?desk=%00",
        "/staff/reports?sector=DAT_DAI%00",
        "/staff/reports?group=x%00",
        "/staff/reports?q=standard%00",
        "/staff/reports/data.csv?unit=K%00H",
        "/staff/reports/export.json?unit=KH%00",
        "/staff/feedback?K%00H=1",
        "/healthz?x=%00",
        f"/s/{demo_code(DESK_KEY)}?moi=%00",
    ],
)
def test_nul_in_the_query_is_a_400(admin, url):
    assert admin.get(url).status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "/staff/units/99999999999999999999",
        "/staff/units/9223372036854775808",
        "/staff/units/2147483648",
        "/staff/units/2147483647",
        "/staff/desks/2147483648/qr.png",
        "/staff/sectors/99999999999999999999",
    ],
)
def test_an_integer_beyond_the_ids_is_a_404(admin, url):
    assert admin.get(url).status_code == 404


def test_a_post_to_an_integer_beyond_the_ids_is_a_404(admin):
    token = csrf_token(admin, "/staff/units")
    resp = admin.post("/staff/desks/99999999999999999999/rename", data={"csrf_token": token})
    assert resp.status_code == 404


def test_int_is_bounded_for_rules_added_later(demo_app):
    # The bound is app-wide: a <int:...> rule added after create_app is bounded too.
    app = make_app(settings(demo_app).DATABASE_URL)
    app.add_url_rule("/late/<int:n>", "late", lambda n: str(n))
    client = app.test_client()
    assert client.get("/late/2147483647").get_data(as_text=True) == "2147483647"
    assert client.get("/late/2147483648").status_code == 404
    app.extensions["survey.db"].dispose()


@pytest.mark.parametrize("path", ["targets", "volumes"])
@pytest.mark.parametrize("year", ["10000", "1999", "2147483648", "99999999999999999999", "x"])
def test_a_year_out_of_range_is_a_400_with_a_message(admin, path_values, path, year):
    resp = admin.get(f"/staff/units/{path_values['unit_id']}/{path}?year={year}")
    assert resp.status_code == 400
    assert "Năm không hợp lệ: từ 2000 đến 2100." in resp.get_data(as_text=True)


@pytest.mark.parametrize("path", ["targets", "volumes"])
def test_a_year_in_range_is_shown(admin, path_values, path):
    resp = admin.get(f"/staff/units/{path_values['unit_id']}/{path}?year=2031")
    assert resp.status_code == 200
    assert "2031" in resp.get_data(as_text=True)


@pytest.mark.parametrize("page", ["99999999999999999999", "-1", "0", "x"])
def test_the_audit_page_number_is_clamped(admin, page):
    assert admin.get(f"/staff/audit?page={page}").status_code == 200


@pytest.mark.parametrize("name", ["endpoint", "_external", "_anchor", "_method", "_scheme"])
def test_reserved_names_in_the_feedback_query_are_ignored(admin, name):
    resp = admin.get(f"/staff/feedback?kind=complaint&{name}=x")
    assert resp.status_code == 200
    links = re.findall(r'href="([^"]*)"', resp.get_data(as_text=True))
    assert not [link for link in links if f"{name}=" in link]
    assert [link for link in links if "kind=complaint" in link]  # the real filters are kept


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize("field", ["from", "to"])
def test_feedback_dates_at_the_calendar_ends(admin, field, day):
    assert admin.get(f"/staff/feedback?{field}={day}").status_code in (200, 400)


def test_a_questionnaire_version_beyond_the_ids_is_unknown(admin):
    resp = admin.get("/staff/reports?q=standard@99999999999999999999")
    assert resp.status_code == 400
    assert "Không có mẫu phiếu" in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    [
        "/staff/\r\nSet-Cookie: x=1",
        "/staff/\nx",
        "/staff/\tx",
        "/staff/\x7f",
        "/staff/\x85x",
        "/staff/units\u2028x",
        "//evil.example/staff/",
        "/\\evil.example",
        "https://evil.example/staff/",
        "/staff/../s/x",
        "/staff/%2e%2e/s/x",
        "/staffx",
        "/s/x",
        "",
        None,
    ],
)
def test_safe_next_refuses_anything_but_a_plain_staff_path(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", ["/staff/", "/staff/units/3", "/staff/reports?unit=KH&q=a@1"])
def test_safe_next_keeps_a_staff_path(target):
    assert safe_next(target) == target


def test_a_signed_in_login_with_crlf_in_next_goes_to_the_dashboard(admin):
    resp = admin.get("/staff/login?next=/staff/%0D%0ASet-Cookie:%20x=1")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/staff/"
