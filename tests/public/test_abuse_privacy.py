"""Abuse defences that flag instead of deleting, rate limits, and privacy."""

import pytest
from sqlalchemy import select

from survey.models import Response
from tests.support import DESK, counts, full_answers, make_app


def _stored(db, sid):
    with db.session() as s:
        return s.scalar(select(Response).where(Response.submission_id == sid))


def test_honeypot_is_stored_but_flagged(demo_client, demo_db):
    data = full_answers(demo_client)
    data["website"] = "http://spam.example"
    assert demo_client.post(f"/s/{DESK}", data=data).status_code == 200
    assert _stored(demo_db, data["sid"]).quality_flags == "honeypot"


def test_many_from_one_device_in_a_day_are_flagged(demo_client, demo_db):
    from sqlalchemy import update

    from survey.models._types import utcnow
    from survey.services.submission import BURST_WINDOW

    flags = []
    for _ in range(7):
        data = full_answers(demo_client)
        assert demo_client.post(f"/s/{DESK}", data=data).status_code == 200
        flags.append(_stored(demo_db, data["sid"]).quality_flags)
        # Spread over the day, so that the device's burst at the desk is not in play.
        with demo_db.session() as s:
            s.execute(
                update(Response)
                .where(Response.submission_id == data["sid"])
                .values(submitted_at=utcnow() - BURST_WINDOW * (8 - len(flags)))
            )
    assert flags[:5] == [""] * 5
    assert flags[5:] == ["device_repeat", "device_repeat"]


def test_no_raw_ip_is_stored(demo_client, demo_db):
    data = full_answers(demo_client)
    demo_client.post(f"/s/{DESK}", data=data, environ_base={"REMOTE_ADDR": "203.0.113.77"})
    r = _stored(demo_db, data["sid"])
    values = [str(getattr(r, c.key)) for c in Response.__table__.columns]
    assert r.client_hash and len(r.client_hash) == 32
    assert not any("203.0.113" in v for v in values)


def test_rate_limit_per_client(demo_client, demo_db):
    statuses = []
    for _ in range(22):
        data = full_answers(demo_client)
        statuses.append(demo_client.post(f"/s/{DESK}", data=data).status_code)
    assert statuses[:20] == [200] * 20
    assert statuses[20:] == [429, 429]


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_rate_limit_storage(demo_db_url, storage):
    uri = "memory://"
    if storage == "redis":
        redis = pytest.importorskip("redis")
        try:
            redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping()
        except redis.exceptions.ConnectionError:
            pytest.skip("no Redis on 127.0.0.1:6379")
        uri = "redis://127.0.0.1:6379/15"
        redis.Redis(host="127.0.0.1", port=6379, db=15).flushdb()
    app = make_app(demo_db_url, RATELIMIT_STORAGE_URI=uri)
    client = app.test_client()
    codes = [client.post(f"/s/{DESK}", data=full_answers(client)).status_code for _ in range(21)]
    assert codes.count(429) == 1 and codes[-1] == 429
    app.extensions["survey.db"].dispose()
    if storage == "redis":
        keys = redis.Redis(host="127.0.0.1", port=6379, db=15).keys("*")
        assert keys  # the counters really live in Redis
        redis.Redis(host="127.0.0.1", port=6379, db=15).flushdb()


def test_flagged_responses_are_kept(demo_client, demo_db):
    before = counts(demo_db)
    data = full_answers(demo_client)
    data["website"] = "x"
    demo_client.post(f"/s/{DESK}", data=data)
    assert counts(demo_db)[0] == before[0] + 1


def test_burst_from_one_network_at_one_desk_is_flagged(demo_db_url):
    """More than BURST_PER_NETWORK answers from one address at one desk in 10 minutes,
    each from a phone of its own."""
    from datetime import timedelta

    from sqlalchemy import update

    from survey.config import DEFAULTS
    from survey.models._types import utcnow
    from survey.services.submission import BURST_WINDOW
    from tests.support import SHORT_DESK

    app = make_app(demo_db_url, RATELIMIT_ENABLED=False)
    db = app.extensions["survey.db"]
    shared_wifi = {"REMOTE_ADDR": "198.51.100.7"}

    def post(code=DESK, website=""):
        client = app.test_client()  # a new phone each time: no device repeat
        data = {**full_answers(client, code), "website": website}
        assert client.post(f"/s/{code}", data=data, environ_base=shared_wifi).status_code == 200
        return data["sid"]

    first = [post() for _ in range(DEFAULTS["BURST_PER_NETWORK"])]
    assert {_stored(db, sid).quality_flags for sid in first} == {""}
    # Another desk of the same network is not part of this desk's burst.
    assert _stored(db, post(SHORT_DESK)).quality_flags == ""
    assert _stored(db, post()).quality_flags == "burst"
    assert _stored(db, post(website="x")).quality_flags == "honeypot,burst"
    # Once the earlier answers are older than the window, the burst is over.
    with db.session() as s:
        s.execute(
            update(Response)
            .where(Response.submission_id.in_(first))
            .values(submitted_at=utcnow() - BURST_WINDOW - timedelta(minutes=1))
        )
    assert _stored(db, post()).quality_flags == ""
    db.dispose()


def test_all_flags_together(demo_db_url):
    """One phone answering again and again at one desk, honeypot filled."""
    from survey.services.submission import DEVICE_BURST_LIMIT, DEVICE_DAY_LIMIT

    app = make_app(demo_db_url, RATELIMIT_ENABLED=False)
    db = app.extensions["survey.db"]
    client = app.test_client()
    env = {"REMOTE_ADDR": "198.51.100.8"}
    flags = []
    for _ in range(DEVICE_DAY_LIMIT + 1):
        data = {**full_answers(client), "website": "x"}
        assert client.post(f"/s/{DESK}", data=data, environ_base=env).status_code == 200
        flags.append(_stored(db, data["sid"]).quality_flags)
    assert flags[:DEVICE_BURST_LIMIT] == ["honeypot"] * DEVICE_BURST_LIMIT
    assert flags[DEVICE_BURST_LIMIT] == "honeypot,burst"
    assert flags[-1] == "honeypot,burst,device_repeat"
    db.dispose()


def test_burst_check_uses_its_index_on_sqlite(demo_db):
    """Every submission counts its network's recent answers at the desk; on a busy
    desk that must be an index range, not a scan of all the desk's responses."""
    if not demo_db.is_sqlite:
        pytest.skip("SQLite's planner; PostgreSQL plans from statistics")
    from sqlalchemy import text

    with demo_db.engine.connect() as conn:
        plan = conn.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT count(*) FROM responses WHERE client_hash = :c "
                "AND desk_id = :d AND submitted_at >= :t"
            ),
            {"c": "x", "d": 1, "t": "2026-01-01"},
        ).fetchall()
    assert "ix_responses_client_desk_time" in str(plan)
