"""Errors raised while reading questionnaire definitions."""

from __future__ import annotations


class QuestionnaireError(ValueError):
    """A definition is invalid.

    ``problems`` lists every problem found, each a self-contained message that
    names the file, where in it (key path, with criterion/item codes) and what is
    wrong, so an officer can fix a file in one pass instead of one error at a time.
    """

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class QuestionnaireNotFound(LookupError):
    """No definition with the requested id (and version)."""
