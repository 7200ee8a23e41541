"""Layer rules (docs/architecture.md, "Layers").

- ``analysis`` never imports Flask, SQLAlchemy or the survey web package;
- modules in ``survey/services/`` never import the results wing
  (``survey.reports``) or the views (``survey.staff``, ``survey.public``,
  ``survey.api``): the imports are read from the source with ``ast``, so an
  import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support import imported_modules

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "survey" / "services"
ABOVE_SERVICES = ("survey.reports", "survey.staff", "survey.public", "survey.api")


def test_no_web_imports():
    code = (
        "import sys, analysis, analysis.commands, analysis.engine, analysis.result;"
        "bad = sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'sqlalchemy', 'survey'});"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def forbidden(modules: set[str]) -> list[str]:
    return sorted(
        m for m in modules if any(m == p or m.startswith(p + ".") for p in ABOVE_SERVICES)
    )


def test_services_never_import_the_results_wing_or_the_views():
    files = sorted(SERVICES.rglob("*.py"))
    assert len(files) > 5
    bad = {str(p.relative_to(ROOT)): forbidden(imported_modules(p)) for p in files}
    assert {name: mods for name, mods in bad.items() if mods} == {}


def test_the_layer_check_sees_every_form_of_import(tmp_path):
    sample = tmp_path / "survey" / "services" / "sample.py"
    sample.parent.mkdir(parents=True)
    sample.write_text(
        "import survey.staff.views\n"
        "from survey import reports\n"
        "from ..public import board\n"
        "from . import access\n"
        "import survey.reportsx\n"
        "def late():\n"
        "    from survey.api.views import handler\n",
        encoding="utf-8",
    )
    assert forbidden(imported_modules(sample, tmp_path)) == [
        "survey.api.views",
        "survey.api.views.handler",
        "survey.public",
        "survey.public.board",
        "survey.reports",
        "survey.staff.views",
    ]
