"""Reliability under faults: simulated phones answer the survey while a gunicorn
worker is killed and PostgreSQL restarts; every acknowledged submission must be
stored exactly once.

    .venv/bin/python -m bench.reliability [--clients 200] [--duration 60]
                                         [--workers 4] [--threads 4] [--keep]
                                         [--pg-url postgresql://postgres@127.0.0.1:5432/test]

It makes a fresh database ``rel_<pid>`` (``survey db upgrade`` + ``survey demo``),
serves ``wsgi:app`` with gunicorn (gthread workers, rate limits off) on a loopback
port, and runs ``--clients`` phones for ``--duration`` seconds. Each phone, on its
own loopback address and keep-alive connection, and with fresh cookies for each
submission (the next citizen's phone): GET the survey page, think 1-3 s, POST
the answers; on an error or a dropped connection it POSTs the
same body (same submission id, same CSRF token, same cookies) again, with
exponential backoff, until the thanks page comes back (bounded: attempts and
seconds). At 1/3 of the run one gunicorn worker gets SIGKILL (the master
respawns it); at 2/3 PostgreSQL restarts (``pg_ctlcluster ... restart``). The
cluster is started again in a ``finally`` block whatever happens.

At the end the database is checked: acknowledged submissions == rows stored for
their ids, no submission id stored twice, every stored response has all its
answers, nothing stored that no phone sent.

Needs root (or the cluster owner) for ``pg_ctlcluster``. Restarting PostgreSQL
drops every other connection to the cluster, so do not run it while someone
else's tests use the same server.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench.submit.__main__ import _survey_cli, free_port, server_env
from bench.submit.load import Client, _body, parse_form, source_ips

ROOT = Path(__file__).resolve().parents[2]
THANKS = "Cảm ơn".encode()  # the thanks page (production default locale: Vietnamese)
MAX_ATTEMPTS = 10  # per request (a form GET, or one submission's POSTs)
SUBMIT_BUDGET = 45.0  # seconds a phone keeps retrying one submission
BACKOFF_BASE = 0.25
BACKOFF_MAX = 4.0
REQUEST_TIMEOUT = 15.0
FAULT_WINDOW = 10.0  # seconds after a fault counted as "during the fault"


class Phone(Client):
    """``bench.submit``'s keep-alive client, with a cookie jar and a shorter timeout.

    Each submission starts with an empty jar (the next citizen's phone, on the
    same desk Wi-Fi address and connection); its retries keep the cookies.
    """

    def __init__(self, port: int, source_ip: str) -> None:
        super().__init__(port, source_ip)
        self.jar: dict[str, str] = {}

    def _new_conn(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=REQUEST_TIMEOUT, source_address=(self.source_ip, 0)
        )

    def send(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        status, data, set_cookies = self.request(method, path, body, cookie)
        for pair in filter(None, set_cookies.split("; ")):
            name, _, value = pair.partition("=")
            self.jar[name] = value
        return status, data


@dataclass
class Attempt:
    start: float  # seconds since the start of the run
    end: float
    method: str
    ok: bool
    outcome: str  # HTTP status, or the exception's name


@dataclass
class Submission:
    sid: str
    started: float
    attempts: int = 0
    acked: float | None = None
    outcome: str = "gave up"


@dataclass
class Fault:
    name: str
    start: float
    end: float
    detail: str = ""


@dataclass
class Run:
    t0: float
    deadline: float  # monotonic: no new submission after this
    attempts: list[Attempt] = field(default_factory=list)
    submissions: list[Submission] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> float:
        return time.monotonic() - self.t0


def backoff(k: int, rng: random.Random) -> float:
    return min(BACKOFF_MAX, BACKOFF_BASE * 2**k) * rng.uniform(0.5, 1.0)


def request(run: Run, client: Phone, method: str, path: str, body: bytes | None, log: list):
    """One HTTP request, recorded; (status, data), or (None, b"") on a network error."""
    start = run.now()
    try:
        status, data = client.send(method, path, body)
    except (http.client.HTTPException, OSError) as exc:
        log.append(Attempt(start, run.now(), method, False, type(exc).__name__))
        return None, b""
    ok = status == 200 and (method == "GET" or THANKS in data)
    log.append(Attempt(start, run.now(), method, ok, str(status)))
    return status, data


def phone(run: Run, client: Phone, path: str, seed: int) -> None:
    rng = random.Random(seed)
    log: list[Attempt] = []
    subs: list[Submission] = []
    time.sleep(rng.uniform(0, 3))  # phones do not all arrive at once
    try:
        while time.monotonic() < run.deadline:
            client.jar.clear()
            form = None
            for k in range(MAX_ATTEMPTS):
                status, data = request(run, client, "GET", path, None, log)
                if status == 200:
                    form = parse_form(data.decode())
                    break
                time.sleep(backoff(k, rng))
            if form is None:
                continue
            token, sid, items = form
            time.sleep(rng.uniform(1.0, 3.0))  # reading and tapping the answers
            if time.monotonic() >= run.deadline:
                break
            body = _body(token, sid, items, rng)
            sub = Submission(sid, run.now())
            subs.append(sub)
            for k in range(MAX_ATTEMPTS):
                status, data = request(run, client, "POST", path, body, log)
                sub.attempts += 1
                if status == 200 and THANKS in data:
                    sub.acked, sub.outcome = run.now(), "acked"
                    break
                if status is not None and 400 <= status < 500:
                    sub.outcome = f"refused {status}"  # a retry cannot cure it
                    break
                if run.now() - sub.started > SUBMIT_BUDGET:
                    break
                time.sleep(backoff(k, rng))
    except Exception as exc:  # a phone that stops is a failed run, not a quieter one
        with run.lock:
            run.problems.append(f"phone {seed} stopped: {exc!r}")
    finally:
        client.close()
        with run.lock:
            run.attempts += log
            run.submissions += subs


# --- gunicorn and PostgreSQL -----------------------------------------------------
@contextmanager
def gunicorn(env: dict[str, str], workers: int, threads: int):
    """Serve wsgi:app on a free loopback port; yield (master process, port, log file)."""
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "gthread"]
    cmd += ["--threads", str(threads), "--keep-alive", "75", "--timeout", "30"]
    cmd += ["-b", f"127.0.0.1:{port}", "--backlog", "2048", "--log-level", "warning", "wsgi:app"]
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while len(worker_pids(proc.pid)) < workers or not _healthy(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise SystemExit(f"gunicorn did not start:\n{log.read()[-3000:]}")
            time.sleep(0.2)
        yield proc, port, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def worker_pids(master: int) -> list[int]:
    try:
        text = Path(f"/proc/{master}/task/{master}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def find_cluster(pg_url: str) -> tuple[str, str]:
    """(version, name) of the local cluster listening on the URL's port."""
    port = urlsplit(pg_url).port or 5432
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        cols = line.split()
        if len(cols) >= 4 and cols[2] == str(port):
            return cols[0], cols[1]
    versions = sorted(os.listdir("/etc/postgresql"))
    if not versions:
        raise SystemExit("no PostgreSQL cluster found (pg_lsclusters, /etc/postgresql)")
    return versions[-1], "main"


def pg_ctl(cluster: tuple[str, str], action: str) -> None:
    cmd = ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, action]
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)


def pg_online(cluster: tuple[str, str]) -> bool:
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True)
    return any(
        line.split()[:2] == list(cluster) and "online" in line for line in out.stdout.splitlines()
    )


def ensure_pg_running(cluster: tuple[str, str], admin_url: str) -> None:
    """Start the cluster if it is down, and wait (bounded) until it accepts connections."""
    import psycopg

    if not pg_online(cluster):
        print(f"PostgreSQL {'/'.join(cluster)} is down: starting it", flush=True)
        pg_ctl(cluster, "start")
    deadline = time.monotonic() + 60
    while True:
        try:
            psycopg.connect(admin_url, connect_timeout=3).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _admin(pg_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(sql)


# --- faults ---------------------------------------------------------------------
def inject_faults(run: Run, master: int, cluster: tuple[str, str], duration: float) -> None:
    try:
        time.sleep(max(0.0, run.t0 + duration / 3 - time.monotonic()))
        before = worker_pids(master)
        victim = random.Random(1).choice(before)
        start = run.now()
        os.kill(victim, signal.SIGKILL)
        respawned = None
        while run.now() < start + 30:
            now = worker_pids(master)
            if victim not in now and len(now) >= len(before):
                respawned = run.now() - start
                break
            time.sleep(0.05)
        detail = f"pid {victim}; " + (
            f"respawned in {respawned:.1f} s" if respawned is not None else "NOT respawned"
        )
        run.faults.append(Fault("kill -9 worker", start, start, detail))

        time.sleep(max(0.0, run.t0 + 2 * duration / 3 - time.monotonic()))
        start = run.now()
        pg_ctl(cluster, "restart")
        end = run.now()
        run.faults.append(Fault("PostgreSQL restart", start, end, f"down {end - start:.1f} s"))
    except Exception as exc:  # reported in the table; the finally of main restarts PG
        run.problems.append(f"fault injection failed: {exc!r}")


# --- report ---------------------------------------------------------------------
def _window(run: Run, lo: float, hi: float) -> list[Attempt]:
    """Requests that ended (answered or failed) in [lo, hi)."""
    return [a for a in run.attempts if lo <= a.end < hi]


def _p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _row(name: str, lo: float, hi: float, attempts: list[Attempt], extra: str = "") -> str:
    failed = [a for a in attempts if not a.ok]
    rate = len(failed) / len(attempts) if attempts else 0.0
    kinds = ", ".join(f"{k} x{n}" for k, n in Counter(a.outcome for a in failed).most_common(3))
    posts = [a.end - a.start for a in attempts if a.ok and a.method == "POST"]
    return (
        f"{name:<20} {lo:>5.1f}-{hi:<5.1f} {len(attempts):>8} {len(posts):>5} {len(failed):>6} "
        f"{rate:>6.1%} {1000 * _p(posts, 0.5):>6.0f} {1000 * _p(posts, 0.99):>6.0f}  "
        f"{extra:<36} {kinds}"
    )


def report(run: Run, elapsed: float) -> list[str]:
    """One row per window: before, during (FAULT_WINDOW s after) and between the faults."""
    faults = sorted(run.faults, key=lambda f: f.start)
    head = (
        f"{'window':<20} {'seconds':^11} {'requests':>8} {'acks':>5} {'failed':>6} "
        f"{'errors':>6} {'p50 ms':>6} {'p99 ms':>6}  {'recovery':<36} failures"
    )
    lines = [head, "-" * (len(head) + 24)]
    t = 0.0
    for i, f in enumerate(faults):
        nxt = faults[i + 1].start if i + 1 < len(faults) else elapsed
        if f.start > t:
            lines.append(_row("no fault", t, f.start, _window(run, t, f.start)))
        hi = min(f.end + FAULT_WINDOW, nxt)
        acks = [a.end for a in run.attempts if a.ok and a.method == "POST" and a.start >= f.start]
        errors = [a.end for a in run.attempts if not a.ok and f.start <= a.end < nxt]
        first_ack = f"next ack +{min(acks) - f.start:.2f} s" if acks else "no ack after it"
        last_err = f"last error +{max(errors) - f.start:.2f} s" if errors else "no errors"
        lines.append(
            _row(f.name, f.start, hi, _window(run, f.start, hi), f"{first_ack}; {last_err}")
        )
        t = hi
    if t < elapsed:
        lines.append(_row("no fault", t, elapsed, _window(run, t, elapsed + 1)))
    lines.append(_row("whole run", 0.0, elapsed, run.attempts))
    return lines


def timeline(run: Run, elapsed: float, step: float = 5.0) -> list[str]:
    out = []
    t = 0.0
    marks = {int(f.start // step): f.name for f in run.faults}
    while t < elapsed:
        window = _window(run, t, t + step)
        acks = sum(1 for a in window if a.ok and a.method == "POST")
        failed = sum(1 for a in window if not a.ok)
        mark = marks.get(int(t // step), "")
        out.append(
            f"  {t:>5.0f}-{t + step:<4.0f} s  acks {acks:>5}  failed {failed:>4}  "
            f"{'#' * min(60, acks // 10)}{'  <- ' + mark if mark else ''}"
        )
        t += step
    return out


def verify(url: str, run: Run, n_items: int, last_id: int) -> tuple[list[str], bool]:
    import psycopg

    acked = {s.sid for s in run.submissions if s.acked is not None}
    unacked = {s.sid for s in run.submissions if s.acked is None}
    sent = acked | unacked
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT submission_id, length(replace(r.answers, '0', '')) "
            "FROM responses r WHERE r.id > %s",
            (last_id,),
        ).fetchall()
        duplicates = conn.execute(
            "SELECT count(*) FROM (SELECT submission_id FROM responses "
            "GROUP BY submission_id HAVING count(*) > 1) d"
        ).fetchone()[0]
    stored = Counter(sid for sid, _n in rows)
    stored_acked = sum(1 for sid in acked if sid in stored)
    lost = len(acked - set(stored))
    incomplete = sum(1 for _sid, n in rows if n != n_items)
    foreign = len(set(stored) - sent)
    unacked_stored = len(unacked & set(stored))
    acked_count = sum(1 for s in run.submissions if s.acked is not None)
    # Two forms with one sid would make the second acknowledgment a replay: not a new row.
    sids_unique = acked_count == len(acked) and len(sent) == len(run.submissions)
    ok = (
        lost == 0 and duplicates == 0 and incomplete == 0 and foreign == 0 and sids_unique
    ) and stored_acked == len(acked)
    pairs = [
        ("acknowledged submissions", acked_count),
        ("  their unique submission ids", f"{len(acked)}{'' if sids_unique else '  SID REUSED'}"),
        ("rows stored for those ids", stored_acked),
        ("lost (acknowledged, not stored)", lost),
        ("duplicates (submission_id stored >1)", duplicates),
        (f"incomplete answer sets (not {n_items})", incomplete),
        ("stored but never sent by a phone", foreign),
        ("not acknowledged (gave up/refused)", f"{len(unacked)} ({unacked_stored} stored)"),
    ]
    lines = [f"{label + ':':<40} {value}" for label, value in pairs]
    return lines, ok


def server_errors(log) -> list[str]:
    """The kinds of error gunicorn and the app logged, most frequent first."""
    log.seek(0)
    kinds: Counter[str] = Counter()
    pattern = re.compile(r"^([\w.]+(?:Error|Exception|Timeout)): (.{0,90})")
    for line in log.read().splitlines():
        match = pattern.match(line.strip())
        if match:
            kinds[f"{match.group(1)}: {match.group(2)}"] += 1
        elif "[ERROR]" in line or "[CRITICAL]" in line:
            kinds[re.sub(r"^\[[^]]*\] \[\d+\] ", "", line.strip())[:110]] += 1
    return [f"  {n:>5} x {kind}" for kind, n in kinds.most_common(8)]


# --- main -----------------------------------------------------------------------
def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m bench.reliability", description=__doc__.split("\n")[0]
    )
    p.add_argument("--clients", type=int, default=200, help="simulated phones (threads)")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    p.add_argument("--workers", type=int, default=4, help="gunicorn -w")
    p.add_argument("--threads", type=int, default=4, help="gunicorn --threads (gthread)")
    p.add_argument(
        "--pg-url",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="PostgreSQL server (local cluster) to create the rel_<pid> database on",
    )
    p.add_argument("--keep", action="store_true", help="keep the rel_<pid> database")
    p.add_argument("--server-log", type=Path, help="save gunicorn's log (app errors) here")
    p.add_argument(
        "--no-faults", action="store_true", help="no kill, no restart (a baseline for the figures)"
    )
    args = p.parse_args(argv)
    if not 1 <= args.clients <= 1000 or not 10 <= args.duration <= 600:
        p.error("--clients must be in 1..1000 and --duration in 10..600")
    host = urlsplit(args.pg_url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        p.error("--pg-url must be a loopback server (this benchmark restarts it)")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from survey.services.demo import demo_code

    desk = demo_code("tt-datdai")  # the standard questionnaire: 24 items
    path = f"/s/{desk}"
    cluster = find_cluster(args.pg_url)
    dbname = f"rel_{os.getpid()}"
    url = f"{args.pg_url.rsplit('/', 1)[0]}/{dbname}"
    print(
        f"bench.reliability: {args.clients} phones for {args.duration:g} s against gunicorn "
        f"-w {args.workers} gthread --threads {args.threads}, PostgreSQL "
        f"{'/'.join(cluster)} database {dbname}; POST {path}"
    )
    faults = (
        "none (--no-faults)"
        if args.no_faults
        else f"kill -9 of one worker at {args.duration / 3:.0f} s, PostgreSQL restart at "
        f"{2 * args.duration / 3:.0f} s"
    )
    print(
        f"faults: {faults}; retries: same submission id, up to {MAX_ATTEMPTS} "
        f"attempts / {SUBMIT_BUDGET:.0f} s, backoff {BACKOFF_BASE}-{BACKOFF_MAX} s",
        flush=True,
    )
    ensure_pg_running(cluster, args.pg_url)
    _admin(args.pg_url, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    _admin(args.pg_url, f'CREATE DATABASE "{dbname}"')
    ok = False
    chaos = None
    try:
        env = server_env(url)
        _survey_cli("db", "upgrade", env=env)
        _survey_cli("demo", env=env)
        import psycopg

        with psycopg.connect(url) as conn:
            last_id = conn.execute("SELECT coalesce(max(id), 0) FROM responses").fetchone()[0]
        with gunicorn(env, args.workers, args.threads) as (proc, port, log):
            probe = Phone(port, "127.0.0.1")
            n_items = len(parse_form(probe.send("GET", path)[1].decode())[2])
            probe.close()
            t0 = time.monotonic()
            run = Run(t0=t0, deadline=t0 + args.duration)
            phones = [
                threading.Thread(target=phone, args=(run, Phone(port, ip), path, i), daemon=True)
                for i, ip in enumerate(source_ips(0, args.clients, False))
            ]
            chaos = threading.Thread(
                target=inject_faults, args=(run, proc.pid, cluster, args.duration), daemon=True
            )
            for t in phones:
                t.start()
            if not args.no_faults:
                chaos.start()
                chaos.join(timeout=args.duration + 150)
            for t in phones:
                t.join(timeout=max(1.0, run.deadline + SUBMIT_BUDGET + 30 - time.monotonic()))
            stuck = sum(t.is_alive() for t in phones)
            elapsed = run.now()
            errors = server_errors(log)
            if args.server_log:
                log.seek(0)
                args.server_log.write_text(log.read())
        ensure_pg_running(cluster, args.pg_url)
        checks, ok = verify(url, run, n_items, last_id)
        subs = run.submissions
        acked = [s for s in subs if s.acked is not None]
        retried = [s for s in acked if s.attempts > 1]
        gets = sum(1 for a in run.attempts if a.method == "GET")
        print()
        print("\n".join(report(run, elapsed)))
        print()
        for f in sorted(run.faults, key=lambda f: f.start):
            print(f"fault at {f.start:5.1f} s: {f.name} ({f.detail})")
        for problem in run.problems:
            print(f"PROBLEM: {problem}")
        print(
            f"throughput: {len(acked) / args.duration:.1f} acknowledged submissions/s "
            f"({len(run.attempts) / elapsed:.1f} requests/s: {gets} GET, "
            f"{len(run.attempts) - gets} POST) over {elapsed:.1f} s"
        )
        refused = Counter(s.outcome for s in subs if s.outcome.startswith("refused"))
        print(
            f"submissions: {len(subs)} started, {len(acked)} acknowledged, "
            f"{len(retried)} of them after a retry (max {max((s.attempts for s in subs), default=0)}"
            f" attempts), {sum(s.outcome == 'gave up' for s in subs)} gave up, "
            f"{sum(refused.values())} refused {dict(refused) or ''}; {stuck} phones still stuck"
        )
        print("\n".join(checks))
        print("timeline (POST acknowledgments and failed requests per 5 s):")
        print("\n".join(timeline(run, elapsed)))
        if errors:
            print("server log (errors by kind):")
            print("\n".join(errors))
        ok = ok and not refused and not stuck and not run.problems
        ok = ok and all(s.outcome == "acked" for s in subs)
        print(
            f"verdict: {'PASS' if ok else 'FAIL'} (no loss, no duplicates, every submission acknowledged)"
        )
    finally:
        if chaos is not None and chaos.is_alive():
            chaos.join(timeout=150)  # a restart in progress: let it finish first
        try:
            ensure_pg_running(cluster, args.pg_url)
        finally:
            if not args.keep:
                _admin(args.pg_url, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    return 0 if ok else 1
