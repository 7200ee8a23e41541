"""The deployment secret and, during a rotation, the one before it.

Everything we sign is signed with the current key only; whatever we verify
(sessions, submission ids, case links) is checked against the current key and
then ``SURVEY_SECRET_KEY_PREVIOUS``, so a rotation does not break what was
handed out just before it.  See docs/security.md.
"""

from __future__ import annotations

from survey.config import Settings


def verification_keys(settings: Settings) -> list[str]:
    """The keys to verify with: the current one first, then the previous one if set."""
    previous = settings.SECRET_KEY_PREVIOUS
    return [settings.SECRET_KEY, *([previous] if previous else [])]
