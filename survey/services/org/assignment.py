"""Which published questionnaire a unit (inherited down the tree) or a desk serves."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import Desk, QuestionnaireVersion, Unit
from survey.services import access
from survey.services.access import Actor
from survey.services.org import OrgError, record
from survey.services.org.desks import desk_snapshot
from survey.services.org.units import unit_snapshot


def published_versions(session: Session) -> list[QuestionnaireVersion]:
    return list(
        session.scalars(
            select(QuestionnaireVersion).order_by(
                QuestionnaireVersion.qid, QuestionnaireVersion.version.desc()
            )
        )
    )


def assign_questionnaire(
    session: Session, user: Actor, target: Unit | Desk, version_id: int | None
) -> None:
    """Serve this published version at the unit (inherited down) or desk; None inherits."""
    is_desk = isinstance(target, Desk)
    unit_id = target.unit_id if is_desk else target.id
    access.require(user, "questionnaire.assign", unit_id)
    if version_id is not None and session.get(QuestionnaireVersion, version_id) is None:
        raise OrgError("version", "unknown_version")
    if target.questionnaire_version_id == version_id:
        return
    snapshot = desk_snapshot if is_desk else unit_snapshot
    before = snapshot(session, target)
    target.questionnaire_version_id = version_id
    session.flush()
    entity = "desk" if is_desk else "unit"
    record(
        session,
        user,
        f"{entity}.assign_questionnaire",
        entity,
        target.id,
        before,
        snapshot(session, target),
    )
