"""Browser tests are slow; their fixtures are in tests/fixtures/browser.py."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    """Every browser test is slow: `./scripts/test -m "not slow"` is the fast loop."""
    for item in items:
        if ROOT in Path(item.fspath).parents:
            item.add_marker(pytest.mark.slow)
