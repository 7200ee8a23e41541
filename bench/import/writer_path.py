"""The cost of ``response_writer.write`` on PostgreSQL against the same statement on psycopg.

    .venv/bin/python -m bench.import.writer_path [--calls 2000]

Issue 20, point 5: is there a cheaper change in the write path itself? A
scratch database ``bench_writer`` (real schema, demo data; created and
dropped here) takes ``--calls`` responses of 24 answers, one at a time on
one thread, alternately through ``write`` (SQLAlchemy: pooled connection,
AUTOCOMMIT execution option, text() with 35 binds) and through the same SQL
executed on the pooled psycopg connection directly (``prepare=True``). It
prints wall and CPU microseconds per call of this process: the CPU is what a
gunicorn worker would save per POST.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
DB = "bench_writer"
SECRET = "bench-writer-secret-key-0123456789abcdef"


def _admin(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL(statement).format(sql.Identifier(DB)))


def _params(desk_id: int, unit_id: int, version_id: int) -> dict:
    now = datetime.utcnow()  # noqa: DTZ003 (naive UTC, as stored)
    p = {
        "submission_id": secrets.token_hex(16),
        "desk_id": desk_id,
        "unit_id": unit_id,
        "questionnaire_version_id": version_id,
        "submitted_at": now,
        "day": now.date(),
        "channel": "qr",
        "sector_id": None,
        "procedure_code": None,
        "case_hash": None,
        "locale": "vi",
        "client_hash": secrets.token_hex(8),
        "device_hash": secrets.token_hex(8),
        "client_type": None,
        "sex": None,
        "age_band": None,
        "service_channel": None,
        "burst_since": now - timedelta(minutes=10),
        "device_burst_since": now - timedelta(minutes=10),
        "device_burst_limit": 5,
        "network_burst_limit": 30,
        "device_limit": 3,
        "comment_kind": "comment",
        "answers": "4" * 24,  # 24 items answered 4, packed (survey.models.response)
    }
    for k in range(4):
        p[f"flags{k}"] = ["", "burst", "repeat", "burst,repeat"][k]
    return p


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args(argv)
    _admin(args.pg_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)")
    _admin(args.pg_url, "CREATE DATABASE {}")
    url = args.pg_url.rsplit("/", 1)[0] + f"/{DB}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_")}
    env.update(SURVEY_ENV="production", SURVEY_SECRET_KEY=SECRET, SURVEY_DATABASE_URL=url)
    try:
        for step in (["db", "upgrade"], ["demo"]):
            cmd = [sys.executable, "-c", "from survey.cli import main; main()", *step]
            subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True)
        run(url, args.calls)
    finally:
        _admin(args.pg_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)")


def run(url: str, calls: int) -> None:
    from sqlalchemy.orm import Session

    from survey.db import make_engine
    from survey.services import response_writer as rw

    engine = make_engine(url)
    # The same SQL in psycopg's placeholder style (CASTs keep the types).
    raw_sql = re.sub(r"(?<!:):([a-z_0-9]+)", r"%(\1)s", rw._POSTGRESQL.text)
    with engine.connect() as conn:
        desk_id, unit_id, version_id = conn.exec_driver_sql(
            "SELECT d.id, d.unit_id, (SELECT max(id) FROM questionnaire_versions) FROM desks d "
            "ORDER BY d.id LIMIT 1"
        ).one()

    def via_writer():
        with Session(engine) as session:
            return rw.write(session, _params(desk_id, unit_id, version_id), "")

    def via_psycopg():
        values = dict(_params(desk_id, unit_id, version_id), comment_text=None)
        fairy = engine.raw_connection()  # pooled, as write() checks one out
        try:
            raw = fairy.driver_connection
            raw.autocommit = True
            try:
                return raw.execute(raw_sql, values, prepare=True).fetchone()[0]
            finally:
                raw.autocommit = False
        finally:
            fairy.close()

    for fn in (via_writer, via_psycopg):  # warm up: prepared statements, caches
        for _ in range(50):
            fn()
    figures = {"write()": [], "psycopg": []}
    for _ in range(5):
        for label, fn in (("write()", via_writer), ("psycopg", via_psycopg)):
            n = calls // 5
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(n):
                assert fn() is not None
            figures[label].append(
                ((time.perf_counter() - w0) / n * 1e6, (time.process_time() - c0) / n * 1e6)
            )
    print(f"{calls} calls each, 5 alternating blocks, median per call:")
    print(f"{'path':<10} {'wall us':>8} {'cpu us':>8}")
    for label, xs in figures.items():
        wall = statistics.median(x[0] for x in xs)
        cpu = statistics.median(x[1] for x in xs)
        print(f"{label:<10} {wall:>8.0f} {cpu:>8.0f}")
    engine.dispose()


if __name__ == "__main__":
    main()
