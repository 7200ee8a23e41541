"""Background jobs on the queue, run by a real `survey worker` process (docs/jobs.md)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from survey.models import ReportJob
from survey.models._types import utcnow
from survey.reports import fmt, jobs

INDEX = re.compile(r'<p class="index">([^<]+)</p>')
PERIOD = "from=2026-01-01&to=2026-10-31"
SMALL_BUDGET = {"REPORTS_DASHBOARD_MAX_RESPONSES": 100}


def _token(resp) -> str:
    assert resp.status_code == 303, resp.status_code
    return resp.headers["Location"].rsplit("/", 1)[1]


def _row(db, token: str) -> ReportJob:
    with db.session() as s:
        return s.scalar(select(ReportJob).where(ReportJob.token == token))


@pytest.mark.parametrize("settings_overrides", [SMALL_BUDGET])
def test_a_dashboard_above_the_budget_is_built_by_the_worker(
    analyst, demo_app, demo_db, world, sign_in_as, worker
):
    expected = fmt.pct(
        analyst.get(f"/staff/reports/export.json?{PERIOD}").get_json()["overall"]["estimate"]
    )
    token = _token(analyst.get(f"/staff/reports?{PERIOD}"))
    # Asked again (a reload, a second tab): the same job, not another one.
    assert _token(analyst.get(f"/staff/reports?{PERIOD}")) == token
    first = analyst.get(f"/staff/reports/jobs/{token}")
    assert first.status_code == 200
    if "Refresh" in first.headers:  # not finished yet: the progress page
        assert "Tiến độ tính bảng kết quả" in first.get_data(as_text=True)
    uid = world.users["cr_analyst"]
    job = jobs.wait(demo_app, jobs.get(demo_app, token, uid), uid)
    assert job.status == "done" and job.kind == "dashboard", worker.output()
    page = analyst.get(f"/staff/reports/jobs/{token}")
    assert page.status_code == 200 and "Refresh" not in page.headers
    html = page.get_data(as_text=True)
    # The same dashboard as built inline: figures, charts, sections, the export links.
    assert INDEX.search(html).group(1) == expected
    assert "Phường Cam Ranh" in html and "01/01/2026 – 31/10/2026" in html
    for section in ("Sáu tiêu chí", "Xu hướng theo tháng", "Xếp hạng: Quầy"):
        assert section in html
    assert "<svg" in html and "<polygon" in html and "&lt;svg" not in html
    assert "export.pdf" in html
    # A dashboard is not a file; and nobody else sees it.
    assert analyst.get(f"/staff/reports/jobs/{token}/file").status_code == 404
    sign_in_as("analyst", "KH-NHATRANG", client=analyst)
    assert analyst.get(f"/staff/reports/jobs/{token}").status_code == 404


@pytest.mark.parametrize("settings_overrides", [SMALL_BUDGET])
def test_a_small_selection_is_still_built_inline(analyst, demo_db):
    # One desk on one day: under the budget, so the page itself answers.
    resp = analyst.get("/staff/reports?from=2026-10-01&to=2026-10-01")
    assert resp.status_code == 200 and "01/10/2026 – 01/10/2026" in resp.get_data(as_text=True)
    with demo_db.session() as s:
        assert s.scalar(select(ReportJob.id)) is None


def _summarise(db) -> None:
    from survey.reports import rollup

    with db.session() as s:
        assert rollup.refresh(s, "Asia/Ho_Chi_Minh")


@pytest.mark.parametrize("settings_overrides", [SMALL_BUDGET])
def test_summarised_months_count_by_their_cells_not_their_responses(analyst, demo_db):
    """Once January to October are summarised the same dashboard reads no live
    responses: under a 100-response budget it is built inline."""
    assert analyst.get(f"/staff/reports?{PERIOD}").status_code == 303  # a job, before
    _summarise(demo_db)
    resp = analyst.get(f"/staff/reports?{PERIOD}")
    assert resp.status_code == 200 and "01/01/2026 – 31/10/2026" in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    "settings_overrides",
    [{"REPORTS_DASHBOARD_MAX_RESPONSES": 100, "REPORTS_DASHBOARD_MAX_CELLS": 10}],
)
def test_a_dashboard_of_many_summarised_cells_is_still_a_job(analyst, demo_db):
    _summarise(demo_db)
    resp = analyst.get(f"/staff/reports?{PERIOD}", follow_redirects=False)
    assert resp.status_code == 303 and "/staff/reports/jobs/" in resp.headers["Location"]


@pytest.mark.parametrize("settings_overrides", [{"REPORTS_INLINE_MAX_RESPONSES": 100}])
def test_a_killed_worker_leaves_no_job_running(
    demo_app, demo_client, demo_db, world, nocsrf, sign_in_as, worker_factory, monkeypatch
):
    sign_in_as("admin", "KH")
    first = worker_factory().start()
    token = _token(demo_client.post("/staff/reports/jobs", data={"fmt": "xlsx", "unit": "KH"}))
    deadline = time.monotonic() + 60
    while _row(demo_db, token).status == "queued" and time.monotonic() < deadline:
        time.sleep(0.02)
    first.kill()  # mid-job: no handler, no clean-up
    job = _row(demo_db, token)
    assert job.status == "running", "the job finished before the worker could be killed"
    # The web side settles it once the lease is over (here: at once).
    monkeypatch.setattr(jobs, "LEASE", 0.0)
    page = demo_client.get(f"/staff/reports/jobs/{token}")
    assert page.status_code == 200 and "Refresh" in page.headers
    assert "Máy xử lý nền đã dừng giữa chừng" in page.get_data(as_text=True)
    assert _row(demo_db, token).status == "queued"
    # A new worker picks it up again and finishes it.
    monkeypatch.setattr(jobs, "LEASE", 30.0)
    second = worker_factory().start()
    uid = world.users["admin"]
    done = jobs.wait(demo_app, jobs.get(demo_app, token, uid), uid)
    assert done.status == "done" and done.attempts == 2, second.output()
    with demo_client.get(f"/staff/reports/jobs/{token}/file") as resp:
        assert resp.status_code == 200 and resp.data.startswith(b"PK")


def test_a_job_orphaned_twice_fails_with_a_message(demo_app, demo_db, world, analyst):
    with demo_db.session() as s:
        job = ReportJob(
            token="t" * 32,
            user_id=world.users["cr_analyst"],
            kind="export",
            fmt="pdf",
            params=jobs.encode_params({}, utcnow().date(), "vi"),
            status="running",
            stage="read",
            done=0,
            total=10,
            attempts=jobs.MAX_ATTEMPTS,
            filename="bao-cao.pdf",
            message="",
            heartbeat_at=utcnow() - timedelta(seconds=jobs.LEASE + 1),
        )
        s.add(job)
    page = analyst.get(f"/staff/reports/jobs/{'t' * 32}")
    assert page.status_code == 200 and "Refresh" not in page.headers
    assert "đã dừng hai lần" in page.get_data(as_text=True)
    row = _row(demo_db, "t" * 32)
    assert row.status == "failed" and row.message == "worker_lost" and row.finished_at
    # A live job (a recent heartbeat) is left alone.
    with demo_db.session() as s:
        s.execute(
            update(ReportJob)
            .where(ReportJob.token == "t" * 32)
            .values(status="running", heartbeat_at=utcnow(), finished_at=None)
        )
    analyst.get(f"/staff/reports/jobs/{'t' * 32}")
    assert _row(demo_db, "t" * 32).status == "running"


@pytest.mark.parametrize(
    "settings_overrides",
    [{"REPORTS_INLINE_MAX_RESPONSES": 100, "QUEUE_URL": "redis://127.0.0.1:1/0"}],
)
def test_an_unreachable_queue_is_a_failed_job_not_a_500(analyst, demo_db, nocsrf):
    resp = analyst.post(
        "/staff/reports/jobs", data={"fmt": "pdf", "unit": "KH-CAMRANH", "from": "2026-01-01"}
    )
    page = analyst.get(f"/staff/reports/jobs/{_token(resp)}")
    assert page.status_code == 200
    assert "Không tạo được báo cáo" in page.get_data(as_text=True)
    with demo_db.session() as s:
        assert s.scalar(select(ReportJob.message)) == "queue_unavailable"


def test_old_jobs_are_deleted_when_a_job_starts(demo_app, demo_db, world):
    old = utcnow() - jobs.KEEP - timedelta(minutes=1)
    with demo_db.session() as s:
        s.add(
            ReportJob(
                token="o" * 32,
                user_id=world.users["cr_analyst"],
                kind="export",
                fmt="pdf",
                params="{}",
                status="done",
                stage="done",
                filename="x.pdf",
                message="",
                created_at=old,
                result=b"%PDF",
            )
        )
    jobs.recover(demo_app)
    assert _row(demo_db, "o" * 32) is None


def _queued_export(db, user_id: int) -> str:
    """A job recorded as waiting whose queue message is gone (a queue restarted empty)."""
    with db.session() as s:
        s.add(
            ReportJob(
                token="q" * 32,
                user_id=user_id,
                kind="export",
                fmt="json",
                params=jobs.encode_params({"unit": "KH-CAMRANH"}, utcnow().date(), "vi"),
                status="queued",
                filename="bao-cao.json",
                message="",
            )
        )
    return "q" * 32


def test_a_starting_worker_runs_the_jobs_its_queue_lost(demo_app, demo_db, world, worker_factory):
    uid = world.users["cr_analyst"]
    token = _queued_export(demo_db, uid)
    worker = worker_factory().start()
    job = jobs.wait(demo_app, jobs.get(demo_app, token, uid), uid)
    assert job.status == "done", worker.output()
    assert b'"overall"' in jobs.get(demo_app, token, uid, with_result=True).result


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


REDIS = "redis://127.0.0.1:6379/15"


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
@pytest.mark.parametrize("settings_overrides", [{**SMALL_BUDGET, "QUEUE_URL": REDIS}])
def test_jobs_run_through_redis(analyst, demo_app, world, worker):
    token = _token(analyst.get(f"/staff/reports?{PERIOD}"))
    uid = world.users["cr_analyst"]
    job = jobs.wait(demo_app, jobs.get(demo_app, token, uid), uid)
    assert job.status == "done", worker.output()
    assert INDEX.search(analyst.get(f"/staff/reports/jobs/{token}").get_data(as_text=True))


def test_a_queue_url_of_another_kind_is_refused_by_name(tmp_path):
    from survey.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="SURVEY_QUEUE_URL"):
        load_settings({"QUEUE_URL": "amqp://127.0.0.1"}, environ={}, instance_path=tmp_path)
    ok = load_settings(
        {"QUEUE_URL": " redis://127.0.0.1:6379/1 "}, environ={}, instance_path=tmp_path
    )
    assert ok.QUEUE_URL == "redis://127.0.0.1:6379/1"
