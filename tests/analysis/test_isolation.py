"""analysis never imports Flask, SQLAlchemy or the survey web package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_web_imports():
    code = (
        "import sys, analysis, analysis.commands, analysis.engine, analysis.report;"
        "bad = sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'sqlalchemy', 'survey'});"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
