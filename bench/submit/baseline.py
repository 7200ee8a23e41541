"""The baseline: a bare WSGI function that stores a survey POST with plain SQL.

No framework, no ORM, no templates, no CSRF or signature checks: it parses the
same form body the survey app gets, then writes the same row (one ``responses``
row, its answers packed in a column as the app stores them) through ``sqlite3``
or ``psycopg``, on one connection per worker thread, and answers with a few bytes.
It is what the database work costs with (almost) nothing around it.

Served by gunicorn with the same settings as the app::

    BENCH_DATABASE_URL=postgresql://... gunicorn -w 4 bench.submit.baseline:app
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

ITEM = re.compile(r"[A-Z]{2}\d*\Z")
VN = timedelta(hours=7)  # Asia/Ho_Chi_Minh has no daylight saving time

_local = threading.local()
_ids: dict[str, tuple[int, int, int] | None] = {}
_codes: dict[int, list[str]] = {}  # version id -> item codes in stored order
_ids_lock = threading.Lock()


def _url() -> str:
    return os.environ["BENCH_DATABASE_URL"]


def _connect():
    url = _url()
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url[len("sqlite:///") :], timeout=10, isolation_level=None)
        # The app's pragmas (survey/db.py), so both pay the same durability.
        for pragma in ("foreign_keys=ON", "journal_mode=WAL", "busy_timeout=10000"):
            conn.execute("PRAGMA " + pragma)
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn, "?"
    import psycopg

    url = url.replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(url, autocommit=True), "%s"


def _conn():
    if getattr(_local, "conn", None) is None:
        _local.conn, _local.mark = _connect()
    return _local.conn, _local.mark


def _desk_ids(conn, mark: str, code: str) -> tuple[int, int, int] | None:
    """(desk id, unit id, questionnaire version id), looked up once per process."""
    if code not in _ids:
        cur = conn.execute(f"SELECT id, unit_id FROM desks WHERE code = {mark}", (code,))
        desk = cur.fetchone()
        version = conn.execute(
            "SELECT id, definition FROM questionnaire_versions WHERE qid = 'standard' "
            "ORDER BY version DESC LIMIT 1"
        ).fetchone()
        if version:
            from questionnaires.loader import from_dict

            _codes[version[0]] = from_dict(json.loads(version[1])).all_item_codes()
        with _ids_lock:
            _ids[code] = (desk[0], desk[1], version[0]) if desk and version else None
    return _ids[code]


def _store(code: str, form: list[tuple[str, str]]) -> bool:
    conn, mark = _conn()
    ids = _desk_ids(conn, mark, code)
    if ids is None:
        return False
    fields = dict(form)
    given = {k: ("6" if v == "NA" else v) for k, v in form if ITEM.match(k)}
    answers = "".join(given.get(code, "0") for code in _codes[ids[2]])
    now = datetime.now(UTC).replace(tzinfo=None)
    day = (now + VN).date()
    row = (fields["sid"], *ids, now, day, "qr", fields.get("locale", "vi"), "", answers)
    insert = (
        "INSERT INTO responses (submission_id, desk_id, unit_id, questionnaire_version_id, "
        "submitted_at, day, channel, locale, quality_flags, answers) "
        f"VALUES ({', '.join([mark] * 10)}) RETURNING id"
    )
    if isinstance(conn, sqlite3.Connection):
        row = (*row[:4], now.isoformat(" "), day.isoformat(), *row[6:])
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(insert, row).fetchone()
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return True
    conn.execute(insert, row).fetchone()  # autocommit: one statement, one transaction
    return True


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if environ["REQUEST_METHOD"] == "GET" and path == "/healthz":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]
    if environ["REQUEST_METHOD"] != "POST" or not path.startswith("/s/"):
        start_response("404 Not Found", [("Content-Length", "0")])
        return []
    length = int(environ.get("CONTENT_LENGTH") or 0)
    form = parse_qsl(environ["wsgi.input"].read(length).decode())
    if not _store(path[3:].upper(), form):
        start_response("404 Not Found", [("Content-Length", "0")])
        return []
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "6")])
    return [b"stored"]
