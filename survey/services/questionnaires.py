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


class PublishError(ValueError):
    pass


def publish(session: Session, q: Questionnaire) -> tuple[QuestionnaireVersion, bool]:
    """Store a version; returns (row, created). Same version, other content: refused."""
    digest = content_hash(q)
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
        return row, False
    row = QuestionnaireVersion(
        qid=q.id,
        version=q.version,
        content_hash=digest,
        definition=json.dumps(to_dict(q), ensure_ascii=False, sort_keys=True),
    )
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


def for_desk(session: Session, desk: Desk) -> QuestionnaireVersion | None:
    """The desk's own assignment, else the nearest unit's, else the latest standard."""
    if desk.questionnaire_version_id is not None:
        return session.get(QuestionnaireVersion, desk.questionnaire_version_id)
    for unit in units.ancestors(desk.unit):
        if unit.questionnaire_version_id is not None:
            return session.get(QuestionnaireVersion, unit.questionnaire_version_id)
    return latest(session)
