"""Background report jobs on a task queue (Huey), run by ``survey worker`` (docs/jobs.md).

A job is a row of ``report_jobs``: owner, selection, status, progress and,
once done, the finished file, so every web host reads the same state and
serves the same file.  The queue only carries the job's id: SQLite in the
instance folder by default (one host), Redis with ``SURVEY_QUEUE_URL`` (many).

A worker renews the job's heartbeat every ``HEARTBEAT`` seconds while it
runs.  A running job without a heartbeat for ``LEASE`` seconds belongs to a
worker that died (killed, restarted, out of memory): it is queued again once,
then failed with a message, when a status page is read or a worker checks.
A job belongs to the user who started it: anyone else gets a 404.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
import time
from dataclasses import fields, is_dataclass
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flask import Flask
from markupsafe import Markup
from sqlalchemy import delete, select, update
from sqlalchemy.orm import undefer

from survey import config
from survey.models import ReportJob
from survey.models._types import utcnow

log = logging.getLogger(__name__)

KEEP = timedelta(hours=24)
# Seconds: a heartbeat is written this often; a running job silent for LEASE is orphaned.
HEARTBEAT = 2.0
LEASE = 30.0
MAX_ATTEMPTS = 2
# A dashboard asked again within this time shows the job already made for it.
REUSE = timedelta(minutes=10)
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
TASK = "survey.report_job"
_EXTENSION = "survey.queue"
_DAYS = ("start", "end")


# --- the queue ---------------------------------------------------------------------
def queue_url(app: Flask) -> str:
    url = config.settings(app).QUEUE_URL
    return url or f"sqlite:///{Path(app.instance_path) / 'queue.sqlite3'}"


def queue(app: Flask):
    """The app's Huey and its report task (built on first use)."""
    url = queue_url(app)
    cached = app.extensions.get(_EXTENSION)
    if cached and cached[0] == url:
        return cached[1], cached[2]
    # Imported here: only the commands and pages that use jobs pay for it.
    from huey import RedisHuey, SqliteHuey, crontab

    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        path.parent.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey("survey", filename=str(path), results=False)
    else:
        huey = RedisHuey("survey", url=url, results=False)
    task = huey.task(name=TASK)(lambda token: execute(app, token))

    def check() -> None:
        recover(app)

    # Every minute in each worker: catches an orphan even when nobody reads its status page.
    huey.periodic_task(crontab(), name="survey.report_jobs_check")(check)

    def summarise() -> None:
        from survey.reports import rollup

        with app.extensions["survey.db"].session() as s:
            rollup.refresh(s, config.settings(app).TIMEZONE)

    # The closed months' summaries reports read (survey.services.rollup); two
    # workers racing for a month are decided by its primary key.
    huey.periodic_task(crontab(minute="*/5"), name="survey.rollup_refresh")(summarise)
    app.extensions[_EXTENSION] = (url, huey, task)
    return huey, task


def enqueue(app: Flask, token: str) -> bool:
    """Put the job on the queue; False (and the job failed) if the queue cannot be reached.

    The message is the job's token, not its id: a worker of another database
    sharing the queue by mistake finds no such job and does nothing.
    """
    try:
        _huey, task = queue(app)
        task(token)
        return True
    except Exception:
        log.exception("report job %s: queue %s unreachable", token[:6], queue_url(app))
        with app.extensions["survey.db"].session() as s:
            s.execute(
                update(ReportJob)
                .where(ReportJob.token == token, ReportJob.status == "queued")
                .values(status="failed", message="queue_unavailable", finished_at=utcnow())
            )
        return False


# --- state -------------------------------------------------------------------------
def encode_params(values: dict[str, Any], today: date, locale: str) -> str:
    data = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}
    return json.dumps(
        {"values": data, "today": today.isoformat(), "locale": locale}, sort_keys=True
    )


def decode_params(text: str) -> tuple[dict[str, Any], date, str]:
    data = json.loads(text)
    values = dict(data["values"])
    for key in _DAYS:
        if values.get(key):
            values[key] = date.fromisoformat(values[key])
    return values, date.fromisoformat(data["today"]), data["locale"]


def start(
    app: Flask,
    *,
    user_id: int,
    fmt: str,
    values: dict[str, Any],
    today: date,
    total: int,
    filename: str,
    kind: str = "export",
    locale: str = "vi",
) -> ReportJob:
    """Record the job for ``user_id`` and queue it; returns the job (status queued or failed)."""
    with app.extensions["survey.db"].session() as s:
        _cleanup(s)
        job = ReportJob(
            token=secrets.token_urlsafe(24),
            user_id=user_id,
            kind=kind,
            fmt=fmt,
            params=encode_params(values, today, locale),
            status="queued",
            stage="read",
            done=0,
            total=total,
            attempts=0,
            filename=filename,
            message="",
        )
        s.add(job)
    # Committed first: a worker may take it the moment it is queued.
    if not enqueue(app, job.token):
        job.status = "failed"
    return job


def reusable_dashboard(app: Flask, user_id: int, params: str) -> ReportJob | None:
    """The user's recent dashboard job for the same selection (a reload shows it again)."""
    since = utcnow() - REUSE
    with app.extensions["survey.db"].session() as s:
        return s.scalar(
            select(ReportJob)
            .where(
                ReportJob.user_id == user_id,
                ReportJob.kind == "dashboard",
                ReportJob.params == params,
                ReportJob.status.in_(("queued", "running", "done")),
                ReportJob.created_at >= since,
            )
            .order_by(ReportJob.id.desc())
            .limit(1)
        )


def get(app: Flask, token: str, user_id: int, *, with_result: bool = False) -> ReportJob | None:
    """The job, if it exists and belongs to ``user_id`` (orphans are settled first)."""
    if not TOKEN.match(token or ""):
        return None
    recover(app, cleanup=False)
    with app.extensions["survey.db"].session() as s:
        query = select(ReportJob).where(ReportJob.token == token)
        if with_result:
            query = query.options(undefer(ReportJob.result))
        job = s.scalar(query)
    return job if job is not None and job.user_id == user_id else None


def recover(app: Flask, *, cleanup: bool = True) -> None:
    """Re-queue (once) or fail the running jobs whose worker stopped renewing the lease."""
    now = utcnow()
    requeued = []
    with app.extensions["survey.db"].session() as s:
        if cleanup:
            _cleanup(s)
        stale = s.execute(
            select(ReportJob.id, ReportJob.token, ReportJob.attempts).where(
                ReportJob.status == "running",
                ReportJob.heartbeat_at < now - timedelta(seconds=LEASE),
            )
        ).all()
        for job_id, token, attempts in stale:
            retry = attempts < MAX_ATTEMPTS
            # Conditional: two hosts settling the same orphan act once.
            changed = s.execute(
                update(ReportJob)
                .where(
                    ReportJob.id == job_id,
                    ReportJob.status == "running",
                    ReportJob.attempts == attempts,
                )
                .values(
                    status="queued" if retry else "failed",
                    stage="read",
                    done=0,
                    message="worker_lost",
                    finished_at=None if retry else now,
                )
            ).rowcount
            if changed and retry:
                requeued.append(token)
            if changed:
                log.warning(
                    "report job %s: worker lost (%s)", job_id, "re-queued" if retry else "failed"
                )
    for token in requeued:
        enqueue(app, token)


def requeue_waiting(app: Flask) -> int:
    """Queue every waiting job again (at worker start): a queue emptied by a restart
    loses nothing.  A job queued twice runs once: only one worker can claim it."""
    with app.extensions["survey.db"].session() as s:
        tokens = list(s.scalars(select(ReportJob.token).where(ReportJob.status == "queued")))
    return sum(enqueue(app, token) for token in tokens)


def _cleanup(session) -> None:
    session.execute(delete(ReportJob).where(ReportJob.created_at < utcnow() - KEEP))


def wait(app: Flask, job: ReportJob, user_id: int, timeout: float = 120.0) -> ReportJob | None:
    """Poll until the job is finished (tests and the command line)."""
    deadline = time.monotonic() + timeout
    current: ReportJob | None = job
    while time.monotonic() < deadline:
        current = get(app, job.token, user_id)
        if current is None or current.status in ("done", "failed"):
            return current
        time.sleep(0.1)
    return current


# --- the worker side ---------------------------------------------------------------
def execute(app: Flask, token: str) -> None:
    """Run one job (inside ``survey worker``): claim it, build it, store the file."""
    database = app.extensions["survey.db"]
    now = utcnow()
    with database.session() as s:
        claimed = s.execute(
            update(ReportJob)
            .where(ReportJob.token == token, ReportJob.status == "queued")
            .values(
                status="running",
                stage="read",
                done=0,
                started_at=now,
                heartbeat_at=now,
                attempts=ReportJob.attempts + 1,
            )
        ).rowcount
        job = s.scalar(select(ReportJob).where(ReportJob.token == token)) if claimed else None
    if job is None:
        return  # already taken, finished or deleted, or not a job of this database
    job_id, attempt = job.id, job.attempts
    state = {"done": 0, "stage": "read"}
    mine = (ReportJob.id == job_id, ReportJob.status == "running", ReportJob.attempts == attempt)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT):
            try:
                with database.session() as s:
                    s.execute(
                        update(ReportJob)
                        .where(*mine)
                        .values(heartbeat_at=utcnow(), done=state["done"], stage=state["stage"])
                    )
            except Exception:  # a missed beat is retried; the lease allows several
                log.exception("report job %s: heartbeat failed", job_id)

    heart = threading.Thread(target=beat, name=f"report-job-{job_id}", daemon=True)
    heart.start()
    payload, status, message = None, "done", ""
    try:
        payload = _build(app, job, state)
    except Exception as exc:  # the status page reports it; nothing to re-raise to
        status, message = "failed", type(exc).__name__[:200]
        log.exception("report job %s failed", job_id)
    finally:
        stop.set()
        heart.join()
    with database.session() as s:
        s.execute(
            update(ReportJob)
            .where(*mine)
            .values(
                status=status,
                stage="done" if status == "done" else state["stage"],
                done=state["done"],
                result=payload,
                message=message,
                finished_at=utcnow(),
                heartbeat_at=utcnow(),
            )
        )


def _build(app: Flask, job: ReportJob, state: dict) -> bytes:
    from flask_babel import force_locale, gettext

    from survey.models import User
    from survey.reports import dashboard, export
    from survey.reports.build import build

    values, today, locale = decode_params(job.params)

    def progress(rows: int) -> None:
        state["done"] += rows

    # A request context gives gettext its catalogue; nothing else is read from it.
    with app.test_request_context(), force_locale(locale):
        with app.extensions["survey.db"].session() as session:
            user = session.get(User, job.user_id)
            action = "results.view" if job.kind == "dashboard" else "results.export"
            report = build(session, user, today=today, action=action, progress=progress, **values)
            state["stage"] = "render"
            if job.kind == "export":
                return export.render(session, report, job.fmt)
            model = dashboard.dashboard(report, locale, gettext)
            result = {
                "model": _encode(model),
                "weighted": bool(report.weighted),
                "volume_units": sorted({c.unit for c in report.treated_cells if c.unit}),
            }
            return json.dumps(result, default=str).encode()


# --- dashboard results: JSON, keeping the charts' markup and the rows' attributes ---
def _encode(value: Any) -> Any:
    if isinstance(value, Markup):
        return {"$markup": str(value)}
    if is_dataclass(value) and not isinstance(value, type):
        return {"$row": {f.name: _encode(getattr(value, f.name)) for f in fields(value)}}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if value.keys() == {"$markup"}:
            return Markup(value["$markup"])
        if value.keys() == {"$row"}:
            return SimpleNamespace(**{k: _decode(v) for k, v in value["$row"].items()})
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def dashboard_result(job: ReportJob) -> dict:
    """The stored dashboard: ``model`` as the template reads it, ``weighted``, ``volume_units``."""
    data = json.loads(job.result or b"{}")
    data["model"] = _decode(data.get("model", {}))
    return data
