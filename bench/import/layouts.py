"""Prototype storage layouts for answers, measured in a scratch PostgreSQL database.

    .venv/bin/python -m bench.import.layouts [--responses 100000] [--clients 32] [--seconds 6]

Issue 20, point 5. Three layouts, each as prototype tables in ``bench_layouts``
(created and dropped here; the real schema is untouched):

- ``rows``: today's, one answers row per item (PK response_id+item_code, FK
  to responses);
- ``compact``: one row per response, the answers as ``smallint[]`` in
  questionnaire order (0 = not answered, 9 = not applicable);
- ``monthly``: today's two tables, both partitioned by month of ``day``.
  A unique key of a partitioned table must contain the partition key, so
  ``submission_id`` is unique only together with ``day``.

For each: the submit statement (one autocommit statement per response, like
survey.services.response_writer: the response, its 24 answers, one indexed
burst count) from N threads with their own connections (throughput, p50,
p99, over alternating rounds); a bulk COPY of the responses (rows/s); the
sufficient-statistics read (desk x day x item: answered, top-two, sum, sum
of squares) over the whole year and over one month; and the size on disk.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import threading
import time

import psycopg
from psycopg import sql

DB = "bench_layouts"
ITEMS = [f"I{k:02d}" for k in range(1, 25)]
DESKS = 40
NA, BLANK = 9, 0
NULL = "\\N"  # COPY text format

COMMON = """id serial, submission_id varchar(64) NOT NULL, desk_id int NOT NULL,
  unit_id int NOT NULL, questionnaire_version_id int NOT NULL,
  submitted_at timestamp NOT NULL, day date NOT NULL, channel varchar(16) NOT NULL,
  sector_id int, locale varchar(8) NOT NULL, quality_flags varchar(128) NOT NULL,
  client_hash varchar(64), device_hash varchar(64)"""

SCHEMA = {
    "rows": f"""
CREATE TABLE r_rows ({COMMON}, PRIMARY KEY (id), UNIQUE (submission_id));
CREATE INDEX ON r_rows (device_hash, desk_id, submitted_at);
CREATE INDEX ON r_rows (day);
CREATE TABLE a_rows (response_id int NOT NULL REFERENCES r_rows(id) ON DELETE CASCADE,
  item_code varchar(32) NOT NULL, value smallint CHECK (value IS NULL OR value BETWEEN 1 AND 5),
  PRIMARY KEY (response_id, item_code));
""",
    "compact": f"""
CREATE TABLE r_compact ({COMMON}, answers smallint[] NOT NULL,
  PRIMARY KEY (id), UNIQUE (submission_id));
CREATE INDEX ON r_compact (device_hash, desk_id, submitted_at);
CREATE INDEX ON r_compact (day);
""",
    "monthly": f"""
CREATE TABLE r_monthly ({COMMON}, PRIMARY KEY (id, day), UNIQUE (submission_id, day))
  PARTITION BY RANGE (day);
CREATE INDEX ON r_monthly (device_hash, desk_id, submitted_at);
CREATE TABLE a_monthly (response_id int NOT NULL, day date NOT NULL,
  item_code varchar(32) NOT NULL, value smallint,
  PRIMARY KEY (response_id, day, item_code),
  FOREIGN KEY (response_id, day) REFERENCES r_monthly (id, day) ON DELETE CASCADE)
  PARTITION BY RANGE (day);
""",
}

_RESPONSE_COLS = (
    "submission_id, desk_id, unit_id, questionnaire_version_id, submitted_at, day, channel, "
    "sector_id, locale, quality_flags, client_hash, device_hash"
)
_VALUES = "%(sid)s, %(desk)s, 1, 1, now(), %(day)s, 'qr', NULL, 'vi', {flags}, %(h)s, %(h)s"
_FLAGS = (
    "CASE WHEN (SELECT count(*) FROM {t} WHERE device_hash = %(h)s AND desk_id = %(desk)s "
    "AND submitted_at >= now() - interval '10 minutes') >= 5 THEN 'burst' ELSE '' END"
)

SUBMIT = {
    "rows": f"""WITH r AS (INSERT INTO r_rows ({_RESPONSE_COLS})
  VALUES ({_VALUES.format(flags=_FLAGS.format(t="r_rows"))})
  ON CONFLICT (submission_id) DO NOTHING RETURNING id)
INSERT INTO a_rows (response_id, item_code, value)
  SELECT r.id, a.code, a.value FROM r, unnest(%(codes)s::varchar[], %(values)s::smallint[])
  AS a(code, value)""",
    "compact": f"""INSERT INTO r_compact ({_RESPONSE_COLS}, answers)
  VALUES ({_VALUES.format(flags=_FLAGS.format(t="r_compact"))}, %(packed)s::smallint[])
  ON CONFLICT (submission_id) DO NOTHING""",
    "monthly": f"""WITH r AS (INSERT INTO r_monthly ({_RESPONSE_COLS})
  VALUES ({_VALUES.format(flags=_FLAGS.format(t="r_monthly"))})
  ON CONFLICT (submission_id, day) DO NOTHING RETURNING id, day)
INSERT INTO a_monthly (response_id, day, item_code, value)
  SELECT r.id, r.day, a.code, a.value FROM r,
  unnest(%(codes)s::varchar[], %(values)s::smallint[]) AS a(code, value)""",
}

READ = {
    "rows": """SELECT r.desk_id, r.day, a.item_code, count(a.value),
  count(*) FILTER (WHERE a.value >= 4), sum(a.value), sum(a.value * a.value)
  FROM r_rows r JOIN a_rows a ON a.response_id = r.id
  WHERE r.day BETWEEN %(lo)s AND %(hi)s GROUP BY 1, 2, 3""",
    "compact": """SELECT r.desk_id, r.day, u.k, count(*) FILTER (WHERE u.v <> 9),
  count(*) FILTER (WHERE u.v BETWEEN 4 AND 5), sum(u.v) FILTER (WHERE u.v <> 9),
  sum(u.v * u.v) FILTER (WHERE u.v <> 9)
  FROM r_compact r, unnest(r.answers) WITH ORDINALITY AS u(v, k)
  WHERE r.day BETWEEN %(lo)s AND %(hi)s AND u.v <> 0 GROUP BY 1, 2, 3""",
    "monthly": """SELECT r.desk_id, r.day, a.item_code, count(a.value),
  count(*) FILTER (WHERE a.value >= 4), sum(a.value), sum(a.value * a.value)
  FROM r_monthly r JOIN a_monthly a ON a.response_id = r.id AND a.day = r.day
  WHERE r.day BETWEEN %(lo)s AND %(hi)s AND a.day BETWEEN %(lo)s AND %(hi)s
  GROUP BY 1, 2, 3""",
}


def _admin(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL(statement).format(sql.Identifier(DB)))


def _answers(rng: random.Random) -> list[int | None]:
    """24 answers: mostly 3..5, some NA (None) and some blank (left out)."""
    return [rng.choice((5, 4, 4, 3, 5, 4, 2, 1, None, BLANK)) for _ in ITEMS]


def _params(layout: str, sid: str, rng: random.Random) -> dict:
    answers = _answers(rng)
    kept = [(c, v) for c, v in zip(ITEMS, answers, strict=True) if v != BLANK]
    p = {
        "sid": sid,
        "desk": rng.randrange(1, DESKS + 1),
        "day": "2026-12-01",
        "h": f"{rng.getrandbits(64):016x}",
    }
    if layout == "compact":
        p["packed"] = [NA if v is None else v for v in answers]
    else:
        p["codes"] = [c for c, _ in kept]
        p["values"] = [v for _, v in kept]
    return p


def submit_phase(url: str, layout: str, clients: int, seconds: float, tag: str) -> dict:
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker(k: int) -> None:
        rng = random.Random(hash((tag, k)))
        mine = []
        with psycopg.connect(url, autocommit=True) as conn:
            n = 0
            while time.perf_counter() < stop:
                p = _params(layout, f"{tag}-{k}-{n}", rng)
                t0 = time.perf_counter()
                conn.execute(SUBMIT[layout], p)
                mine.append(time.perf_counter() - t0)
                n += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    latencies.sort()
    return {
        "rate": len(latencies) / wall,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[int(len(latencies) * 0.99)] * 1000,
    }


def _copy_line(rid: int, day: str, desk: int) -> str:
    return f"{rid}\tb{rid}\t{desk}\t1\t1\t{day} 05:00:00\t{day}\timport\t\\N\tvi\t\t\\N\t\\N"


def bulk(conn: psycopg.Connection, layout: str, n: int, seed: int = 7) -> float:
    """COPY ``n`` responses spread over 2026 (ids from 10,000,000); rows/s."""
    rng = random.Random(seed)
    resp, ans = io.StringIO(), io.StringIO()
    for i in range(n):
        rid = 10_000_000 + i
        day = f"2026-{rng.randrange(1, 12):02d}-{rng.randrange(1, 29):02d}"
        line = _copy_line(rid, day, rng.randrange(1, DESKS + 1))
        answers = _answers(rng)
        if layout == "compact":
            packed = ",".join(str(NA if v is None else v) for v in answers)
            resp.write(f"{line}\t{{{packed}}}\n")
            continue
        resp.write(line + "\n")
        key = f"{rid}\t{day}" if layout == "monthly" else str(rid)
        for code, v in zip(ITEMS, answers, strict=True):
            if v != BLANK:
                ans.write(f"{key}\t{code}\t{NULL if v is None else v}\n")
    cols = "id, " + _RESPONSE_COLS + (", answers" if layout == "compact" else "")
    table = {"rows": "r_rows", "compact": "r_compact", "monthly": "r_monthly"}[layout]
    t0 = time.perf_counter()
    with conn.transaction(), conn.cursor() as cur:
        with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            copy.write(resp.getvalue())
        if layout != "compact":
            acols = "response_id, day, item_code, value" if layout == "monthly" else None
            acols = acols or "response_id, item_code, value"
            with cur.copy(f"COPY a_{layout} ({acols}) FROM STDIN") as copy:
                copy.write(ans.getvalue())
    return n / (time.perf_counter() - t0)


def read(conn: psycopg.Connection, layout: str, lo: str, hi: str) -> tuple[float, int]:
    best, cells = float("inf"), 0
    for _ in range(3):
        t0 = time.perf_counter()
        cells = len(conn.execute(READ[layout], {"lo": lo, "hi": hi}).fetchall())
        best = min(best, time.perf_counter() - t0)
    return best, cells


def size(conn: psycopg.Connection, layout: str) -> float:
    tables = ["r_compact"] if layout == "compact" else [f"r_{layout}", f"a_{layout}"]
    total = 0
    for t in tables:
        total += conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "WHERE c.relname = %s OR c.oid IN (SELECT inhrelid FROM pg_inherits "
            "WHERE inhparent = %s::regclass)",
            (t, t),
        ).fetchone()[0]
    return total / 2**20


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    layouts = list(SCHEMA)
    _admin(args.pg_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)")
    _admin(args.pg_url, "CREATE DATABASE {}")
    url = args.pg_url.rsplit("/", 1)[0] + f"/{DB}"
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            for layout in layouts:
                conn.execute(SCHEMA[layout])
            for month in range(1, 13):
                lo = f"2026-{month:02d}-01"
                hi = "2027-01-01" if month == 12 else f"2026-{month + 1:02d}-01"
                for t in ("r", "a"):
                    conn.execute(
                        f"CREATE TABLE {t}_monthly_{month:02d} PARTITION OF {t}_monthly "
                        f"FOR VALUES FROM ('{lo}') TO ('{hi}')"
                    )
            print(f"bulk COPY of {args.responses} responses (24 items), then reads:")
            copies = {}
            for layout in layouts:
                copies[layout] = bulk(conn, layout, args.responses)
            conn.execute("ANALYZE")
            print(
                f"{'layout':<8} {'COPY rows/s':>11} {'size MiB':>9} "
                f"{'read year s':>11} {'read month s':>12} {'cells':>7}"
            )
            for layout in layouts:
                year, cells = read(conn, layout, "2026-01-01", "2026-12-31")
                month, _ = read(conn, layout, "2026-06-01", "2026-06-30")
                print(
                    f"{layout:<8} {copies[layout]:>11.0f} {size(conn, layout):>9.1f} "
                    f"{year:>11.3f} {month:>12.3f} {cells:>7}"
                )
        print(
            f"\nsubmit: {args.clients} clients, {args.rounds} rounds x {args.seconds:.0f} s "
            "per layout, alternating"
        )
        results: dict[str, list[dict]] = {k: [] for k in layouts}
        for r in range(args.rounds):
            for layout in layouts:
                results[layout].append(
                    submit_phase(url, layout, args.clients, args.seconds, f"r{r}{layout}")
                )
        print(f"{'layout':<8} {'posts/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'vs rows':>8}  rounds")
        base = statistics.median(x["rate"] for x in results["rows"])
        for layout in layouts:
            xs = results[layout]
            rate = statistics.median(x["rate"] for x in xs)
            print(
                f"{layout:<8} {rate:>8.0f} {statistics.median(x['p50'] for x in xs):>7.1f} "
                f"{statistics.median(x['p99'] for x in xs):>7.1f} {rate / base:>8.2f}  "
                + ", ".join(f"{x['rate']:.0f}" for x in xs)
            )
    finally:
        _admin(args.pg_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)")


if __name__ == "__main__":
    main()
