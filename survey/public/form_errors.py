"""The summary at the top of a form sent back with errors: which questions, by number.

"Còn 2 câu chưa trả lời: câu 15, câu 24", each a link to its question, so a
citizen on a long page finds them without JavaScript.  The numbers are the
ones the form shows ("Câu 15/24"), from ``Questionnaire.item_numbers``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from questionnaires.model import Questionnaire
from survey.services.form_check import SECTOR_FIELD


@dataclass(frozen=True)
class Link:
    anchor: str  # the id of the question's fieldset or field
    label: object  # lazy text


@dataclass(frozen=True)
class Summary:
    missing: tuple[Link, ...]  # required questions left without an answer
    other: tuple[Link, ...]  # answers that are there but not accepted

    @property
    def first(self) -> Link:
        return (self.missing + self.other)[0]


def summary(q: Questionnaire, errors: Mapping[str, object], values: Mapping) -> Summary | None:
    """The questions with an error, in page order; None when there are none."""
    if not errors:
        return None
    numbers = q.item_numbers()
    demographics = {d.code: d for d in q.demographics}
    missing, other = [], []
    if SECTOR_FIELD in errors:
        other.append(Link(f"q-{SECTOR_FIELD}", _l("câu hỏi về lĩnh vực")))
    for code, number in numbers.items():
        if code in errors:
            link = Link(f"q-{code}", _l("câu %(n)d", n=number))
            (missing if not values.get(code) else other).append(link)
    if "comment" in errors:
        other.append(Link("comment", _l("ý kiến")))
    for code, question in demographics.items():
        if code in errors:
            other.append(Link(f"q-{code}", question.label))
    if not missing and not other:
        return None
    return Summary(tuple(missing), tuple(other))
