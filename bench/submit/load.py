"""Load generator: keep-alive HTTP clients on threads (stdlib ``http.client``).

Each simulated client has its own keep-alive connection and its own loopback
source address (a desk's Wi-Fi, say). Every form it posts was fetched before the
timed phase by a GET without cookies, like a citizen opening the QR code on
their own phone: each form has its own session and device cookies, its own
CSRF token and a fresh ``sid``. The timed phase only POSTs, and measures each
POST from sending the request to the last byte of the answer.
"""

from __future__ import annotations

import http.client
import math
import os
import random
import re
import resource
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
SID = re.compile(r'name="sid" value="([^"]+)"')
ITEMS = re.compile(r'name="([A-Z]{2}\d*)" value="')
FORM_TYPE = "application/x-www-form-urlencoded"


class Client:
    """A keep-alive connection from its own loopback address."""

    def __init__(self, port: int, source_ip: str):
        self.port = port
        self.source_ip = source_ip
        self.conn = self._new_conn()

    def _new_conn(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=30, source_address=(self.source_ip, 0)
        )

    def reconnect(self) -> None:
        """A fresh, open connection (a kept-alive one may have been closed by the server)."""
        self.conn.close()
        self.conn = self._new_conn()
        self.conn.connect()

    def request(
        self, method: str, path: str, body: bytes | None = None, cookie: str = ""
    ) -> tuple[int, bytes, str]:
        """Send one request; returns (status, body, the cookies it set as a Cookie header)."""
        headers = {"Content-Type": FORM_TYPE} if body is not None else {}
        if cookie:
            headers["Cookie"] = cookie
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            data = resp.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()  # the next request opens a new connection
            raise
        jar = [c.split(";", 1)[0].strip() for c in resp.headers.get_all("Set-Cookie") or ()]
        return resp.status, data, "; ".join(jar)

    def close(self) -> None:
        self.conn.close()


def source_ips(first: int, n: int, same: bool) -> list[str]:
    """n distinct loopback addresses (127.0.x.y) starting at ``first``, or 127.0.0.1 n times."""
    if same:
        return ["127.0.0.1"] * n
    return [f"127.0.{1 + (first + i) // 250}.{2 + (first + i) % 250}" for i in range(n)]


@dataclass
class Form:
    sid: str
    body: bytes
    answers: int
    cookie: str = ""  # the session and device cookies the GET set


def _body(token: str, sid: str, items: list[str], rng: random.Random) -> bytes:
    fields = [("csrf_token", token), ("sid", sid)]
    fields += [(item, str(rng.randint(1, 5))) for item in items]
    return urlencode(fields).encode()


def parse_form(html: str) -> tuple[str, str, list[str]]:
    token, sid = TOKEN.search(html), SID.search(html)
    items = list(dict.fromkeys(ITEMS.findall(html)))
    if not token or not sid or not items:
        raise RuntimeError("the survey page has no csrf_token, sid or items")
    return token.group(1), sid.group(1), items


def fetch_forms(
    clients: list[Client], path: str, per_client: int, fetchers: int, time_limit: float
) -> list[list[Form]]:
    """Prefetch ``per_client`` survey forms for each client: GETs without cookies.

    They run on ``fetchers`` threads, each with its own connections (from the
    client's address), and stop at ``time_limit`` seconds (the pools are then
    shorter, which the timed phase reports as "forms ran out").
    """
    pools: list[list[Form]] = [[] for _ in clients]
    tasks = [i for _ in range(per_client) for i in range(len(clients))]
    deadline = time.monotonic() + time_limit
    lock = threading.Lock()
    failures: list[BaseException] = []

    def fetch(k: int) -> None:
        rng = random.Random(k)
        conns: dict[int, Client] = {}
        try:
            for i in tasks[k::fetchers]:
                if time.monotonic() > deadline:
                    return
                if i not in conns:
                    conns[i] = Client(clients[i].port, clients[i].source_ip)
                status, data, cookie = conns[i].request("GET", path)
                if status != 200 or not cookie:
                    raise RuntimeError(f"GET {path}: HTTP {status}, cookies {cookie!r}")
                token, sid, items = parse_form(data.decode())
                form = Form(sid, _body(token, sid, items, rng), len(items), cookie)
                with lock:
                    pools[i].append(form)
        except BaseException as exc:  # reported by the caller
            failures.append(exc)
        finally:
            for c in conns.values():
                c.close()

    threads = [threading.Thread(target=fetch, args=(k,)) for k in range(fetchers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError(f"prefetching forms failed: {failures[0]!r}") from failures[0]
    sids = [f.sid for pool in pools for f in pool]
    if len(set(sids)) != len(sids):
        raise RuntimeError("the survey pages handed out the same sid twice")
    return pools


def baseline_forms(items: list[str], n_clients: int, per_client: int) -> list[list[Form]]:
    """Bodies of the same shape for the baseline (it checks no token or signature)."""
    rng = random.Random(11)
    pools = []
    for _ in range(n_clients):
        pool = []
        for _ in range(per_client):
            sid = f"{uuid.uuid4().hex}.{uuid.uuid4().hex[:20]}"
            pool.append(Form(sid, _body("b" * 91, sid, items, rng), len(items)))
        pools.append(pool)
    return pools


@dataclass
class PhaseResult:
    clients: int
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, successful POSTs
    ok_sids: list[str] = field(default_factory=list)
    ok_answers: int = 0
    statuses: Counter = field(default_factory=Counter)  # statuses other than 200/303
    errors: Counter = field(default_factory=Counter)  # exceptions by type
    exhausted: int = 0  # clients that ran out of forms before the deadline
    loadgen_cpu: float = 0.0  # CPU seconds of this process during the phase
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by meter ("server", "db")
    machine_busy: float = 0.0  # share of all cores busy (whole machine)
    background: float = 0.0  # share of all cores busy just before, with the servers idle

    @property
    def ok(self) -> int:
        return len(self.ok_sids)

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile of the successful POST latencies, in milliseconds."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

    def cpu_ms_per_post(self, meter: str) -> float:
        """CPU milliseconds per acknowledged POST: "server", "db" or "loadgen"."""
        seconds = self.loadgen_cpu if meter == "loadgen" else self.cpu.get(meter, 0.0)
        return 1000 * seconds / self.ok if self.ok else math.nan

    @property
    def failed(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())


def _cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


_TICK = os.sysconf("SC_CLK_TCK")
Snapshot = dict[int, float]  # pid -> CPU seconds used so far


def _proc_stat(pid: str) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) of a process, from /proc/<pid>/stat."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            text = fh.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def tree_cpu(root: int) -> Snapshot:
    """CPU seconds of a process and all its descendants (gunicorn master and workers)."""
    stats = {int(p): st for p in os.listdir("/proc") if p.isdigit() and (st := _proc_stat(p))}
    children: dict[int, list[int]] = {}
    for pid, (ppid, _cpu) in stats.items():
        children.setdefault(ppid, []).append(pid)
    out, stack = {}, [root]
    while stack:
        pid = stack.pop()
        if pid in stats:
            out[pid] = stats[pid][1]
            stack.extend(children.get(pid, ()))
    return out


def matching_cpu(needle: bytes) -> Snapshot:
    """CPU seconds of the processes whose command line contains ``needle``.

    PostgreSQL backends show their database in their title, e.g.
    ``postgres: 15/main: postgres bench_submit 127.0.0.1(40312) idle``.
    """
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmdline = fh.read()
        except OSError:
            continue
        if needle in cmdline and (st := _proc_stat(pid)):
            out[int(pid)] = st[1]
    return out


def cpu_used(before: Snapshot, after: Snapshot) -> float:
    """CPU seconds used between two snapshots (processes that ended in between are lost)."""
    return sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in after.items())


def machine_busy(seconds: float) -> float:
    """Share of all cores busy over the next ``seconds`` (whole machine)."""
    busy0, total0 = _cpu_times()
    time.sleep(seconds)
    busy1, total1 = _cpu_times()
    return (busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0


def wait_for_quiet(limit: float, max_busy: float) -> float:
    """Wait (at most ``limit`` seconds) until other processes leave the cores nearly idle.

    Returns the last background load measured (share of all cores over one second).
    """
    deadline = time.monotonic() + limit
    while True:
        busy = machine_busy(1.0)
        if busy <= max_busy or time.monotonic() >= deadline:
            return busy


def run_phase(
    clients: list[Client],
    pools: list[list[Form]],
    path: str,
    duration: float,
    meters: Callable[[], dict[str, Snapshot]] | None = None,
) -> PhaseResult:
    """POST every client's forms back to back until ``duration`` seconds have passed.

    ``meters`` returns CPU snapshots of the server processes (by name); the CPU
    they use during the phase is stored in ``result.cpu``.
    """
    n = len(clients)
    result = PhaseResult(clients=n)
    barrier = threading.Barrier(n + 1)
    finished = [0.0] * n
    lock = threading.Lock()

    def work(i: int) -> None:
        client, pool = clients[i], pools[i]
        lat, sids, answers, statuses, errors = [], [], 0, Counter(), Counter()
        client.reconnect()
        barrier.wait()
        deadline = time.perf_counter() + duration
        exhausted = True
        for form in pool:
            if time.perf_counter() >= deadline:
                exhausted = False
                break
            t0 = time.perf_counter()
            try:
                status, _data, _cookie = client.request("POST", path, form.body, form.cookie)
            except (http.client.HTTPException, OSError) as exc:
                errors[type(exc).__name__] += 1
                continue
            t1 = time.perf_counter()
            # The app acknowledges with 303 to its thanks page (post/redirect/get),
            # the baseline with 200.
            if status in (200, 303):
                lat.append(t1 - t0)
                sids.append(form.sid)
                answers += form.answers
            else:
                statuses[status] += 1
        finished[i] = time.perf_counter()
        with lock:
            result.latencies += lat
            result.ok_sids += sids
            result.ok_answers += answers
            result.statuses.update(statuses)
            result.errors.update(errors)
            result.exhausted += exhausted

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    snap0 = meters() if meters else {}
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    busy0, total0 = _cpu_times()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    busy1, total1 = _cpu_times()
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    snap1 = meters() if meters else {}
    result.elapsed = max(finished) - start
    cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    result.loadgen_cpu = cpu
    result.cpu = {name: cpu_used(snap0[name], snap1[name]) for name in snap1}
    result.machine_busy = (busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0
    return result
