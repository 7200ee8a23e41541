"""Start-up time of `survey --help` and `survey desks list`, before and after lazy imports.

    .venv/bin/python -m bench.cli [--runs 7]

"after" is the command as it is. "before" replays the old start-up in the
same interpreter: ``analysis.commands`` imported with ``survey.cli`` (it was
imported at module level) and the whole app, views included, for every
command (``LIGHT_COMMANDS`` emptied). Each run is a fresh interpreter; the
table shows the median wall time and whether pandas was loaded. `desks list`
runs against a scratch SQLite database with the demo data.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "bench-cli-secret-key-0123456789abcdef0123"
# Prints to stderr whether pandas ended up imported, after the command ran.
TAIL = "import atexit, sys; atexit.register(lambda: print('PANDAS', 'pandas' in sys.modules, file=sys.stderr))"
AFTER = f"{TAIL}; from survey.cli import main; main()"
BEFORE = (
    f"{TAIL}; import analysis.commands; import survey.cli as c; "
    "c.LIGHT_COMMANDS = frozenset(); c.main()"
)


def _time(code: str, args: list[str], env: dict[str, str]) -> tuple[float, bool]:
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"survey {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return wall, "PANDAS True" in done.stderr


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="bench-cli-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_")}
    env.update(
        SURVEY_ENV="production",
        SURVEY_SECRET_KEY=SECRET,
        SURVEY_DATABASE_URL=f"sqlite:///{tmp}/cli.sqlite3",
    )
    try:
        for setup in (["db", "upgrade"], ["demo"]):
            _time(AFTER, setup, env)
        print(f"{'command':<22} {'before s':>9} {'after s':>8} {'pandas before/after':>20}")
        for command in (["--help"], ["desks", "list"]):
            walls: dict[str, list[float]] = {"before": [], "after": []}
            pandas: dict[str, bool] = {}
            for _ in range(args.runs):  # alternate, so drift hits both alike
                for label, code in (("before", BEFORE), ("after", AFTER)):
                    wall, loaded = _time(code, command, env)
                    walls[label].append(wall)
                    pandas[label] = loaded
            name = "survey " + " ".join(command)
            print(
                f"{name:<22} {statistics.median(walls['before']):>9.2f} "
                f"{statistics.median(walls['after']):>8.2f} "
                f"{str(pandas['before']).lower() + ' / ' + str(pandas['after']).lower():>20}"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
