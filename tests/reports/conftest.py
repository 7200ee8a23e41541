"""Report tests run on the demo's fixed "today" (helpers are in tests/support.py)."""

from __future__ import annotations

import pytest

from tests.support import TODAY


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch):
    """Pages and commands take "today" from the local clock: pin it to the demo's."""
    monkeypatch.setattr("survey.clock.local_today", lambda _tz: TODAY)
