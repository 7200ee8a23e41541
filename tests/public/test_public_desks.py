"""The per-process snapshot of poster codes: fresh after local edits, bounded staleness elsewhere."""

from sqlalchemy import select, text

from survey.models import Desk
from survey.services import public_desks
from tests.support import DESK


def _lookup(db, code=DESK):
    with db.session() as s:
        return public_desks.lookup(s, code)


def test_snapshot_carries_what_the_pages_need(demo_db):
    found = _lookup(demo_db, DESK.lower())
    desk = found.desk
    assert desk.code == DESK and desk.active and not found.replaced
    assert desk.unit.name and desk.unit.code and desk.unit_id == desk.unit.id
    assert desk.questionnaire.id == "short" and desk.version_id  # the default form


def test_unknown_and_junk_codes_are_not_cached(demo_db):
    assert _lookup(demo_db, "ZZZZZZZZ").desk is None
    assert _lookup(demo_db, "A'; DROP").desk is None
    assert _lookup(demo_db, "A" * 17).desk is None
    entries = public_desks._cache.get(demo_db.engine, {})
    assert "ZZZZZZZZ" not in entries


def test_an_edit_through_the_orm_is_seen_at_once(demo_db):
    assert _lookup(demo_db).desk.name != "Quầy mới"
    with demo_db.session() as s:
        s.scalar(select(Desk).where(Desk.code == DESK)).name = "Quầy mới"
    assert _lookup(demo_db).desk.name == "Quầy mới"


def test_a_rolled_back_edit_keeps_the_snapshot(demo_db):
    before = _lookup(demo_db).desk
    s = demo_db.sessionmaker()
    s.scalar(select(Desk).where(Desk.code == DESK)).name = "Không lưu"
    s.flush()
    s.rollback()
    s.close()
    assert _lookup(demo_db).desk is before


def test_another_process_edit_is_seen_within_the_ttl(demo_db, monkeypatch):
    """An UPDATE this process did not make (another worker's) shows after TTL_SECONDS."""
    clock = [1000.0]
    monkeypatch.setattr(public_desks.time, "monotonic", lambda: clock[0])
    assert _lookup(demo_db).desk.active
    with demo_db.engine.begin() as conn:  # Core: no ORM events, like another process
        conn.execute(text("UPDATE desks SET active = :f WHERE code = :c"), {"f": False, "c": DESK})
    clock[0] += public_desks.TTL_SECONDS - 1
    assert _lookup(demo_db).desk.active  # still the snapshot
    clock[0] += 2
    assert not _lookup(demo_db).desk.active
