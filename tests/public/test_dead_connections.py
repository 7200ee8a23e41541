"""A database restart cuts every pooled connection; citizens must not notice.

PostgreSQL only (SQLite has no server connection to lose). The restart is
simulated by terminating every server process of the test database.
"""

import psycopg
import pytest
from sqlalchemy.engine import make_url

from survey import db as survey_db
from tests.databases import _pg_conninfo
from tests.support import DESK, counts, full_answers


@pytest.fixture
def kill_connections(demo_db):
    if demo_db.is_sqlite:
        pytest.skip("PostgreSQL only")
    url = make_url(demo_db.url)

    def kill() -> int:
        with psycopg.connect(_pg_conninfo(demo_db.url), autocommit=True) as admin:
            return admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (url.database,),
            ).fetchone()[0]

    return kill


def test_a_submission_right_after_a_restart_is_stored_once(demo_app, demo_db, kill_connections):
    client = demo_app.test_client()
    data = full_answers(client)  # the GET leaves a connection in the pool, just used
    before = counts(demo_db)
    assert kill_connections() >= 1
    # Too recently used to be pinged: the INSERT meets the dead connection,
    # and the store is retried once on a fresh one.
    assert client.post(f"/s/{DESK}", data=data).status_code == 200
    assert counts(demo_db)[0] == before[0] + 1
    assert client.post(f"/s/{DESK}", data=data).status_code == 200  # replay: nothing new
    assert counts(demo_db)[0] == before[0] + 1


def test_an_idle_connection_is_pinged_and_replaced(demo_app, kill_connections, monkeypatch):
    client = demo_app.test_client()
    assert client.get("/r/KH-CAMRANH").status_code == 200
    assert kill_connections() >= 1
    monkeypatch.setattr(survey_db, "IDLE_BEFORE_PING", 0.0)
    assert client.get("/r/KH-CAMRANH").status_code == 200


def test_a_busy_dead_connection_costs_one_request_not_more(demo_app, kill_connections):
    """Without a ping, a read-only page on a dead connection gets the 503 page
    once; SQLAlchemy then drops the whole pool and the next request is fine."""
    client = demo_app.test_client()
    assert client.get("/r/KH-CAMRANH").status_code == 200
    assert client.get("/r/KH-CAMRANH").status_code == 200  # two connections would be the same
    assert kill_connections() >= 1
    assert client.get("/r/KH-CAMRANH").status_code == 503
    assert client.get("/r/KH-CAMRANH").status_code == 200
