"""The abuse hashes under a random key per day, destroyed after the window
(Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15): see docs/privacy.md."""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from survey.db import Database
from survey.models import HashKey, Response
from survey.services import hash_keys, submission
from tests.support import DESK, TEST_SECRET, make_app

CITIZEN = "203.0.113.77"
STORED = (200, 302, 303)  # the thanks page, or a redirect to it


@pytest.fixture
def app(demo_db_url):
    app = make_app(demo_db_url, RATELIMIT_ENABLED=False)
    yield app
    app.extensions["survey.db"].dispose()


def _db(app) -> Database:
    return app.extensions["survey.db"]


def _answers(client) -> dict[str, str]:
    """A new evaluation's form (following a redirect to it), every item answered."""
    html = client.get(f"/s/{DESK}?moi=1", follow_redirects=True).get_data(as_text=True)
    data = {
        name: re.search(rf'name="{name}" value="([^"]+)"', html).group(1)
        for name in ("csrf_token", "sid")
    }
    data.update(dict.fromkeys(re.findall(r'name="([A-Z]{2}\d*)" value="', html), "4"))
    return data


def _submit(client, addr=CITIZEN) -> str:
    data = _answers(client)
    status = client.post(f"/s/{DESK}", data=data, environ_base={"REMOTE_ADDR": addr}).status_code
    assert status in STORED
    return data["sid"]


def _row(app, sid: str) -> Response:
    with _db(app).session() as s:
        return s.scalar(select(Response).where(Response.submission_id == sid))


def _device(client) -> str:
    """The raw device id inside this browser's signed ``sv_dev`` cookie."""
    return client.get_cookie("sv_dev").value.split(".")[0]


def test_a_hash_links_to_its_address_only_while_the_day_key_exists(app):
    client = app.test_client()
    row = _row(app, _submit(client))
    day, device = row.day, _device(client)
    with _db(app).session() as s:
        key = hash_keys.stored_key(s, day)
    # Within the window the abuse checks can tell the same address again...
    assert key is not None
    assert row.client_hash == submission.daily_hash(key, "ip", CITIZEN, day)
    assert row.device_hash == submission.daily_hash(key, "device", device, day)
    # ...but the deployment secret no longer reproduces it.
    assert row.client_hash != submission.daily_hash(TEST_SECRET, "ip", CITIZEN, day)

    # Two days later the first answer of the day creates its key and purges.
    with _db(app).session() as s:
        hash_keys.key_for_day(s, day + timedelta(days=hash_keys.KEEP_DAYS))
    after = _row(app, row.submission_id)
    assert after.client_hash is None and after.device_hash is None
    with _db(app).session() as s:
        assert hash_keys.stored_key(s, day) is None
        remaining = s.scalars(select(HashKey.key)).all()
    assert remaining  # the new day's key
    # Nobody can redo the old hash now: no kept key nor the secret makes it.
    for candidate in [*remaining, TEST_SECRET]:
        for kind, value in (("ip", CITIZEN), ("device", device)):
            for d in (day, day + timedelta(days=1), day + timedelta(days=2)):
                made = submission.daily_hash(candidate, kind, value, d)
                assert made not in (row.client_hash, row.device_hash)


def test_yesterdays_hashes_are_kept_and_older_ones_nulled(app):
    client = app.test_client()
    today_sid, old_sid = _submit(client), _submit(client, "198.51.100.9")
    today = _row(app, today_sid).day
    with _db(app).session() as s:
        s.execute(
            update(Response)
            .where(Response.submission_id == old_sid)
            .values(day=today - timedelta(days=2))
        )
        done = hash_keys.purge(s, today + timedelta(days=1))
    assert done.before == today
    assert _row(app, today_sid).client_hash is not None  # "yesterday": still needed
    assert _row(app, old_sid).client_hash is None


def test_the_day_hash_is_stable_so_burst_and_device_cap_still_flag(app):
    client = app.test_client()
    sids = [_submit(client) for _ in range(submission.DEVICE_DAY_LIMIT + 1)]
    rows = [_row(app, sid) for sid in sids]
    assert len({r.device_hash for r in rows}) == 1 and rows[0].device_hash
    assert len({r.client_hash for r in rows}) == 1 and rows[0].client_hash
    flags = [r.quality_flags for r in rows]
    assert flags[: submission.DEVICE_BURST_LIMIT] == [""] * submission.DEVICE_BURST_LIMIT
    assert flags[submission.DEVICE_BURST_LIMIT] == "burst"
    assert flags[-1] == "burst,device_repeat"
    with _db(app).session() as s:
        assert s.scalar(select(func.count()).select_from(HashKey)) == 1


def test_without_the_daily_cap_the_burst_still_counts(app):
    """A kiosk tablet (``Context.daily_cap=False``): one device all day, no
    ``device_repeat``, but many answers within minutes are still a burst."""
    from sqlalchemy.orm import Session
    from werkzeug.datastructures import MultiDict

    from survey.models import Desk
    from survey.services.form_check import check_form
    from survey.services.questionnaires import definition, for_desk

    flags = []
    for i in range(submission.DEVICE_DAY_LIMIT + 2):
        with Session(_db(app).engine) as s:
            desk = s.scalar(select(Desk).where(Desk.code == DESK))
            version = for_desk(s, desk)
            checked = check_form(MultiDict({"HL": "5"}), definition(version))
            ctx = submission.Context(
                desk_id=desk.id,
                unit_id=desk.unit_id,
                questionnaire_version_id=version.id,
                submission_id=f"{i:032x}.1.kiosk",
                channel="kiosk",
                device_id="tablet-1",
                daily_cap=False,
            )
            stored = submission.store(s, ctx, checked, TEST_SECRET, "Asia/Ho_Chi_Minh")
            s.commit()
            flags.append(s.get(Response, stored.response_id).quality_flags)
    assert "device_repeat" not in ",".join(flags)
    assert flags[: submission.DEVICE_BURST_LIMIT] == [""] * submission.DEVICE_BURST_LIMIT
    assert set(flags[submission.DEVICE_BURST_LIMIT :]) == {"burst"}


@pytest.mark.parametrize("attempt", range(3))
def test_two_workers_creating_the_days_key_agree_on_one(demo_db_url, attempt):
    """Two processes' first answers of a day at once: one key row, both use it."""
    day = date(2031, 1, 1) + timedelta(days=attempt)
    workers = [Database(demo_db_url), Database(demo_db_url)]  # separate caches, pools
    barrier = threading.Barrier(2)
    keys, errors = [], []

    def create(database):
        try:
            with database.session() as s:
                barrier.wait()
                keys.append(hash_keys.key_for_day(s, day))
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert len(keys) == 2 and keys[0] == keys[1] and len(keys[0]) == 64
        with workers[0].session() as s:
            assert s.scalars(select(HashKey.key).where(HashKey.day == day)).all() == [keys[0]]
    finally:
        for w in workers:
            w.dispose()
