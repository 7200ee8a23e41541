"""The issue's done-when, end to end through the commands a user runs.

    .venv/bin/python -m bench.reports.cli_run [--sizes 100000,1000000]

A scratch PostgreSQL database ``bench_cli`` (created and dropped) gets the
demo organisation, then synthetic paper forms of the standard questionnaire
(``bench.import.write_csv``: four demo desks, January to October) loaded
with ``survey responses import`` up to each size, then ``survey responses
rollup`` (what the worker does within 5 minutes), and at each size ``survey report --unit KH
--from 2026-01-01 --to 2026-10-31 --format json -o FILE`` is timed as a whole
process, ``--runs`` times.  The overall estimate is compared with the
per-response path (``build_for(cells=False)``, in this process) to 1e-9.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DB = "bench_cli"
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB}"
SECRET = "bench-cli-secret-key-0123456789abcdefghijkl"
PERIOD = ("--from", "2026-01-01", "--to", "2026-10-31")


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def _survey(*args: str) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_")}
    env.update(SURVEY_DATABASE_URL=URL, SURVEY_SECRET_KEY=SECRET, SURVEY_ENV="production")
    cmd = [sys.executable, "-c", "from survey.cli import main; main()", *args]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"survey {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return wall, done.stdout


def _row_path_estimate() -> float:
    from survey.db import Database
    from survey.reports.build import build_for
    from survey.reports.selection import resolve
    from survey.services.access import SystemActor

    database = Database(URL)
    with database.session() as s:
        sel = resolve(
            s,
            SystemActor(),
            today=date.today(),
            unit="KH",
            start=date(2026, 1, 1),
            end=date(2026, 10, 31),
            action="results.export",
        )
        value = build_for(s, sel, cells=False).overall["estimate"]
    database.dispose()
    return value


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the database")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    import importlib

    write_csv = importlib.import_module("bench.import.__main__").write_csv
    _admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    _admin(f"CREATE DATABASE {DB}")
    rows = []
    try:
        _survey("db", "upgrade")
        _survey("demo")
        loaded = 0
        with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
            for size in sizes:
                path = Path(tmp) / f"r{size}.csv"
                write_csv(path, size - loaded, seed=size)
                # response ids must be new at each step: the file's own prefix
                text = path.read_text(encoding="utf-8").replace("\nB", f"\nS{size}-")
                path.write_text(text, encoding="utf-8")
                imp, _ = _survey(
                    "responses",
                    "import",
                    str(path),
                    "--questionnaire",
                    "standard@1",
                    "--channel",
                    "paper",
                )
                # The closed months' summaries, as the worker builds them.
                summarise, _ = _survey("responses", "rollup")
                imp += summarise
                loaded = size
                walls, estimate = [], None
                out = Path(tmp) / "report.json"
                for _ in range(args.runs):
                    wall, _ = _survey(
                        "report", "--unit", "KH", *PERIOD, "--format", "json", "-o", str(out)
                    )
                    walls.append(wall)
                    estimate = json.loads(out.read_text(encoding="utf-8"))["overall"]["estimate"]
                rows_estimate = _row_path_estimate()
                rows.append((size, imp, walls, estimate, rows_estimate))
                _print(rows)
    finally:
        if not args.keep:
            _admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


def _print(rows) -> None:
    print()
    print(
        f"{'responses':>9} | {'import + summaries s':>20} | {'report s (min / median)':>23}"
        f" | {'vs first':>8} | {'same estimate as rows':>21}"
    )
    first = statistics.median(rows[0][2])
    for size, imp, walls, est, rows_est in rows:
        med = statistics.median(walls)
        same = est is not None and abs(est - rows_est) < 1e-9
        print(
            f"{size:>9} | {imp:>20.1f} | {min(walls):>10.2f} / {med:>10.2f} | {med / first:>8.2f}"
            f" | {str(same):>21}"
        )
    print("(report s: the whole `survey report ... --format json` process, start-up included)")


if __name__ == "__main__":
    main()
