"""`survey privacy purge`, and the privacy page a citizen reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from survey import clock
from survey.cli import cli
from survey.db import Database
from survey.models import Desk, HashKey, Response
from survey.services import hash_keys
from tests.support import DESK, TEST_SECRET


def _purge(url):
    env = {"SURVEY_DATABASE_URL": url, "SURVEY_SECRET_KEY": TEST_SECRET, "SURVEY_ENV": "testing"}
    return CliRunner().invoke(cli, ["privacy", "purge"], env=env, catch_exceptions=False)


def test_purge_deletes_old_keys_and_hashes_once(demo_db_url):
    database = Database(demo_db_url)
    today = clock.local_today("Asia/Ho_Chi_Minh")
    old_day = today - timedelta(days=hash_keys.KEEP_DAYS)
    with database.session() as s:
        hash_keys.key_for_day(s, today)
        s.add(HashKey(day=old_day, key="0" * 64))
        s.add(HashKey(day=today - timedelta(days=1), key="1" * 64))
        old = s.scalars(select(Response.id).order_by(Response.id).limit(2)).all()
        s.execute(update(Response).values(client_hash=None, device_hash=None))
        s.execute(
            update(Response)
            .where(Response.id.in_(old))
            .values(day=old_day, client_hash="c" * 32, device_hash="d" * 32)
        )
    first = _purge(demo_db_url)
    assert first.exit_code == 0, first.output
    assert "deleted 1 day key(s)" in first.output
    assert "cleared the hashes of 2 response(s)" in first.output
    with database.session() as s:
        assert sorted(s.scalars(select(HashKey.day))) == [today - timedelta(days=1), today]
        assert s.scalar(select(func.count()).where(Response.client_hash.is_not(None))) == 0
    again = _purge(demo_db_url)  # idempotent
    assert again.exit_code == 0
    assert "deleted 0 day key(s), cleared the hashes of 0 response(s)" in again.output
    database.dispose()


def test_privacy_page_from_a_desk_names_its_unit_and_links_back(demo_client, demo_db):
    with demo_db.session() as s:
        unit = s.scalar(select(Desk).where(Desk.code == DESK)).unit
        name, code = unit.name, unit.code
    html = demo_client.get(f"/privacy?d={DESK}").get_data(as_text=True)
    assert f"<strong>{name}</strong>" in html  # the data controller
    assert f'href="/s/{DESK}"' in html and f'href="/r/{code}"' in html
    for cookie in ("session", "sv_dev", "lang"):
        assert f"<code>{cookie}</code>" in html
    assert "1 năm" in html and "2 ngày" in html and "91/2025/QH15" in html
    assert "Xin đừng ghi họ tên, số điện thoại, số hồ sơ" in html


@pytest.mark.parametrize(
    "settings_overrides",
    [{"DATA_CONTROLLER": "UBND phường Ví Dụ", "PRIVACY_CONTACT": "0258 3800 000"}],
)
def test_privacy_page_names_the_configured_controller(demo_client):
    html = demo_client.get("/privacy").get_data(as_text=True)
    assert "UBND phường Ví Dụ" in html and "0258 3800 000" in html


@pytest.mark.parametrize("code", ["", "NOPE", "x" * 300, "%27%3B--"])
def test_privacy_page_without_a_known_desk_is_the_general_page(demo_client, code):
    resp = demo_client.get(f"/privacy?d={code}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Quyền của Ông/Bà" in html and 'href="/s/' not in html
