"""Migration 0013 turns the stored comments into cases: codes, due days, statuses."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from survey import migrate
from survey.db import make_engine


def test_old_comments_get_codes_and_resolved_ones_are_closed_with_a_reason(demo_db_url):
    command.downgrade(migrate.alembic_config(demo_db_url), "0012")
    engine = make_engine(demo_db_url)
    try:
        with engine.begin() as conn:
            first = conn.execute(text("SELECT min(id) FROM comments")).scalar()
            conn.execute(
                text("UPDATE comments SET status = 'resolved' WHERE id = :id"), {"id": first}
            )
        migrate.upgrade(demo_db_url)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, tracking_code, due_on, status, close_reason FROM comments")
            ).all()
    finally:
        engine.dispose()
    assert len(rows) > 10
    codes = [r.tracking_code for r in rows]
    assert all(c and c.startswith("PA-") and len(c) == 10 for c in codes)
    assert len(set(codes)) == len(codes) and all(r.due_on is not None for r in rows)
    [closed] = [r for r in rows if r.id == first]
    assert closed.status == "closed" and closed.close_reason
    assert {r.status for r in rows} <= {"new", "in_progress", "answered", "closed"}
