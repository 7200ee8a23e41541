"""Report wall time and memory at 100k / 1M (/ 10M) responses on PostgreSQL.

    .venv/bin/python -m bench.reports [--sizes 100k,1M] [--runs 2] [--keep]

Makes a scratch database ``bench_reports`` on 127.0.0.1:5432 (user postgres,
trust), loads the demo organisation (``survey db upgrade`` + the demo) and
adds synthetic responses of the standard form, January–October 2026, at the
desks that have volumes, by COPY (psycopg), up to each size in turn.  At each
size, every measurement runs in its own process (``bench.reports.one``), at
least ``--runs`` times: the report of the root unit KH (``build_for`` + JSON)
on the per-response path (rows) and the cell path (cells), the dashboard
(``build_for`` + ``dashboard``, warm: built once before the timed build), and
the bare SQL aggregate ``GROUP BY desk, day, item`` over the same rows.  Peak
memory is the process's peak resident set (ru_maxrss).  Prints min / median.
The database is dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DB = "bench_reports"
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB}"
SIZES = {"100k": 100_000, "1M": 1_000_000, "10M": 10_000_000}
# Measured in this order at each size: the row path, the cell path before any
# summary exists (live), the bare SQL, the summaries' build, then the cell path
# and the dashboard reading them.
STEPS = (("rows", "rows"), ("live", "cells"), ("sql", "sql"), ("rollup", "rollup"))
STEPS += (("cells", "cells"), ("dashboard", "dashboard"))
FIRST, DAYS = date(2026, 1, 1), 304  # 1 January .. 31 October


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def setup() -> None:
    _admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    _admin(f"CREATE DATABASE {DB}")
    from survey.db import Database
    from survey.migrate import upgrade
    from survey.services.demo import load_demo

    upgrade(URL)
    database = Database(URL)
    with database.session() as session:
        load_demo(session)
    database.dispose()


def _pg():
    import psycopg

    return psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DB}")


def count() -> int:
    with _pg() as conn:
        return int(conn.execute("SELECT count(*) FROM responses").fetchone()[0])


def load(n: int, seed: int) -> float:
    """Add ``n`` synthetic responses by COPY; returns the seconds it took."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    with _pg() as conn:
        version, items, allow_na = _standard_form(conn)
        desks = conn.execute(
            "SELECT DISTINCT d.id, d.unit_id FROM volumes v JOIN desks d ON d.id = v.desk_id"
            " WHERE v.count > 0 ORDER BY d.id"
        ).fetchall()
        sectors = [r[0] for r in conn.execute("SELECT id FROM sectors ORDER BY id")]
        start = int(conn.execute("SELECT coalesce(max(id), 0) FROM responses").fetchone()[0]) + 1
        share = rng.gamma(2.0, size=len(desks))
        block = 200_000
        for lo in range(0, n, block):
            m = min(block, n - lo)
            ids = np.arange(start + lo, start + lo + m)
            d = rng.choice(len(desks), size=m, p=share / share.sum())
            day = rng.integers(0, DAYS, size=m)
            sec = rng.integers(0, len(sectors), size=m)
            # Satisfaction: desk, desk-day and person effects (analysis.synthetic).
            eta = 1.5 + rng.normal(0, 0.5, len(desks))[d] + rng.normal(0, 1.0, m)
            resp = io.StringIO()
            p = 1 / (1 + np.exp(-(eta[:, None] + rng.normal(0, 0.3, len(items)))))
            sat = rng.random((m, len(items))) < p
            val = np.where(sat, rng.integers(4, 6, sat.shape), rng.integers(1, 4, sat.shape))
            u = rng.random((m, len(items)))
            val[(u < 0.03) & allow_na] = 6  # N/A where offered (encode_answers)
            val[(u >= 0.03) & (u < 0.05)] = 0  # 2% not answered
            packed = (val.astype(np.uint8) + ord("0")).tobytes()
            width = len(items)
            for i in range(m):
                dd = FIRST + timedelta(days=int(day[i]))
                answers = packed[i * width : (i + 1) * width].decode()
                resp.write(
                    f"{ids[i]}\tbench-{ids[i]}\t{desks[d[i]][0]}\t{desks[d[i]][1]}\t{version}"
                    f"\t{dd} 09:00:00\t{dd}\tqr\t{sectors[sec[i]]}\tvi\t\t{answers}\n"
                )
            with conn.cursor() as cur:
                cols = (
                    "id, submission_id, desk_id, unit_id, questionnaire_version_id,"
                    " submitted_at, day, channel, sector_id, locale, quality_flags, answers"
                )
                with cur.copy(f"COPY responses ({cols}) FROM STDIN") as cp:
                    cp.write(resp.getvalue())
            conn.commit()
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('responses', 'id'), max(id)) FROM responses"
        )
        conn.commit()
        conn.execute("ANALYZE responses")
        # The loaded months were closed: their summaries are stale (as after an import).
        conn.execute("DELETE FROM rollup_months")
        conn.commit()
    return time.perf_counter() - t0


def _standard_form(conn):
    """The standard form's version id, its item codes in stored order, and which allow N/A."""
    from questionnaires.loader import from_dict

    version, definition = conn.execute(
        "SELECT id, definition FROM questionnaire_versions WHERE qid = 'standard'"
        " ORDER BY version DESC LIMIT 1"
    ).fetchone()
    q = from_dict(json.loads(definition))
    items = [*q.items(), *([q.overall_item] if q.overall_item else [])]
    return int(version), [it.code for it in items], np.array([it.allow_na for it in items])


def measure(mode: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-m", "bench.reports.one", URL, mode],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="100k,1M", help="comma list of 100k, 1M, 10M")
    ap.add_argument("--runs", type=int, default=2, help="runs of each measurement (min 2)")
    ap.add_argument("--rows-runs", type=int, default=None, help="runs of the slow row path")
    ap.add_argument("--keep", action="store_true", help="keep the database")
    args = ap.parse_args(argv)
    sizes = [s for s in args.sizes.split(",") if s]
    for s in sizes:
        if s not in SIZES:
            ap.error(f"unknown size {s!r}; use {', '.join(SIZES)}")
    runs = max(args.runs, 1)
    setup()
    table = []
    try:
        for s in sizes:
            have = count()
            secs = load(max(SIZES[s] - have, 0), seed=len(table))
            print(f"{s}: {count()} responses (loaded in {secs:.0f} s)", file=sys.stderr)
            figures = {}
            for name, mode in STEPS:
                k = args.rows_runs if name == "rows" and args.rows_runs else runs
                figures[name] = [measure(mode) for _ in range(1 if name == "rollup" else k)]
            table.append((s, figures))
            _print(table)
    finally:
        if not args.keep:
            _admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


def _print(table) -> None:
    def mm(runs, key):
        xs = [r[key] for r in runs]
        return min(xs), statistics.median(xs)

    print()
    head = (
        f"{'size':>5} | {'rows s':>13} | {'live s':>11} | {'SQL s':>11} | {'rollup s':>8}"
        f" | {'cells s':>11} | {'dash s':>11} | {'rows MB':>7} | {'live MB':>7} | {'cells MB':>8}"
        f" | {'cells/SQL':>9} | {'vs 100k':>7} | {'same est.':>9}"
    )
    print(head)
    print("-" * len(head))
    first = None
    for s, f in table:
        r, lv, q, c, d = (mm(f[m], "wall") for m in ("rows", "live", "sql", "cells", "dashboard"))
        ru = f["rollup"][0]["wall"]
        rm, lm, cm = (max(x["peak_mb"] for x in f[m]) for m in ("rows", "live", "cells"))
        first = first or c[1]
        same = all(
            abs(f["rows"][0]["overall"] - f[m][0]["overall"]) < 1e-9 for m in ("live", "cells")
        )
        print(
            f"{s:>5} | {r[0]:5.2f} / {r[1]:5.2f} | {lv[0]:4.2f} / {lv[1]:4.2f}"
            f" | {q[0]:4.2f} / {q[1]:4.2f} | {ru:8.2f} | {c[0]:4.2f} / {c[1]:4.2f}"
            f" | {d[0]:4.2f} / {d[1]:4.2f} | {rm:7.0f} | {lm:7.0f} | {cm:8.0f}"
            f" | {c[1] / q[1]:9.2f} | {c[1] / first:7.2f} | {str(same):>9}"
        )
    print(
        "(min / median seconds of each; live: the cell path before the summaries exist;"
        " rollup: building them; MB: peak resident set of the process)"
    )
