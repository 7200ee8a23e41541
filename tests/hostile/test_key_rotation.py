"""Rotating SURVEY_SECRET_KEY with SURVEY_SECRET_KEY_PREVIOUS kept for a grace
period: what was signed before still verifies, and one answer per case holds
across the rotation (case hashes are keyed, so they change with the key)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from survey.config import ConfigError, load_settings
from survey.keys import verification_keys
from survey.models import Response, Unit
from survey.services import links
from survey.services.demo import demo_code
from tests.support import PASSWORD, TEST_SECRET, add_user, csrf_token, make_app

OLD = TEST_SECRET
NEW = "rotated-secret-key-0123456789abcdef-2026"
DESK = demo_code("cr-2")  # KH-CAMRANH
CASE = "000.00.23.H42-261122-0042"
FORM = re.compile(r'name="(csrf_token|sid)" value="([^"]+)"')
ITEMS = re.compile(r'name="([A-Z]{2}\d*)" value="')


# --- settings -------------------------------------------------------------------
@pytest.mark.parametrize("length", [16, 31])
def test_a_production_secret_key_shorter_than_32_characters_is_refused(tmp_path, length):
    env = {"SURVEY_ENV": "production", "SURVEY_SECRET_KEY": "k" * length}
    with pytest.raises(ConfigError, match="at least 32 random characters"):
        load_settings(environ=env, instance_path=tmp_path)
    ok = load_settings(environ={**env, "SURVEY_SECRET_KEY": "k" * 32}, instance_path=tmp_path)
    assert ok.SECRET_KEY == "k" * 32


def test_the_previous_key_is_checked_and_listed_after_the_current_one(tmp_path):
    env = {"SURVEY_ENV": "production", "SURVEY_SECRET_KEY": NEW}
    assert verification_keys(load_settings(environ=env, instance_path=tmp_path)) == [NEW]
    rotating = {**env, "SURVEY_SECRET_KEY_PREVIOUS": OLD}
    assert verification_keys(load_settings(environ=rotating, instance_path=tmp_path)) == [NEW, OLD]
    with pytest.raises(ConfigError, match="SECRET_KEY_PREVIOUS is too short"):
        load_settings(environ={**env, "SURVEY_SECRET_KEY_PREVIOUS": "old"}, instance_path=tmp_path)
    with pytest.raises(ConfigError, match="SECRET_KEY_PREVIOUS equals"):
        load_settings(environ={**env, "SURVEY_SECRET_KEY_PREVIOUS": NEW}, instance_path=tmp_path)


# --- helpers --------------------------------------------------------------------
@pytest.fixture
def apps(demo_db_url):
    """Apps on one database under different keys: before, during and after a rotation."""
    made = []

    def factory(**overrides):
        app = make_app(demo_db_url, **overrides)
        made.append(app)
        return app

    yield factory
    for app in made:
        app.extensions["survey.db"].dispose()


@pytest.fixture
def api_key(demo_db):
    with demo_db.session() as s:
        _row, key = links.create_api_key(s, "KH-CAMRANH", "one-stop software")
    return key


def _link(app, key, case=CASE) -> str:
    resp = app.test_client().post(
        "/api/v1/survey-links",
        json={"desk": DESK, "case_number": case},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()["url"].split("127.0.0.1:5000", 1)[1]


def _form(html: str) -> dict:
    fields = dict(FORM.findall(html))
    return {**fields, **dict.fromkeys(ITEMS.findall(html), "5")}


def _answer(client, path):
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(path, data=_form(page.get_data(as_text=True)))


def _responses(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Response))


def _copy_cookies(source, target) -> None:
    for name, path in (("session", "/"), ("staff_session", "/staff"), ("sv_dev", "/")):
        cookie = source.get_cookie(name, path=path)
        if cookie is not None:
            target.set_cookie(name, cookie.value, path=path)


# --- case links -------------------------------------------------------------------
def test_a_link_made_before_the_rotation_answers_once_after_it(apps, api_key, demo_db):
    before = apps()
    old_link = _link(before, api_key)

    during = apps(SECRET_KEY=NEW, SECRET_KEY_PREVIOUS=OLD)
    citizen = during.test_client()
    start = _responses(demo_db)
    thanks = _answer(citizen, old_link)
    assert thanks.status_code == 200 and "Cảm ơn" in thanks.get_data(as_text=True)
    assert _responses(demo_db) == start + 1
    with demo_db.session() as s:
        stored = s.scalar(select(Response.case_hash).where(Response.channel == "link"))
    assert stored == links.case_hash(OLD, CASE)

    # The same link again, from the same phone or another one: answered.
    assert citizen.get(old_link).status_code == 409
    assert during.test_client().get(old_link).status_code == 409

    # A new link for the same case, made after the rotation: answered too.
    new_link = _link(during, api_key)
    assert during.test_client().get(new_link).status_code == 409
    other = during.test_client()
    form = _form(other.get(f"/s/{DESK}?moi=1", follow_redirects=True).get_data(as_text=True))
    refused = other.post(new_link, data=form)
    assert refused.status_code == 409
    assert "Hồ sơ này đã được đánh giá" in refused.get_data(as_text=True)
    assert _responses(demo_db) == start + 1

    # After the grace period the old link no longer verifies; the new one still
    # knows its case was answered under the old key.
    after = apps(SECRET_KEY=NEW)
    assert after.test_client().get(old_link).status_code == 400
    assert after.test_client().get(new_link).status_code == 409


def test_a_link_made_during_the_grace_period_still_answers_once_after_it(apps, api_key, demo_db):
    during = apps(SECRET_KEY=NEW, SECRET_KEY_PREVIOUS=OLD)
    grace_link = _link(during, api_key)
    assert _answer(during.test_client(), grace_link).status_code == 200
    start = _responses(demo_db)

    after = apps(SECRET_KEY=NEW)
    assert after.test_client().get(grace_link).status_code == 409
    later_link = _link(after, api_key)
    client = after.test_client()
    assert client.get(later_link).status_code == 409
    form = _form(client.get(f"/s/{DESK}?moi=1", follow_redirects=True).get_data(as_text=True))
    assert client.post(later_link, data=form).status_code == 409
    assert _responses(demo_db) == start


def test_links_carry_the_previous_key_hash_only_during_a_rotation(apps, api_key):
    plain = links.read_token(OLD, _link(apps(), api_key)[3:])
    assert plain.other_case_hashes == ()
    token = _link(apps(SECRET_KEY=NEW, SECRET_KEY_PREVIOUS=OLD), api_key)[3:]
    claims = links.read_token([NEW, OLD], token)
    assert claims.case_hash == links.case_hash(NEW, CASE)
    assert claims.other_case_hashes == (links.case_hash(OLD, CASE),)
    with pytest.raises(links.BadToken):
        links.read_token(OLD, token)  # signed with the new key only


# --- sessions and open forms ----------------------------------------------------------
def test_a_staff_session_survives_the_rotation_only_during_the_grace_period(apps, demo_db):
    before = apps()
    with demo_db.session() as s:
        unit = s.scalar(select(Unit.id).where(Unit.code == "KH"))
        cheap = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        add_user(s, cheap, "rotation-admin", "admin", unit)
    staff = before.test_client()
    token = csrf_token(staff, "/staff/login")
    signed_in = staff.post(
        "/staff/login",
        data={"csrf_token": token, "username": "rotation-admin", "password": PASSWORD},
    )
    assert signed_in.status_code == 302

    during = apps(SECRET_KEY=NEW, SECRET_KEY_PREVIOUS=OLD).test_client()
    _copy_cookies(staff, during)
    assert during.get("/staff/").status_code == 200

    after = apps(SECRET_KEY=NEW).test_client()
    _copy_cookies(staff, after)
    assert after.get("/staff/").status_code == 302  # back to the sign-in page


def test_a_survey_form_opened_before_the_rotation_is_stored_once_after_it(apps, demo_db):
    phone = apps().test_client()
    form = _form(phone.get(f"/s/{DESK}?moi=1", follow_redirects=True).get_data(as_text=True))

    during = apps(SECRET_KEY=NEW, SECRET_KEY_PREVIOUS=OLD).test_client()
    _copy_cookies(phone, during)
    start = _responses(demo_db)
    # Session cookie, CSRF token and submission id were all signed with the old key.
    thanks = during.post(f"/s/{DESK}", data=form)
    assert thanks.status_code == 200 and "Cảm ơn" in thanks.get_data(as_text=True)
    assert during.post(f"/s/{DESK}", data=form).status_code == 200  # a replay
    assert _responses(demo_db) == start + 1
