"""The random key of each local day, for the abuse hashes, destroyed after two days.

A response keeps a hash of its client address and of its device cookie
(``submission.daily_hash``) so that the same day's burst and per-device
checks can count without storing either. Made under the deployment secret,
those hashes could be recomputed from an address by anyone holding it, which
makes them pseudonymised personal data (Luật Bảo vệ dữ liệu cá nhân
91/2025/QH15). So each local day has a random key of its own, kept in
``hash_keys`` only while the abuse checks need it (today and yesterday,
``KEEP_DAYS``). Once it is deleted and the day's hashes are nulled, nobody can
link a stored response to an address or a device any more.

The key is created by the first submission of the day. Two workers may race
to it: INSERT ... ON CONFLICT DO NOTHING, then SELECT, so both use the row
that won. The worker whose insert won purges in the same transaction (older
keys deleted, older hashes nulled): a running server purges once a day with
no cron. ``survey privacy purge`` does the same on demand.
"""

from __future__ import annotations

import secrets
import threading
import weakref
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from survey.models import HashKey, Response
from survey.models._types import utcnow

# The abuse window in local days: today's key and yesterday's (a burst or a
# device's day may straddle midnight for the checks that look back minutes).
KEEP_DAYS = 2

# engine -> (day, key): today's key without a query per submission. Keyed by
# engine so that several apps in one process never share keys.
_cache: weakref.WeakKeyDictionary[Engine, tuple[date, str]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


@dataclass(frozen=True)
class Purged:
    before: date  # keys and hashes of days before this one are gone
    keys: int  # day keys deleted
    responses: int  # responses whose hashes were nulled


def first_kept_day(today: date) -> date:
    return today - timedelta(days=KEEP_DAYS - 1)


def key_for_day(session: Session, day: date) -> str:
    """The key of ``day`` (the local day of a submission now), created on first use.

    PostgreSQL: on a connection of its own, committed before the response
    that uses it is written (that write commits by itself, see
    ``response_writer``), so a key is never lost under a stored hash.
    SQLite: in the session's transaction, which the response's write commits;
    a separate connection could wait on a lock the session holds.
    """
    bind = session.get_bind()
    hit = _cache.get(bind)
    if hit is not None and hit[0] == day:
        return hit[1]
    if bind.dialect.name == "postgresql":
        with bind.begin() as conn:
            key, _created = _get_or_create(conn, day)
        _remember(bind, day, key)
        return key
    key, created = _get_or_create(session.connection(), day)
    if not created:  # a created one is cached once committed (the next call reads it)
        _remember(bind, day, key)
    return key


def stored_key(session: Session, day: date) -> str | None:
    """The key of ``day`` if it still exists (never creates one)."""
    return session.scalar(select(HashKey.key).where(HashKey.day == day))


def purge(session: Session, today: date) -> Purged:
    """Delete the keys of days out of the window and null those days' hashes.

    In the caller's transaction; idempotent (a second run changes nothing).
    """
    result = _purge(session.connection(), today)
    with _lock:
        _cache.pop(session.get_bind(), None)
    return result


def _remember(bind: Engine, day: date, key: str) -> None:
    with _lock:
        _cache[bind] = (day, key)


def _get_or_create(conn: Connection, day: date) -> tuple[str, bool]:
    key = conn.scalar(select(HashKey.key).where(HashKey.day == day))
    if key is not None:
        return key, False
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    # RETURNING, not rowcount: a row back means this insert won.
    created = (
        conn.execute(
            dialect_insert(HashKey.__table__)
            .values(day=day, key=secrets.token_hex(32), created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["day"])
            .returning(HashKey.__table__.c.day)
        ).first()
        is not None
    )
    if created:  # the first submission of the day: the day's purge
        _purge(conn, day)
    # The winner's row: ours, or (PostgreSQL) the concurrent one our insert waited for.
    return conn.scalar(select(HashKey.key).where(HashKey.day == day)), created


def _purge(conn: Connection, today: date) -> Purged:
    before = first_kept_day(today)
    keys = conn.execute(delete(HashKey.__table__).where(HashKey.day < before)).rowcount
    responses = conn.execute(
        update(Response.__table__)
        .where(
            Response.day < before,
            or_(Response.client_hash.is_not(None), Response.device_hash.is_not(None)),
        )
        .values(client_hash=None, device_hash=None)
    ).rowcount
    return Purged(before, keys, responses)
