"""Database constraints that protect the data whatever the code does."""

from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError

from survey.models import Desk, QuestionnaireVersion, Response, Unit


def _unit_desk(session, code="D1"):
    unit = Unit(code="U1", name="Phường Một", kind="ward")
    desk = Desk(unit=unit, code=code, name="Quầy 1")
    qv = QuestionnaireVersion(qid="standard", version=1, content_hash="x", definition="{}")
    session.add_all([unit, desk, qv])
    session.flush()
    return unit, desk, qv


def _response(unit, desk, qv, sid):
    return Response(
        submission_id=sid,
        desk_id=desk.id,
        unit_id=unit.id,
        questionnaire_version_id=qv.id,
        day=date(2026, 11, 22),
    )


def test_duplicate_desk_code_is_refused(db):
    with pytest.raises(IntegrityError):
        with db.session() as s:
            unit, _desk, _qv = _unit_desk(s)
            s.add(Desk(unit=unit, code="D1", name="Quầy 2"))
            s.flush()


def test_duplicate_submission_id_is_refused(db):
    with db.session() as s:
        unit, desk, qv = _unit_desk(s)
        s.add(_response(unit, desk, qv, "sub-1"))
    with pytest.raises(IntegrityError):
        with db.session() as s:
            s.add(_response(unit, desk, qv, "sub-1"))
    with db.session() as s:
        assert s.query(Response).count() == 1


def test_answer_value_outside_scale_is_refused(db):
    with pytest.raises(IntegrityError):
        with db.session() as s:
            unit, desk, qv = _unit_desk(s)
            r = _response(unit, desk, qv, "sub-2")
            r.answers = "547"  # 7 is no answer code (0 blank, 1..5, 6 N/A)
            s.add(r)
            s.flush()


def test_desk_must_belong_to_an_existing_unit(db):
    with pytest.raises(IntegrityError):
        with db.session() as s:
            s.add(Desk(unit_id=9999, code="ZZ", name="Quầy ma"))
            s.flush()
