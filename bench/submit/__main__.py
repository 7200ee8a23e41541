"""Benchmark: citizen survey submissions per second under gunicorn, against a bare baseline.

    .venv/bin/python -m bench.submit [--duration 6] [--rounds 3] [--clients 1,8,32]
                                     [--backends sqlite,postgresql]

For each backend it makes a fresh database (``survey db upgrade`` + ``survey
demo``), serves the survey app (``wsgi:app``) and beside it the baseline
(``bench.submit.baseline:app``, plain WSGI + plain SQL) with the same gunicorn
settings, and POSTs full answer sets at each client count, alternating survey
and baseline phases for ``--rounds`` rounds. It prints medians of posts per
second, p50/p99 POST latency and the ratio to the baseline, after checking in
every phase that the rows stored are exactly the POSTs acknowledged. See
bench/submit/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.submit.load import (
    Client,
    PhaseResult,
    baseline_forms,
    fetch_forms,
    matching_cpu,
    parse_form,
    run_phase,
    source_ips,
    tree_cpu,
    wait_for_quiet,
)

ROOT = Path(__file__).resolve().parents[2]
SECRET = "bench-submit-secret-0123456789abcdef0123456789abcdef"
PG_DB = "bench_submit"
# Issue 20: at least 0.85x the baseline's posts/s, p99 within 1.25x the baseline's p99.
GOAL_RATIO = 0.85
GOAL_P99_FACTOR = 1.25


def demo_desk_code() -> str:
    from survey.services.demo import demo_code

    # The standard questionnaire (24 items): Phường Cam Ranh keeps it in the demo,
    # whose other desks serve the short form since issue 16.
    return demo_code("cr-1")


# --- databases ------------------------------------------------------------------
@dataclass
class Database:
    backend: str
    url: str
    tmpdir: Path | None = None

    def connect(self):
        if self.backend == "sqlite":
            return sqlite3.connect(self.url[len("sqlite:///") :], timeout=30)
        import psycopg

        return psycopg.connect(self.url, autocommit=True)

    def max_response_id(self) -> int:
        conn = self.connect()
        try:
            return conn.execute("SELECT coalesce(max(id), 0) FROM responses").fetchone()[0]
        finally:
            conn.close()

    def stored_since(self, last_id: int) -> tuple[list[str], int]:
        """Submission ids of the responses after ``last_id``, and their answers stored."""
        conn = self.connect()
        mark = "?" if self.backend == "sqlite" else "%s"
        try:
            sids = [
                r[0]
                for r in conn.execute(
                    f"SELECT submission_id FROM responses WHERE id > {mark}", (last_id,)
                )
            ]
            answers = conn.execute(  # items answered or N/A (survey.models.response)
                "SELECT coalesce(sum(length(replace(answers, '0', ''))), 0) FROM responses"
                f" WHERE id > {mark}",
                (last_id,),
            ).fetchone()[0]
            return sids, answers
        finally:
            conn.close()


def _survey_cli(*args: str, env: dict[str, str]) -> None:
    exe = Path(sys.executable).with_name("survey")
    cmd = (
        [str(exe)]
        if exe.exists()
        else [sys.executable, "-c", "from survey.cli import main; main()"]
    )
    done = subprocess.run(
        [*cmd, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise SystemExit(f"survey {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def make_database(backend: str, pg_admin_url: str) -> Database:
    """A fresh database with the schema and the demo data, through the survey CLI."""
    if backend == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix="bench_submit_"))
        db = Database(backend, f"sqlite:///{tmp / 'survey.sqlite3'}", tmp)
    else:
        import psycopg
        from psycopg import sql

        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(PG_DB))
            )
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(PG_DB)))
        base = pg_admin_url.rsplit("/", 1)[0]
        db = Database(backend, f"{base}/{PG_DB}")
    env = server_env(db.url)
    _survey_cli("db", "upgrade", env=env)
    _survey_cli("demo", env=env)
    return db


def drop_database(db: Database, pg_admin_url: str) -> None:
    if db.tmpdir is not None:
        shutil.rmtree(db.tmpdir, ignore_errors=True)
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(PG_DB))
        )


def server_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SURVEY_", "BENCH_"))}
    env.update(
        SURVEY_ENV="production",
        SURVEY_SECRET_KEY=SECRET,
        SURVEY_DATABASE_URL=url,
        SURVEY_RATELIMIT_STORAGE_URI="memory://",
        # 20/min per address and 120/min per desk would turn nearly every POST into a 429.
        SURVEY_RATELIMIT_ENABLED="false",
        BENCH_DATABASE_URL=url,
    )
    return env


# --- gunicorn -------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_args(args) -> list[str]:
    out = ["-w", str(args.workers), "-k", args.worker_class]
    if args.worker_class == "gthread":
        out += ["--threads", str(args.threads)]
    return out


@contextmanager
def gunicorn(app: str, env: dict[str, str], args):
    """Serve ``app`` on a free loopback port; yield (port, master pid); stop the server."""
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", *gunicorn_args(args)]
    cmd += ["-b", f"127.0.0.1:{port}", "--backlog", "2048", "--log-level", "warning", app]
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise SystemExit(f"gunicorn {app} exited:\n{log.read()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"gunicorn {app} did not answer /healthz in 60 s") from None
                time.sleep(0.2)
        time.sleep(1.0)  # let every worker finish booting
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.seek(0)
        tail = [line for line in log.read().splitlines() if "Traceback" in line or "Error" in line]
        if tail:
            print(f"  note: gunicorn {app} logged {len(tail)} error line(s), e.g. {tail[0]!r}")
        log.close()


# --- phases ---------------------------------------------------------------------
@dataclass
class Row:
    backend: str
    clients: int
    server: str
    result: PhaseResult
    verified: str
    ok_check: bool
    round: int = 0


@dataclass
class Summary:
    """The rounds of one (backend, clients, server): medians, read like a PhaseResult."""

    rate: float
    p50: float
    p99: float
    ok: int
    failed: int
    cpu: dict[str, float]  # CPU ms per POST by meter (server, db, loadgen)
    machine_busy: float
    background: float
    exhausted: int
    rounds: int

    def percentile(self, q: float) -> float:
        return self.p50 if q == 0.5 else self.p99

    def cpu_ms_per_post(self, meter: str) -> float:
        return self.cpu.get(meter, math.nan)


def summarize(results: list[PhaseResult]) -> Summary:
    def med(values):
        values = [v for v in values if not math.isnan(v)]
        return statistics.median(values) if values else math.nan

    meters = ("server", "db", "loadgen")
    return Summary(
        rate=med([r.rate for r in results]),
        p50=med([r.percentile(0.5) for r in results]),
        p99=med([r.percentile(0.99) for r in results]),
        ok=sum(r.ok for r in results),
        failed=sum(r.failed for r in results),
        cpu={
            m: med([r.cpu_ms_per_post(m) for r in results])
            for m in meters
            if m == "loadgen" or m in results[0].cpu
        },
        machine_busy=med([r.machine_busy for r in results]),
        background=max(r.background for r in results),
        exhausted=sum(r.exhausted for r in results),
        rounds=len(results),
    )


def round_ratios(rows: list[Row], backend: str, clients: int) -> list[float]:
    """Survey rate / baseline rate of each round (the two phases ran back to back)."""
    by = {
        (r.server, r.round): r.result for r in rows if (r.backend, r.clients) == (backend, clients)
    }
    return [
        by[("survey", k)].rate / by[("baseline", k)].rate
        for s, k in sorted(by)
        if s == "survey" and ("baseline", k) in by and by[("baseline", k)].rate
    ]


_ip_counter = [0]


def new_clients(port: int, n: int, same_ip: bool) -> list[Client]:
    ips = source_ips(_ip_counter[0], n, same_ip)
    _ip_counter[0] += n
    return [Client(port, ip) for ip in ips]


def measure(server: str, port: int, pid: int, db: Database, n: int, args, items: list[str]):
    """Warm up, size the form pools from the warm-up rate, then the timed phase."""
    path = f"/s/{args.desk}"

    def meters():
        snaps = {"server": tree_cpu(pid)}
        if db.backend == "postgresql":
            snaps["db"] = matching_cpu(f" {PG_DB} ".encode())
        return snaps

    def pools_for(clients: list[Client], per_client: int):
        if server == "survey":
            fetchers = min(args.fetchers, max(1, n * per_client // 20))
            return fetch_forms(clients, path, per_client, fetchers, args.prefetch_limit)
        return baseline_forms(items, n, per_client)

    warm = new_clients(port, n, args.same_ip)
    warm_result = run_phase(warm, pools_for(warm, args.warmup_forms), path, args.warmup)
    for c in warm:
        c.close()
    rate = max(warm_result.rate, 1.0)
    per_client = math.ceil(1.6 * rate * args.duration / n) + 20
    if server == "baseline":  # cheap to make: no GET
        per_client = max(per_client, math.ceil(2000 * args.duration / n))
    per_client = max(2, min(per_client, args.max_posts // n))

    clients = new_clients(port, n, args.same_ip)
    t0 = time.monotonic()
    pools = pools_for(clients, per_client)
    prefetch = time.monotonic() - t0
    last_id = db.max_response_id()
    background = wait_for_quiet(args.quiet_wait, args.quiet_busy)
    result = run_phase(clients, pools, path, args.duration, meters)
    result.background = background
    for c in clients:
        c.close()
    verified, ok = verify(db, last_id, result)
    extra = (
        f", prefetched {sum(map(len, pools))} forms in {prefetch:.1f}s"
        if server == "survey"
        else ""
    )
    print(
        f"  {db.backend:<10} {server:<8} {n:>2} clients: {result.rate:7.1f} posts/s, "
        f"p50 {result.percentile(0.5):6.1f} ms, p99 {result.percentile(0.99):6.1f} ms, "
        f"failed {result.failed}, CPU/post: server {result.cpu_ms_per_post('server'):.1f} ms, "
        f"db {result.cpu_ms_per_post('db'):.1f} ms{extra}; background {background:.0%}; "
        f"{verified}",
        flush=True,
    )
    return Row(db.backend, n, server, result, verified, ok)


def verify(db: Database, last_id: int, result: PhaseResult) -> tuple[str, bool]:
    """Rows stored during the phase must be exactly the acknowledged POSTs."""
    stored, answers = db.stored_since(last_id)
    stored_set, ok_set = set(stored), set(result.ok_sids)
    missing = len(ok_set - stored_set)
    extra = len(stored_set - ok_set)
    dupes = len(stored) - len(stored_set) + len(result.ok_sids) - len(ok_set)
    good = not missing and not extra and not dupes and answers == result.ok_answers and stored_set
    text = f"stored {len(stored)} = ok {result.ok}, answers {answers}"
    if not good:
        text = (
            f"MISMATCH: stored {len(stored)} responses / {answers} answers, ok {result.ok} "
            f"posts / {result.ok_answers} answers; missing {missing}, extra {extra}, "
            f"duplicates {dupes}"
        )
    return text, bool(good)


# --- report ---------------------------------------------------------------------
def _cpu_total(res) -> float:
    """CPU milliseconds per POST: server + database backends + load generator."""
    parts = [res.cpu_ms_per_post(m) for m in ("server", "db", "loadgen")]
    return sum(p for p in parts if not math.isnan(p))


def table(rows: list[Row]) -> str:
    groups: dict[tuple[str, int, str], list[PhaseResult]] = {}
    checks: dict[tuple[str, int, str], bool] = {}
    for r in rows:
        groups.setdefault((r.backend, r.clients, r.server), []).append(r.result)
        checks[(r.backend, r.clients, r.server)] = (
            checks.get((r.backend, r.clients, r.server), True) and r.ok_check
        )
    summary = {key: summarize(results) for key, results in groups.items()}
    head = (
        f"{'backend':<10} {'clients':>7}  {'server':<8} {'posts/s':>8} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'vs base':>7} {'range':>9} {'ok':>6} {'failed':>6} | "
        f"{'srv':>5} {'db':>5} {'gen':>5} {'total':>5} {'vs base':>7} | "
        f"{'busy':>4} {'bg':>4}  verified"
    )
    over = f"{'':<88}| {'CPU ms per POST':^35} |"
    lines = [over, head, "-" * len(head)]
    for (backend, clients, server), res in summary.items():
        ratio = spread = cost_ratio = ""
        b = summary.get((backend, clients, "baseline"))
        ratios = round_ratios(rows, backend, clients)
        if server == "survey" and ratios:
            ratio = f"{statistics.median(ratios):.2f}"
            spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
            if b is not None and _cpu_total(res):
                cost_ratio = f"{_cpu_total(b) / _cpu_total(res):.2f}"
        db_ms = res.cpu_ms_per_post("db")
        lines.append(
            f"{backend:<10} {clients:>7}  {server:<8} {res.rate:>8.1f} "
            f"{res.percentile(0.5):>7.1f} {res.percentile(0.99):>7.1f} {ratio:>7} {spread:>9} "
            f"{res.ok:>6} {res.failed:>6} | "
            f"{res.cpu_ms_per_post('server'):>5.1f} "
            + (f"{db_ms:>5.1f} " if not math.isnan(db_ms) else f"{'-':>5} ")
            + f"{res.cpu_ms_per_post('loadgen'):>5.1f} {_cpu_total(res):>5.1f} {cost_ratio:>7} | "
            f"{res.machine_busy:>4.0%} {res.background:>4.0%}  "
            f"{'yes' if checks[(backend, clients, server)] else 'NO'}"
            + (" (forms ran out)" if res.exhausted else "")
        )
    return "\n".join(lines)


def goal(rows: list[Row]) -> list[str]:
    app = [
        r.result for r in rows if (r.backend, r.clients, r.server) == ("postgresql", 32, "survey")
    ]
    base = [
        r.result for r in rows if (r.backend, r.clients, r.server) == ("postgresql", 32, "baseline")
    ]
    ratios = round_ratios(rows, "postgresql", 32)
    if not app or not base or not ratios:
        return ["goal (PostgreSQL, 32 clients): not measured in this run"]
    app_s, base_s = summarize(app), summarize(base)
    ratio, p99 = statistics.median(ratios), app_s.p99
    p99_limit = GOAL_P99_FACTOR * base_s.p99
    cost = _cpu_total(base_s) / _cpu_total(app_s) if _cpu_total(app_s) else math.nan
    return [
        f"goal (PostgreSQL, 32 clients, median of {len(ratios)} rounds): ratio {ratio:.2f} "
        f"(need >= {GOAL_RATIO}) {'MET' if ratio >= GOAL_RATIO else 'NOT MET'}; "
        f"p99 {p99:.0f} ms (need <= {GOAL_P99_FACTOR} x the baseline's {base_s.p99:.0f} = "
        f"{p99_limit:.0f}) {'MET' if p99 <= p99_limit else 'NOT MET'}; "
        f"CPU cost ratio {cost:.2f} (what the ratio tends to when the cores are the limit)",
        "  ratio of each round: " + ", ".join(f"{r:.2f}" for r in ratios),
    ]


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.submit", description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=6.0, help="seconds per timed phase")
    p.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="survey and baseline phases alternate this many times per client count",
    )
    p.add_argument("--clients", default="1,8,32", help="concurrent clients, comma-separated")
    p.add_argument("--backends", default="sqlite,postgresql", help="sqlite and/or postgresql")
    p.add_argument(
        "--pg-url",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help=f"PostgreSQL server to create the {PG_DB} database on",
    )
    p.add_argument("--worker-class", choices=["sync", "gthread"], default="sync")
    p.add_argument("--workers", type=int, default=4, help="gunicorn -w")
    p.add_argument("--threads", type=int, default=4, help="gunicorn --threads (gthread)")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of untimed warm-up")
    p.add_argument("--warmup-forms", type=int, default=15, help="forms per client, warm-up")
    p.add_argument("--max-posts", type=int, default=40000, help="cap on forms per phase")
    p.add_argument("--fetchers", type=int, default=8, help="connections prefetching forms")
    p.add_argument("--prefetch-limit", type=float, default=120.0, help="seconds, per phase")
    p.add_argument(
        "--same-ip", action="store_true", help="every client from 127.0.0.1 (default: one each)"
    )
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="seconds to wait, before each phase, for other processes to leave the cores idle",
    )
    p.add_argument(
        "--quiet-busy", type=float, default=0.15, help="what counts as idle (share of all cores)"
    )
    p.add_argument("--only", choices=["survey", "baseline"], help="run one server only")
    p.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    args = p.parse_args(argv)
    args.clients = [int(c) for c in args.clients.split(",") if c.strip()]
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for b in args.backends:
        if b not in ("sqlite", "postgresql"):
            p.error(f"unknown backend {b!r}")
    if args.duration <= 0 or args.duration > 600 or not all(0 < c <= 256 for c in args.clients):
        p.error("--duration must be in (0, 600] and each client count in 1..256")
    if not 1 <= args.rounds <= 20:
        p.error("--rounds must be in 1..20")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    args.desk = demo_desk_code()
    cores = os.cpu_count() or 1
    worker = " ".join(gunicorn_args(args))
    print(
        f"bench.submit: POST /s/{args.desk} (standard questionnaire), {args.duration:g} s per "
        f"phase after {args.warmup:g} s warm-up; gunicorn {worker}; clients {args.clients}"
    )
    print(
        f"machine: {cores} cores; the load generator (this process, Python threads) and "
        "gunicorn and the database all share them: see the cpu columns"
    )
    print(
        "rate limits off (SURVEY_RATELIMIT_ENABLED=false): 20/min per address and "
        "120/min per desk would otherwise answer 429"
    )
    rows: list[Row] = []
    servers = [("survey", "wsgi:app"), ("baseline", "bench.submit.baseline:app")]
    if args.only:
        servers = [s for s in servers if s[0] == args.only]
    for backend in args.backends:
        db = make_database(backend, args.pg_url)
        print(f"{backend}: fresh database {db.url} (migrated, demo data)", flush=True)
        try:
            # Both servers stay up (an idle one costs nothing) and their phases
            # alternate, so both see the same machine: it is shared, and its
            # speed drifts by tens of percent over minutes.
            with ExitStack() as stack:
                up = {
                    server: stack.enter_context(gunicorn(app, server_env(db.url), args))
                    for server, app in servers
                }
                port0 = next(iter(up.values()))[0]
                items = _items(up["survey"][0] if "survey" in up else port0, args.desk)
                for n in args.clients:
                    for k in range(args.rounds):
                        for server, (port, pid) in up.items():
                            row = measure(server, port, pid, db, n, args, items)
                            row.round = k
                            rows.append(row)
        finally:
            if not args.keep:
                drop_database(db, args.pg_url)
    order = {"survey": 0, "baseline": 1}
    rows.sort(key=lambda r: (args.backends.index(r.backend), r.clients, order[r.server], r.round))
    print()
    print(table(rows))
    print()
    for line in goal(rows):
        print(line)
    print(
        f"every figure is the median of {args.rounds} rounds; survey and baseline phases "
        "alternate within a round\n"
        "posts/s: acknowledged POSTs (HTTP 303 to the thanks page; the baseline 200) per second; p50/p99: latency of one POST, "
        "request sent to last byte read;\nvs base: median over rounds of survey posts/s / "
        "baseline posts/s of the same round; range: lowest-highest round. "
        "CPU ms per POST, measured from /proc, so other processes on the machine do not "
        "count: srv = gunicorn\nmaster + workers (with SQLite: the database work too), "
        "db = PostgreSQL backends of the benchmark database, gen = this load generator;\n"
        "CPU vs base: baseline total / survey total. busy: whole machine during the phase; "
        "bg: load of other processes in the second\nbefore the phase (servers idle); "
        "a high bg means other work shared the cores and the rates are low"
    )
    all_ok = all(r.ok_check for r in rows)
    print(
        "verified: rows stored == acknowledged POSTs (no loss, no duplicates, "
        f"24 answers each) in every phase: {'yes' if all_ok else 'NO'}"
    )
    return 0 if all_ok else 1


def _items(port: int, desk: str) -> list[str]:
    """The item codes of the form, read from the survey page."""
    if desk and port:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/s/{desk}", timeout=10) as r:
                return parse_form(r.read().decode())[2]
        except (OSError, RuntimeError):
            pass
    from questionnaires.loader import load_dir

    q = next(q for q in load_dir() if q.id == "standard")
    return [it.code for it in q.items()] + ([q.overall_item.code] if q.overall_item else [])


if __name__ == "__main__":
    sys.exit(main())
