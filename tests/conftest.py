"""The fixtures of the whole suite, registered once: see tests/README.md.

Plugin modules under tests/fixtures/ hold them; plain helpers and constants are
in tests/support.py (and tests/<package>/support.py), imported as modules."""

from __future__ import annotations

import os

from tests.databases import PG_ENV

pytest_plugins = [
    "tests.fixtures.app",
    "tests.fixtures.staff",
    "tests.fixtures.analysis",
    "tests.fixtures.questionnaires",
    "tests.fixtures.browser",
    "tests.fixtures.jobs",
]


def pytest_report_header(config):
    return f"survey test database: {'postgresql' if os.environ.get(PG_ENV) else 'sqlite'}"
