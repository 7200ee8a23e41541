"""Time `survey responses import` on a synthetic tidy CSV (goal: >= 20,000 rows/s on PostgreSQL).

    .venv/bin/python -m bench.import                 # 100k rows, PostgreSQL and SQLite
    .venv/bin/python -m bench.import --rows 20000 --backends sqlite

For each backend it makes a scratch database (``bench_import`` on PostgreSQL,
created and dropped here; a temporary file on SQLite), migrates it, loads the
demo province, writes a CSV of N responses to the standard questionnaire (24
items, about 5% NA and 5% blank, one comment in 20, a response_id each) at
the demo desks, and runs the real command in a subprocess: the figure
includes start-up, reading, the checks of every cell and the commit. A
second run of the same file measures the idempotent re-import (every row
skipped). Rows are counted in the database afterwards.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_DB = "bench_import"
SECRET = "bench-import-secret-key-0123456789abcdef"
GOAL = 20_000


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_")}
    env.update(SURVEY_ENV="production", SURVEY_SECRET_KEY=SECRET, SURVEY_DATABASE_URL=url)
    return env


def _survey(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", "from survey.cli import main; main()", *args]
    return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)


def _checked(*args: str, env: dict[str, str]) -> None:
    done = _survey(*args, env=env)
    if done.returncode != 0:
        raise SystemExit(f"survey {' '.join(args)} failed:\n{done.stderr[-3000:]}")


def _pg_admin(url: str, statement: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL(statement).format(sql.Identifier(PG_DB)))


def write_csv(path: Path, rows: int, seed: int = 1) -> None:
    from questionnaires.loader import find
    from survey.services.demo import demo_code

    q = find("standard", 1)
    items = q.all_item_codes()
    no_na = {it.code for it in q.items() if not it.allow_na}
    if q.overall_item is not None and not q.overall_item.allow_na:
        no_na.add(q.overall_item.code)
    desks = [demo_code(k) for k in ("tt-datdai", "tt-yte", "cr-1", "cr-2")]
    rng = random.Random(seed)
    first = date(2026, 1, 1)
    cells = ["5", "4", "4", "3", "5", "4", "2", "NA", "", "1"]
    plain = [c for c in cells if c != "NA"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["response_id", "desk", "day", *items, "comment"])
        for i in range(rows):
            day = first + timedelta(days=rng.randrange(300))
            comment = "Cán bộ nhiệt tình, hướng dẫn rõ ràng." if i % 20 == 0 else ""
            out.writerow(
                [f"B{i:08d}", desks[i % len(desks)], day.isoformat()]
                + [rng.choice(plain if item in no_na else cells) for item in items]
                + [comment]
            )


def _count(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM responses WHERE channel = 'paper'")).scalar()
    engine.dispose()
    return int(n)


def run_backend(backend: str, rows: int, csv_path: Path, pg_url: str) -> list[str]:
    tmp = None
    if backend == "postgresql":
        _pg_admin(pg_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)")
        _pg_admin(pg_url, "CREATE DATABASE {}")
        url = pg_url.rsplit("/", 1)[0] + f"/{PG_DB}"
    else:
        tmp = tempfile.mkdtemp(prefix="bench-import-")
        url = f"sqlite:///{tmp}/bench.sqlite3"
    env = _env(url)
    try:
        _checked("db", "upgrade", env=env)
        _checked("demo", env=env)
        lines = []
        # The import alone (--no-rollup), then the closed months' summaries it
        # left to build, as the command does without the flag.
        args = ("responses", "import", str(csv_path), "--questionnaire", "standard@1")
        runs = (
            ("first import", (*args, "--channel", "paper", "--no-rollup")),
            ("summaries (rollup)", ("responses", "rollup")),
            ("re-import (all skipped)", (*args, "--channel", "paper", "--no-rollup")),
        )
        for label, command in runs:
            t0 = time.perf_counter()
            done = _survey(*command, env=env)
            wall = time.perf_counter() - t0
            if done.returncode != 0:
                raise SystemExit(f"import failed:\n{done.stderr[-3000:]}")
            lines.append(
                f"{backend:<10} {label:<24} {rows:>9} {wall:>8.2f} {rows / wall:>10.0f}  "
                f"{done.stdout.strip()}"
            )
        stored = _count(url)
        lines.append(f"{backend:<10} stored rows: {stored} (expected {rows})")
        return lines
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            _pg_admin(pg_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backends", nargs="+", default=["postgresql", "sqlite"])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-import-csv-") as tmp:
        path = Path(tmp) / "responses.csv"
        write_csv(path, args.rows)
        size = path.stat().st_size / 2**20
        print(f"CSV: {args.rows} responses x 24 items, {size:.1f} MiB")
        print(f"{'backend':<10} {'run':<24} {'rows':>9} {'wall s':>8} {'rows/s':>10}  output")
        results = []
        for backend in args.backends:
            lines = run_backend(backend, args.rows, path, args.pg_url)
            results.append((backend, lines))
            for line in lines:
                print(line, flush=True)
    for backend, lines in results:
        if backend == "postgresql":
            rate = float(lines[0].split()[5])
            verdict = "MET" if rate >= GOAL else "NOT MET"
            print(f"goal (PostgreSQL, first import): {rate:.0f} rows/s (need >= {GOAL}) {verdict}")


if __name__ == "__main__":
    main()
