"""One citizen, one client: many phones behind one address are told apart.

A busy centre's Wi-Fi or a carrier's shared address (CGNAT) puts hundreds of
citizens a day behind one address. The survey POST is limited per device (the
signed ``sv_dev`` cookie handed out with the form) besides a much higher
ceiling per address and the desk's own; the burst flag counts one device
first and one network only at a much higher count. A limited POST gets the
form back with its answers and the wait, never a bare error page.

The apps here sit behind one trusted proxy (``SURVEY_TRUSTED_PROXIES=1``): every
request comes from 127.0.0.1 and carries the citizen's address in
``X-Forwarded-For``, as behind the README's nginx.
"""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import func, select

from survey.config import DEFAULTS, ConfigError, load_settings
from survey.models import Comment, Response
from survey.public.limits import DEVICE_COOKIE
from survey.services import links, submission
from survey.services.demo import demo_code
from tests.support import DESK, SHORT_DESK, TEST_SECRET, form_of, full_answers, make_app

CGNAT = "100.64.12.34"  # one carrier address shared by many phones
PER_DEVICE = 20  # "20 per minute" per device on POST /s/<code>
WITHOUT_DEVICE = 60  # "60 per minute" per address for POSTs without a valid device cookie
WAIT = re.compile(r"Hệ thống đang nhận nhiều đánh giá\. Vui lòng đợi (\d+) giây rồi bấm Gửi lại\.")
COMMENT = "Cán bộ hướng dẫn tận tình, nhưng phải chờ lâu."


@pytest.fixture
def behind_proxy(demo_db_url):
    """An app behind one trusted proxy; ``app.db`` is its database."""
    apps = []

    def factory(**overrides):
        app = make_app(demo_db_url, TRUSTED_PROXIES=1, **overrides)
        app.db = app.extensions["survey.db"]
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.db.dispose()


def _post(client, path: str, data: dict, address: str = CGNAT):
    return client.post(
        path,
        data=data,
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        headers={"X-Forwarded-For": address},
    )


def _rows(db, sids) -> list[Response]:
    with db.session() as s:
        rows = s.scalars(select(Response).where(Response.submission_id.in_(list(sids)))).all()
        s.expunge_all()
        return rows


def _count(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Response))


def _checked(html: str) -> dict[str, str]:
    """The radio buttons the page shows checked: name -> value."""
    return dict(re.findall(r'name="(\w+)" value="(\w+)" checked', html))


def test_thirty_citizens_on_one_address_at_one_desk_within_a_minute_are_all_stored(
    behind_proxy,
):
    app = behind_proxy()
    sids = []
    for _ in range(30):
        phone = app.test_client()  # a phone of its own: its own cookies
        data = full_answers(phone)
        resp = _post(phone, f"/s/{DESK}", data)
        assert resp.status_code == 200, resp.status_code
        assert "Cảm ơn" in resp.get_data(as_text=True)
        sids.append(data["sid"])
    rows = _rows(app.db, sids)
    assert len(rows) == 30
    assert {r.quality_flags for r in rows} == {""}  # none is a burst
    # They did share one address (the app saw the forwarded one), on 30 devices.
    assert len({r.client_hash for r in rows}) == 1 and None not in {r.client_hash for r in rows}
    assert len({r.device_hash for r in rows}) == 30


def test_one_device_answering_again_and_again_at_a_desk_is_a_burst(behind_proxy):
    app = behind_proxy()
    phone, neighbour = app.test_client(), app.test_client()
    flags = []
    for _ in range(submission.DEVICE_BURST_LIMIT + 1):
        data = full_answers(phone)
        assert _post(phone, f"/s/{DESK}", data).status_code == 200
        flags.append(_rows(app.db, [data["sid"]])[0].quality_flags)
    # Two cases at one desk may be two answers; a third within minutes is a burst.
    assert flags == [""] * submission.DEVICE_BURST_LIMIT + ["burst"]
    # Another phone on the same Wi-Fi, and the same phone at another desk: no burst.
    data = full_answers(neighbour)
    assert _post(neighbour, f"/s/{DESK}", data).status_code == 200
    other_desk = full_answers(phone, SHORT_DESK)
    assert _post(phone, f"/s/{SHORT_DESK}", other_desk).status_code == 200
    assert [r.quality_flags for r in _rows(app.db, [data["sid"], other_desk["sid"]])] == ["", ""]


def test_a_network_is_a_burst_only_at_the_much_higher_setting(behind_proxy):
    app = behind_proxy(BURST_PER_NETWORK=3)
    sids = []
    for _ in range(4):
        phone = app.test_client()
        data = full_answers(phone)
        assert _post(phone, f"/s/{DESK}", data).status_code == 200
        sids.append(data["sid"])
    by_sid = {r.submission_id: r.quality_flags for r in _rows(app.db, sids)}
    assert [by_sid[sid] for sid in sids] == ["", "", "", "burst"]


def _answers_until_limited(client, path_code=DESK):
    """Answer (each with a new form) until a POST is refused; the refused data, response
    and how many were stored before it. A new minute of the limiter's window may
    start during the loop, so up to twice the limit can pass."""
    for stored in range(2 * PER_DEVICE + 1):
        base, items, _na = form_of(client, path_code)
        data = {**base, **dict.fromkeys(items, "2"), "comment": COMMENT, "client_type": "business"}
        resp = _post(client, f"/s/{path_code}", data)
        if resp.status_code != 200:
            return data, items, resp, stored
    pytest.fail("never limited")


def test_a_post_over_the_device_limit_gets_the_form_back_with_its_answers(behind_proxy):
    app = behind_proxy()
    phone = app.test_client()
    before = _count(app.db)
    data, items, resp, stored = _answers_until_limited(phone)
    assert resp.status_code == 429
    assert PER_DEVICE <= stored <= 2 * PER_DEVICE
    assert _count(app.db) == before + stored  # the limited POST stored nothing
    assert _rows(app.db, [data["sid"]]) == []
    html = resp.get_data(as_text=True)
    # The same form, every answer still checked, the comment still there.
    assert _checked(html) == {**dict.fromkeys(items, "2"), "client_type": "business"}
    assert f">{COMMENT}</textarea>" in html
    # The wait, near the top and next to the button, and in Retry-After.
    waits = WAIT.findall(html)
    assert len(waits) == 2 and 1 <= int(waits[0]) <= 61, waits
    assert 'id="e-wait"' in html and 'aria-describedby="e-wait"' in html
    assert abs(int(resp.headers["Retry-After"]) - int(waits[0])) <= 1
    # The form keeps its submission id: sending it again later stays one answer.
    assert re.search(r'name="sid" value="([^"]+)"', html).group(1) == data["sid"]
    # Another phone behind the same address is not locked out.
    neighbour = app.test_client()
    assert _post(neighbour, f"/s/{DESK}", full_answers(neighbour)).status_code == 200


def test_a_forged_device_cookie_gets_no_bucket_of_its_own(behind_proxy):
    app = behind_proxy()
    phone = app.test_client()
    phone.get(f"/s/{DESK}")
    issued = phone.get_cookie(DEVICE_COOKIE).value
    raw, mac = issued.split(".")
    assert submission.verify_device_id([TEST_SECRET], issued) == raw
    # A changed mac, a value of our own shape with a wrong key, plain junk: no device.
    forgeries = [f"{raw}.{'0' * 16}", submission.issue_device_id("x" * 32), "abc", ""]
    assert {submission.verify_device_id([TEST_SECRET], f) for f in forgeries} == {None}

    # A new made-up cookie on every POST: they all share the address's one bucket,
    # so the limit comes (a per-device bucket each would never be reached).
    statuses = []
    for i in range(2 * WITHOUT_DEVICE + 1):
        phone.set_cookie(DEVICE_COOKIE, f"{i:022d}.{i:016x}")
        statuses.append(_post(phone, f"/s/{DESK}", {"sid": "junk"}).status_code)
        if statuses[-1] == 429:
            break
    assert statuses[-1] == 429
    assert WITHOUT_DEVICE <= len(statuses) - 1 <= 2 * WITHOUT_DEVICE
    assert set(statuses[:-1]) == {400}

    # The form that comes back hands out a real device cookie, and a phone with
    # one of its own still answers from that address.
    assert submission.verify_device_id([TEST_SECRET], phone.get_cookie(DEVICE_COOKIE).value)
    neighbour = app.test_client()
    assert _post(neighbour, f"/s/{DESK}", full_answers(neighbour)).status_code == 200


def test_an_answer_under_a_forged_device_cookie_counts_as_no_device(behind_proxy):
    app = behind_proxy()
    phone = app.test_client()
    data = full_answers(phone)
    phone.set_cookie(DEVICE_COOKIE, "made-up-device")
    assert _post(phone, f"/s/{DESK}", data).status_code == 200
    assert _rows(app.db, [data["sid"]])[0].device_hash is None


def test_the_address_ceiling_is_a_setting_and_keeps_the_answers(behind_proxy):
    app = behind_proxy(RATELIMIT_PER_NETWORK="3 per hour")
    for _ in range(3):
        phone = app.test_client()
        assert _post(phone, f"/s/{DESK}", full_answers(phone)).status_code == 200
    phone = app.test_client()
    data = {**full_answers(phone, value="5"), "comment": COMMENT}
    resp = _post(phone, f"/s/{DESK}", data)
    assert resp.status_code == 429
    html = resp.get_data(as_text=True)
    assert set(_checked(html).values()) == {"5"} and COMMENT in html
    # An hour's window: the wait is said in minutes.
    assert re.search(r"Vui lòng đợi \d+ phút rồi bấm Gửi lại\.", html)
    assert _rows(app.db, [data["sid"]]) == []
    # Another address is not concerned.
    assert _post(phone, f"/s/{DESK}", data, address="100.64.99.99").status_code == 200


def test_a_limited_case_link_post_gets_its_form_back(behind_proxy):
    app = behind_proxy(RATELIMIT_PER_NETWORK="2 per hour")
    claims = links.Claims(
        demo_code("cr-2"),
        None,
        None,
        links.case_hash(TEST_SECRET, "CASE-9"),
        int(time.time()) + 3600,
    )
    path = f"/l/{links.make_token(TEST_SECRET, claims)}"
    phone = app.test_client()
    for _ in range(2):
        assert _post(phone, path, {"sid": "junk"}).status_code == 400
    html = phone.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    sid = re.search(r'name="sid" value="([^"]+)"', html).group(1)
    items = set(re.findall(r'name="([A-Z]{2}\d*)" value="', html))
    data = {"csrf_token": token, "sid": sid, **dict.fromkeys(items, "3"), "comment": COMMENT}
    resp = _post(phone, path, data)
    assert resp.status_code == 429
    html = resp.get_data(as_text=True)
    assert f'action="{path}"' in html
    assert _checked(html) == dict.fromkeys(items, "3") and COMMENT in html
    assert _rows(app.db, [sid]) == []


def test_a_limited_late_comment_keeps_its_text(behind_proxy):
    app = behind_proxy(RATELIMIT_PER_NETWORK="2 per hour")
    phone = app.test_client()
    data = full_answers(phone)
    thanks = _post(phone, f"/s/{DESK}", data)
    assert thanks.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', thanks.get_data(as_text=True))
    junk = {"csrf_token": token.group(1), "sid": "junk"}
    for _ in range(2):  # its own bucket: the survey POST does not count here
        assert _post(phone, f"/s/{DESK}/y-kien", junk).status_code == 400
    resp = _post(
        phone,
        f"/s/{DESK}/y-kien",
        {"csrf_token": token.group(1), "sid": data["sid"], "comment": COMMENT},
    )
    assert resp.status_code == 429 and "Retry-After" in resp.headers
    html = resp.get_data(as_text=True)
    assert f">{COMMENT}</textarea>" in html
    assert re.search(r"Vui lòng đợi \d+ phút rồi bấm Gửi lại\.", html)
    with app.db.session() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(Comment)
                .join(Response)
                .where(Response.submission_id == data["sid"])
            )
            == 0
        )


@pytest.mark.parametrize(
    ("key", "value"),
    [("RATELIMIT_PER_NETWORK", "lots"), ("RATELIMIT_PER_NETWORK", ""), ("BURST_PER_NETWORK", "0")],
)
def test_bad_limit_settings_are_refused_by_name(tmp_path, key, value):
    with pytest.raises(ConfigError, match=f"SURVEY_{key}"):
        load_settings({key: value, "SECRET_KEY": TEST_SECRET}, environ={}, instance_path=tmp_path)
    assert key in DEFAULTS


def test_device_burst_count_uses_an_index_on_sqlite(demo_db):
    """The device's count at the desk is an index range, not a scan of the desk."""
    if not demo_db.is_sqlite:
        pytest.skip("SQLite's planner; PostgreSQL plans from statistics")
    from sqlalchemy import text

    with demo_db.engine.connect() as conn:
        plan = conn.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT count(*) FROM responses WHERE device_hash = :h "
                "AND desk_id = :d AND submitted_at >= :t"
            ),
            {"h": "x", "d": 1, "t": "2026-01-01"},
        ).fetchall()
    assert "ix_responses_device_desk_time" in str(plan)
