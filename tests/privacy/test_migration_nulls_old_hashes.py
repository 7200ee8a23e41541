"""Migration 0009 drops the abuse hashes made under the deployment secret."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from survey import migrate
from survey.db import make_engine


def test_hashes_made_under_the_secret_do_not_survive_the_upgrade(demo_db_url):
    command.downgrade(migrate.alembic_config(demo_db_url), "0008")
    engine = make_engine(demo_db_url)
    try:
        with engine.begin() as conn:  # as 0008 stored them: HMACs under SURVEY_SECRET_KEY
            conn.execute(text("UPDATE responses SET client_hash = 'c0ffee', device_hash = 'beef'"))
            hashed = conn.execute(
                text("SELECT count(*) FROM responses WHERE client_hash IS NOT NULL")
            ).scalar()
        migrate.upgrade(demo_db_url)
        with engine.connect() as conn:
            left = conn.execute(
                text(
                    "SELECT count(*) FROM responses"
                    " WHERE client_hash IS NOT NULL OR device_hash IS NOT NULL"
                )
            ).scalar()
    finally:
        engine.dispose()
    assert hashed > 1000 and left == 0
