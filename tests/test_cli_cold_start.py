"""`survey --help` and the database commands start without pandas and scipy (issue 20)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from survey.cli import analysis as deferred
from tests.support import ROOT, TEST_SECRET

HEAVY = ("pandas", "scipy", "numpy")
PROBE = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('HEAVY', sorted(m for m in {heavy!r} if m in sys.modules)))\n"
    "from survey.cli import main\n"
    "main()\n"
)


def _survey(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_")}
    env.update(SURVEY_DATABASE_URL=url, SURVEY_SECRET_KEY=TEST_SECRET, SURVEY_ENV="testing")
    code = PROBE.format(heavy=HEAVY)
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True
    )


@pytest.mark.parametrize("args", [("--help",), ("desks", "list")])
def test_commands_without_statistics_start_without_pandas(demo_db_url, args):
    done = _survey(demo_db_url, *args)
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout
    if args == ("--help",):
        assert "analyze" in done.stdout and "responses" in done.stdout


def test_plan_still_runs_the_real_command(demo_db_url):
    done = _survey(demo_db_url, "plan", "--target", "0.85", "--expected", "0.88")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1053 responses")
    assert "'pandas'" in done.stdout  # imported on demand, by the command that uses it


@pytest.mark.parametrize("limit", [45, 80])
def test_the_listed_help_of_the_deferred_commands_is_the_real_one(limit):
    for command in deferred.COMMANDS:
        assert command.get_short_help_str(limit) == command.real().get_short_help_str(limit)
