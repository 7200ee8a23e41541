"""Abuse defences that flag instead of deleting, rate limits, and privacy."""

import pytest
from sqlalchemy import select

from survey.models import Response
from tests.conftest import make_app
from tests.public.helpers import DESK, counts, full_answers


def _stored(db, sid):
    with db.session() as s:
        return s.scalar(select(Response).where(Response.submission_id == sid))


def test_honeypot_is_stored_but_flagged(demo_client, demo_db):
    data = full_answers(demo_client)
    data["website"] = "http://spam.example"
    assert demo_client.post(f"/s/{DESK}", data=data).status_code == 200
    assert _stored(demo_db, data["sid"]).quality_flags == "honeypot"


def test_many_from_one_device_in_a_day_are_flagged(demo_client, demo_db):
    flags = []
    for _ in range(7):
        data = full_answers(demo_client)
        assert demo_client.post(f"/s/{DESK}", data=data).status_code == 200
        flags.append(_stored(demo_db, data["sid"]).quality_flags)
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
