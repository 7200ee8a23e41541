"""Publishing questionnaire versions into the database and resolving a desk's one."""

from __future__ import annotations

import json
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from questionnaires.loader import content_hash, from_dict, to_dict
from questionnaires.model import Questionnaire
from survey.models import Desk, QuestionnaireVersion, Response
from survey.services import units

# Served where neither the desk nor any unit above it chose a form: the short
# one (the desk poster promises about a minute), else the standard one.
SHORT_FORM = "short"
DEFAULT_FORMS = (SHORT_FORM, "standard")
# Case links are answered later, at home, once the result is known: they get
# the full form where the desk's QR code serves the short one.
LINK_FORM = "standard"


class PublishError(ValueError):
    pass


def publish(session: Session, q: Questionnaire) -> tuple[QuestionnaireVersion, bool]:
    """Store a version; returns (row, created). Same version, other content: refused.

    The same content with other annotations (``after_result``, left out of the
    hash) updates the stored definition: they say when an item is asked, not
    what an answer means, so the version stays the same.
    """
    digest = content_hash(q)
    stored = json.dumps(to_dict(q), ensure_ascii=False, sort_keys=True)
    row = session.scalar(
        select(QuestionnaireVersion).where(
            QuestionnaireVersion.qid == q.id, QuestionnaireVersion.version == q.version
        )
    )
    if row is not None:
        if row.content_hash != digest:
            n = session.scalar(
                select(func.count())
                .select_from(Response)
                .where(Response.questionnaire_version_id == row.id)
            )
            raise PublishError(
                f"questionnaire {q.id}@{q.version} is already published with different content "
                f"({n} responses answered it); published versions are immutable: "
                f"give the changed questionnaire version {q.version + 1} or higher"
            )
        if row.definition != stored:
            row.definition = stored
            session.flush()
        return row, False
    row = QuestionnaireVersion(qid=q.id, version=q.version, content_hash=digest, definition=stored)
    session.add(row)
    session.flush()
    return row, True


@lru_cache(maxsize=64)
def _parse(definition: str) -> Questionnaire:
    return from_dict(json.loads(definition))


def definition(row: QuestionnaireVersion) -> Questionnaire:
    """The model of a stored version (parsed once per process: rows are immutable)."""
    return _parse(row.definition)


def latest(session: Session, qid: str = "standard") -> QuestionnaireVersion | None:
    return session.scalar(
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.qid == qid)
        .order_by(QuestionnaireVersion.version.desc())
        .limit(1)
    )


def default(session: Session) -> QuestionnaireVersion | None:
    """What a desk serves when nothing above it chose: see ``DEFAULT_FORMS``."""
    for qid in DEFAULT_FORMS:
        row = latest(session, qid)
        if row is not None:
            return row
    return None


def for_desk(session: Session, desk: Desk) -> QuestionnaireVersion | None:
    """The desk's own assignment, else the nearest unit's, else the default form.

    A new desk or unit chooses nothing, so it inherits; at the top of the tree
    the default is the short form (``DEFAULT_FORMS``)."""
    if desk.questionnaire_version_id is not None:
        return session.get(QuestionnaireVersion, desk.questionnaire_version_id)
    for unit in units.ancestors(desk.unit):
        if unit.questionnaire_version_id is not None:
            return session.get(QuestionnaireVersion, unit.questionnaire_version_id)
    return default(session)


def for_link(session: Session, served: QuestionnaireVersion | None) -> QuestionnaireVersion | None:
    """The form a case link of a desk serving ``served`` asks: the latest standard
    one instead of the short one (``LINK_FORM``), else the desk's own."""
    if served is not None and served.qid == SHORT_FORM:
        return latest(session, LINK_FORM) or served
    return served
