"""A desk's shared tablet at the citizen's end (issue 16, point 7, done-when).

A registered tablet submits evaluation after evaluation at its desk: every one
is stored with ``channel = 'kiosk'`` and none is flagged as a device's repeat,
while the burst flag still applies. Any other browser (unregistered, revoked,
registered at another desk, holding a forged cookie) is a citizen's phone:
channel 'qr' and the per-device daily cap.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey.models import Desk, Response
from survey.public.kiosk import COOKIE
from survey.services.submission import DEVICE_BURST_LIMIT, DEVICE_DAY_LIMIT
from tests.kiosk.support import answered_form, desk_id, kiosk_cookie, register_here
from tests.support import SHORT_DESK, make_app, sign_in


@pytest.fixture
def tablet_app(demo_db_url, cheap_hash):
    """An app without rate limits (ten in a row is the point) and a manager of
    the short-form desk's unit."""
    from tests.support import add_user

    app = make_app(demo_db_url, RATELIMIT_ENABLED=False)
    db = app.extensions["survey.db"]
    with db.session() as s:
        unit_id = s.scalar(select(Desk.unit_id).where(Desk.code == SHORT_DESK))
        add_user(s, cheap_hash, "nt_manager", "unit_manager", unit_id)
    yield app
    db.dispose()


def _tablet(app, code=SHORT_DESK):
    """A browser registered as ``code``'s tablet through the desk page."""
    db = app.extensions["survey.db"]
    client = app.test_client()
    sign_in(client, db, "nt_manager")
    assert register_here(client, db, desk_id(db, code)).status_code == 302
    assert kiosk_cookie(client)
    return client


def _submit(app, client, code=SHORT_DESK) -> Response:
    data = answered_form(client, code)
    assert client.post(f"/s/{code}", data=data).status_code in (200, 302, 303)
    with app.extensions["survey.db"].session() as s:
        stored = s.scalar(select(Response).where(Response.submission_id == data["sid"]))
        assert stored is not None, "the evaluation was not stored"
        s.expunge(stored)
        return stored


def test_a_tablet_submits_ten_in_a_row(tablet_app):
    client = _tablet(tablet_app)
    rows = [_submit(tablet_app, client) for _ in range(10)]
    assert len({r.id for r in rows}) == 10
    assert {r.channel for r in rows} == {"kiosk"}
    assert not any("device_repeat" in r.quality_flags for r in rows)
    # Ten within seconds is still a burst (ballot stuffing), not a queue.
    assert all("burst" in r.quality_flags for r in rows[DEVICE_BURST_LIMIT:])


def test_a_queue_at_the_tablet_is_not_a_burst(tablet_app):
    """One citizen after another, a minute or more apart: every answer counts."""
    from datetime import timedelta

    from sqlalchemy import update

    from survey.services.submission import KIOSK_BURST_WINDOW

    client = _tablet(tablet_app)
    rows = []
    for _ in range(6):
        rows.append(_submit(tablet_app, client))
        with tablet_app.extensions["survey.db"].session() as s:  # the next citizen, later
            s.execute(
                update(Response)
                .where(Response.id.in_([r.id for r in rows]))
                .values(
                    submitted_at=Response.submitted_at - KIOSK_BURST_WINDOW - timedelta(seconds=5)
                )
            )
    with tablet_app.extensions["survey.db"].session() as s:
        flags = s.scalars(
            select(Response.quality_flags).where(Response.id.in_([r.id for r in rows]))
        )
        assert list(flags) == [""] * 6


def test_a_tablet_notes_when_it_was_last_used(tablet_app):
    from survey.models import KioskDevice

    client = _tablet(tablet_app)
    _submit(tablet_app, client)
    with tablet_app.extensions["survey.db"].session() as s:
        assert s.scalar(select(KioskDevice.last_used_at)) is not None


def test_an_unregistered_browser_keeps_the_device_cap(tablet_app):
    client = tablet_app.test_client()
    rows = [_submit(tablet_app, client) for _ in range(DEVICE_DAY_LIMIT + 1)]
    assert {r.channel for r in rows} == {"qr"}
    assert [("device_repeat" in r.quality_flags) for r in rows] == [False] * DEVICE_DAY_LIMIT + [
        True
    ]


def _revoke_all(app):
    from survey.models import KioskDevice
    from survey.models._types import utcnow

    with app.extensions["survey.db"].session() as s:
        for device in s.scalars(select(KioskDevice)):
            device.revoked_at = utcnow()


def test_a_revoked_tablet_is_a_citizens_phone_again(tablet_app):
    client = _tablet(tablet_app)
    _revoke_all(tablet_app)
    rows = [_submit(tablet_app, client) for _ in range(DEVICE_DAY_LIMIT + 1)]
    assert {r.channel for r in rows} == {"qr"}
    assert "device_repeat" in rows[-1].quality_flags


def test_a_tablet_of_another_desk_is_not_a_kiosk_here(tablet_app):
    from tests.support import DESK

    client = _tablet(tablet_app)  # registered at SHORT_DESK
    rows = [_submit(tablet_app, client, DESK) for _ in range(DEVICE_DAY_LIMIT + 1)]
    assert {r.channel for r in rows} == {"qr"}
    assert "device_repeat" in rows[-1].quality_flags


def test_a_forged_cookie_is_ignored(tablet_app):
    client = _tablet(tablet_app)
    device_id, _, _token = kiosk_cookie(client).partition(".")
    client.set_cookie(COOKIE, f"{device_id}.forged-token")
    rows = [_submit(tablet_app, client) for _ in range(DEVICE_DAY_LIMIT + 1)]
    assert {r.channel for r in rows} == {"qr"}
    assert "device_repeat" in rows[-1].quality_flags


def test_the_tablet_returns_to_a_fresh_form_and_never_says_already_sent(tablet_app):
    client = _tablet(tablet_app)
    first = _submit(tablet_app, client)
    thanks = client.get(f"/s/{SHORT_DESK}/cam-on").get_data(as_text=True)
    # Back to a new form after 10 s without any script; no comment form to be cut off.
    assert f'content="10;url=/s/{SHORT_DESK}?moi=1"' in thanks
    assert "y-kien" not in thanks
    page = client.get(f"/s/{SHORT_DESK}").get_data(as_text=True)
    assert "đã gửi đánh giá" not in page and 'name="sid"' in page
    assert first.submission_id not in page  # the next citizen's own evaluation
    phone = tablet_app.test_client()
    _submit(tablet_app, phone)
    assert 'http-equiv="refresh"' not in phone.get(f"/s/{SHORT_DESK}/cam-on").get_data(as_text=True)
