"""Alembic: one head, and an upgraded database matches the models exactly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from survey.db import Base, make_engine
from survey.migrate import heads


def test_exactly_one_head():
    assert len(heads()) == 1


def test_upgraded_schema_has_no_drift_from_models(empty_db_url):
    engine = make_engine(empty_db_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert diff == []
    assert {
        "units",
        "desks",
        "responses",
        "targets",
        "volumes",
        "users",
        "audit_events",
        "questionnaire_versions",
    } <= tables


def test_sqlite_pragmas(db):
    if not db.is_sqlite:
        return
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
