"""Database engine, session and the declarative base.

The web app uses one session per request (``get_session``), committed once
when the view succeeds and rolled back otherwise (``survey/web_db.py``), and
always closed at teardown.  CLI commands (one transaction each) and tests use
``Database.session()`` directly.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Stable constraint names, so Alembic can alter and drop them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # Enforce foreign keys (off by default in SQLite), let readers and one
    # writer work together (WAL) and wait for a lock instead of failing at once.
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


# A pooled connection that sat idle may have been cut (database restart,
# firewall timeout), so it is pinged before use, and replaced if dead. One in
# steady use is not: ``pool_pre_ping`` would spend a round trip (~0.15 ms of
# CPU on each side) on every request. If a busy connection dies, the error
# itself is detected as a disconnect, SQLAlchemy drops the whole pool, and
# idempotent work (storing a submission) retries once.
IDLE_BEFORE_PING = 2.0  # seconds
_CHECKED_IN = "survey.checked_in"


def _note_checkin(_dbapi_conn, record) -> None:
    record.info[_CHECKED_IN] = time.monotonic()


def _ping_if_idle(dbapi_conn, record, _proxy) -> None:
    last = record.info.get(_CHECKED_IN)
    if last is None or time.monotonic() - last < IDLE_BEFORE_PING:
        return  # new, or in steady use
    try:
        cursor = dbapi_conn.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_conn.rollback()  # hand it out idle, not inside the ping's transaction
    except Exception as exc:  # any failure: the pool connects afresh and retries
        raise DisconnectionError(f"idle connection is dead: {exc}") from exc


def make_engine(url: str, echo: bool = False) -> Engine:
    if url.startswith("postgresql://"):
        # Use psycopg 3, not the psycopg2 default of the bare scheme.
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, echo=echo, pool_size=5, max_overflow=10)
    event.listen(engine, "checkout", _ping_if_idle)
    event.listen(engine, "checkin", _note_checkin)
    return engine


class Database:
    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
