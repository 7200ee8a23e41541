"""`survey worker`: run the background report jobs; `survey run` starts one beside the server.

The worker serves the queue of ``SURVEY_QUEUE_URL`` (SQLite in the instance
folder by default, Redis in production) and writes each job's progress and
file to the database (docs/jobs.md).  Stop it with SIGINT/SIGTERM; a job cut
off by SIGKILL is re-queued or failed once its lease runs out.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys

import click
from flask import current_app
from flask.cli import run_command as flask_run
from flask.cli import with_appcontext

from survey.reports import jobs

# The interpreter command that runs `survey worker` in a child process.
WORKER_ARGV = [sys.executable, "-c", "from survey.cli import main; main()", "worker"]


@click.command("worker")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1, 32))
@click.option(
    "--max-delay",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.05, 60),
    help="Longest pause (seconds) between two looks at an idle queue.",
)
@with_appcontext
def worker(threads: int, max_delay: float) -> None:
    """Run queued report jobs (exports, large dashboards) until stopped."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = current_app._get_current_object()
    huey, _task = jobs.queue(app)
    # Jobs orphaned by a worker that died are settled, and waiting jobs queued
    # again in case the queue lost them (a Redis restart), before new ones start.
    jobs.recover(app)
    jobs.requeue_waiting(app)
    click.echo(f"survey worker: queue {jobs.queue_url(app)}, {threads} thread(s)", err=True)
    consumer = huey.create_consumer(
        workers=threads,
        periodic=True,
        initial_delay=0.05,
        backoff=1.5,
        max_delay=max_delay,
    )
    consumer.run()


def _run_with_worker(worker: bool, **options) -> None:
    """Flask's development server, with a `survey worker` process beside it."""
    child = None
    # Under the reloader this runs twice; only the outer process (which lives
    # as long as the server) starts the worker, so reloads do not multiply it.
    if worker and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        child = subprocess.Popen(WORKER_ARGV)
        # SIGTERM (systemd, docker stop) must run the clean-up below too.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        click.get_current_context().invoke(flask_run, **options)
    finally:
        if child is not None:
            child.terminate()
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()


run = click.Command(
    "run",
    callback=_run_with_worker,
    params=[
        *flask_run.params,
        click.Option(
            ["--worker/--no-worker"],
            default=True,
            show_default=True,
            help="Also run `survey worker` for background reports.",
        ),
    ],
    help="Development server, with a background worker for large reports.",
)
