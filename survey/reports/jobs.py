"""Large exports built in the background, with a status page that shows progress.

A job is a small JSON status file and, once done, the finished file, both in
``<instance>/report-jobs/`` (shared by every worker process of a host; put the
instance folder on shared storage, or use sticky sessions, when several hosts
serve the staff pages).  Jobs run on a small thread pool inside the web
process, each with its own database session, and record their progress as
the responses are read.  A job belongs to the user who started it: anyone else
gets a 404.  Files older than ``KEEP`` are removed when a new job starts.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from threading import Lock
from typing import Any

from flask import Flask

from survey.files import write_atomically

KEEP = 24 * 3600
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_pool: ThreadPoolExecutor | None = None
_pool_lock = Lock()


@dataclass
class Job:
    token: str
    user_id: int
    fmt: str
    state: str  # running | done | failed
    done: int = 0
    total: int = 0
    stage: str = "read"  # read | render | done
    filename: str = ""
    error: str = ""
    started: float = 0.0
    finished: float = 0.0

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        if not self.total:
            return 0
        # Reading is most of the work; the rendering gets the last tenth.
        share = 0.9 * min(self.done, self.total) / self.total
        return int(100 * (share + (0.05 if self.stage == "render" else 0)))


def directory(app: Flask) -> Path:
    path = Path(app.instance_path) / "report-jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _status_path(app: Flask, token: str) -> Path:
    return directory(app) / f"{token}.json"


def result_path(app: Flask, job: Job) -> Path:
    return directory(app) / f"{job.token}.{job.fmt}"


def _write_json(path: Path, payload: dict) -> None:
    write_atomically(path, json.dumps(payload).encode())


def _save(app: Flask, job: Job) -> None:
    _write_json(_status_path(app, job.token), asdict(job))


def get(app: Flask, token: str, user_id: int) -> Job | None:
    """The job, if it exists and belongs to ``user_id``."""
    if not TOKEN.match(token or ""):
        return None
    try:
        payload = json.loads(_status_path(app, token).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    job = Job(**payload)
    return job if job.user_id == user_id else None


def _cleanup(app: Flask) -> None:
    cutoff = time.time() - KEEP
    for path in directory(app).iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="report-job")
        return _pool


def start(
    app: Flask,
    *,
    user_id: int,
    fmt: str,
    values: dict[str, Any],
    today: date,
    total: int,
    filename: str,
) -> Job:
    """Queue the export of the selection ``values`` for ``user_id``; returns the job."""
    _cleanup(app)
    job = Job(
        token=secrets.token_urlsafe(24),
        user_id=user_id,
        fmt=fmt,
        state="running",
        total=total,
        filename=filename,
        started=time.time(),
    )
    _save(app, job)
    _executor().submit(_run, app, job, values, today)
    return job


def _run(app: Flask, job: Job, values: dict[str, Any], today: date) -> None:
    from survey.models import User
    from survey.reports import export
    from survey.reports.build import build

    last = [0.0]

    def progress(rows: int) -> None:
        job.done += rows
        now = time.monotonic()
        if now - last[0] > 0.5:
            last[0] = now
            _save(app, job)

    try:
        with app.app_context():
            database = app.extensions["survey.db"]
            with database.session() as session:
                user = session.get(User, job.user_id)
                report = build(
                    session,
                    user,
                    today=today,
                    action="results.export",
                    progress=progress,
                    **values,
                )
                job.stage = "render"
                _save(app, job)
                payload = export.render(session, report, job.fmt)
        path = result_path(app, job)
        write_atomically(path, payload)
        job.state, job.stage = "done", "done"
    except Exception as exc:  # the status page reports it; nothing to re-raise to
        job.state = "failed"
        job.error = type(exc).__name__
        app.logger.exception("report job %s failed", job.token)
    job.finished = time.time()
    _save(app, job)


def wait(app: Flask, job: Job, user_id: int, timeout: float = 30.0) -> Job | None:
    """Poll until the job is finished (tests and the command line)."""
    deadline = time.monotonic() + timeout
    current: Job | None = job
    while time.monotonic() < deadline:
        current = get(app, job.token, user_id)
        if current is None or current.state != "running":
            return current
        time.sleep(0.05)
    return current
