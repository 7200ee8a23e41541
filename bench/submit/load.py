"""Load generator: keep-alive HTTP clients on threads (stdlib ``http.client``).

Each simulated client has its own connection, its own loopback source address
and its own cookies (session and device, like one phone). Forms are fetched
before the timed phase; the timed phase only POSTs, one fresh ``sid`` each, and
measures each POST from sending the request to the last byte of the answer.
"""

from __future__ import annotations

import http.client
import math
import random
import re
import resource
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
SID = re.compile(r'name="sid" value="([^"]+)"')
ITEMS = re.compile(r'name="([A-Z]{2}\d*)" value="')
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


class Client:
    """One browser: a keep-alive connection from its own address, and a cookie jar."""

    def __init__(self, port: int, source_ip: str, cookies: dict[str, str] | None = None):
        self.port = port
        self.source_ip = source_ip
        self.cookies = dict(cookies or {})
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

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = dict(FORM_HEADERS) if body is not None else {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            data = resp.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()  # the next request opens a new connection
            raise
        for cookie in resp.headers.get_all("Set-Cookie") or ():
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value
        return resp.status, data

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
    """Prefetch ``per_client`` survey forms for each client (GET, with its cookies).

    The first GET of each client sets its session and device cookies; the rest
    run on ``fetchers`` extra connections that carry a copy of those cookies.
    """
    rng = random.Random(7)
    pools: list[list[Form]] = [[] for _ in clients]
    for i, client in enumerate(clients):
        status, data = client.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: HTTP {status}")
        token, sid, items = parse_form(data.decode())
        pools[i].append(Form(sid, _body(token, sid, items, rng), len(items)))
    tasks = [i for i in range(len(clients)) for _ in range(per_client - 1)]
    deadline = time.monotonic() + time_limit
    lock = threading.Lock()
    failures: list[BaseException] = []

    def fetch(k: int) -> None:
        frng = random.Random(k)
        conns: dict[int, Client] = {}
        try:
            for i in tasks[k::fetchers]:
                if time.monotonic() > deadline:
                    return
                if i not in conns:
                    conns[i] = Client(clients[i].port, clients[i].source_ip, clients[i].cookies)
                status, data = conns[i].request("GET", path)
                if status != 200:
                    raise RuntimeError(f"GET {path}: HTTP {status}")
                token, sid, items = parse_form(data.decode())
                form = Form(sid, _body(token, sid, items, frng), len(items))
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
    statuses: Counter = field(default_factory=Counter)  # non-200 statuses
    errors: Counter = field(default_factory=Counter)  # exceptions by type
    exhausted: int = 0  # clients that ran out of forms before the deadline
    loadgen_cpu: float = 0.0  # CPU seconds of this process per wall second
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

    @property
    def failed(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())


def _cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


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
    clients: list[Client], pools: list[list[Form]], path: str, duration: float
) -> PhaseResult:
    """POST every client's forms back to back until ``duration`` seconds have passed."""
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
                status, _data = client.request("POST", path, form.body)
            except (http.client.HTTPException, OSError) as exc:
                errors[type(exc).__name__] += 1
                continue
            t1 = time.perf_counter()
            if status == 200:
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
    barrier.wait()
    start = time.perf_counter()
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    busy0, total0 = _cpu_times()
    for t in threads:
        t.join()
    busy1, total1 = _cpu_times()
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    result.elapsed = max(finished) - start
    cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    result.loadgen_cpu = cpu / result.elapsed if result.elapsed else 0.0
    result.machine_busy = (busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0
    return result
