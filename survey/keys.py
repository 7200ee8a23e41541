"""The deployment secret and, during a rotation, the one before it.

Everything we sign is signed with the current key only; whatever we verify
(sessions, submission ids, case links) is checked against the current key and
then ``SURVEY_SECRET_KEY_PREVIOUS``, so a rotation does not break what was
handed out just before it.  See docs/security.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def verification_keys(settings: Mapping[str, Any]) -> list[str]:
    """The keys to verify with: the current one first, then the previous one if set."""
    previous = settings.get("SECRET_KEY_PREVIOUS") or ""
    return [settings["SECRET_KEY"], *([previous] if previous else [])]
