"""Migration 0014 moves the answers onto the response row, and back, losing nothing."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from survey import migrate
from survey.db import make_engine


def test_answers_survive_the_move_both_ways(demo_db_url):
    engine = make_engine(demo_db_url)
    try:
        with engine.connect() as conn:
            packed = dict(conn.execute(text("SELECT id, answers FROM responses")).all())
        command.downgrade(migrate.alembic_config(demo_db_url), "0013")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT response_id, item_code, value FROM answers")).all()
            columns = conn.execute(text("SELECT * FROM responses LIMIT 1")).keys()
        # One row per answered or N/A item, none for an unanswered one.
        assert len(rows) == sum(len(s.replace("0", "")) for s in packed.values())
        assert "answers" not in columns
        nulls = sum(1 for r in rows if r.value is None)
        assert nulls == sum(s.count("6") for s in packed.values()) > 0
        migrate.upgrade(demo_db_url)
        with engine.connect() as conn:
            again = dict(conn.execute(text("SELECT id, answers FROM responses")).all())
            tables = conn.execute(
                text(
                    "SELECT count(*) FROM information_schema.tables WHERE table_name = 'answers'"
                    if engine.dialect.name == "postgresql"
                    else "SELECT count(*) FROM sqlite_master WHERE name = 'answers'"
                )
            ).scalar()
    finally:
        engine.dispose()
    assert len(packed) > 2000
    assert again == packed  # every response, every item, in its version's order
    assert tables == 0
