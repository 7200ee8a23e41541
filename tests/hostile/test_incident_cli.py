"""Incident response from the command line, without SQL: API keys listed and
revoked, accounts disabled and passwords reset, each change audited, unknown
names refused with a non-zero exit."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from survey.models import ApiKey, Unit, User
from survey.services import links
from survey.services.demo import demo_code
from tests.support import PASSWORD, add_user, audit_events, csrf_token
from tests.test_cli import run

USERNAME = "incident-lan"


@pytest.fixture
def lan(demo_db):
    with demo_db.session() as s:
        unit = s.scalar(select(Unit.id).where(Unit.code == "KH-CAMRANH"))
        cheap = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        return add_user(s, cheap, USERNAME, "unit_manager", unit).id


def _sign_in(client, password=PASSWORD):
    token = csrf_token(client, "/staff/login")
    return client.post(
        "/staff/login", data={"csrf_token": token, "username": USERNAME, "password": password}
    )


def _signed_in(client) -> bool:
    return client.get("/staff/").status_code == 200


def _user(db) -> User:
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == USERNAME))
        s.expunge(user)
        return user


# --- accounts -----------------------------------------------------------------
def test_user_disable_ends_every_session_and_refuses_sign_in(demo_app, demo_db_url, demo_db, lan):
    client, other_device = demo_app.test_client(), demo_app.test_client()
    for c in (client, other_device):
        assert _sign_in(c).status_code == 302 and _signed_in(c)

    result = run(demo_db_url, "user", "disable", USERNAME)
    assert result.exit_code == 0, result.output
    assert f"user {USERNAME} disabled" in result.output
    assert not _signed_in(client)
    assert _sign_in(client).status_code != 302
    [event] = audit_events(demo_db, "user.disable")
    assert (event.actor, event.entity_id) == ("cli", str(lan))
    assert json.loads(event.before) == {"active": True}
    assert json.loads(event.after) == {"active": False}

    again = run(demo_db_url, "user", "disable", USERNAME)
    assert again.exit_code == 0 and "already disabled" in again.output
    assert len(audit_events(demo_db, "user.disable")) == 1

    # Enabled again: signing in works, but no cookie from before comes back.
    assert run(demo_db_url, "user", "enable", USERNAME).exit_code == 0
    assert len(audit_events(demo_db, "user.enable")) == 1
    assert not _signed_in(other_device)
    assert _sign_in(client).status_code == 302 and _signed_in(client)


def test_user_reset_password_prints_a_one_time_password_and_signs_out(
    demo_app, demo_db_url, demo_db, lan
):
    client = demo_app.test_client()
    assert _sign_in(client).status_code == 302 and _signed_in(client)
    before = _user(demo_db)

    result = run(demo_db_url, "user", "reset-password", USERNAME)
    assert result.exit_code == 0, result.output
    password = result.output.split("one-time password: ")[1].split()[0]
    after = _user(demo_db)
    assert after.must_change_password and after.password_hash != before.password_hash
    assert password not in after.password_hash
    assert not _signed_in(client)
    assert _sign_in(client).status_code != 302  # the old password is gone
    signed_in = _sign_in(client, password)
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"].endswith("/staff/password")  # must change it
    [event] = audit_events(demo_db, "user.password_reset")
    assert (event.actor, event.entity_id) == ("cli", str(lan))
    assert password not in (event.before or "") + (event.after or "")


@pytest.mark.parametrize("command", ["disable", "enable", "reset-password"])
def test_user_commands_refuse_an_unknown_username(demo_db_url, demo_db, command):
    before = {u.username: (u.active, u.password_hash) for u in _all_users(demo_db)}
    result = run(demo_db_url, "user", command, "no-such-user")
    assert result.exit_code == 2
    assert "error: unknown user 'no-such-user'" in result.output
    assert {u.username: (u.active, u.password_hash) for u in _all_users(demo_db)} == before


def _all_users(db) -> list[User]:
    with db.session() as s:
        users = list(s.scalars(select(User)))
        s.expunge_all()
        return users


# --- API keys -----------------------------------------------------------------
def _create_key(url, unit, label) -> str:
    result = run(url, "apikey", "create", "--unit", unit, "--label", label)
    assert result.exit_code == 0, result.output
    return result.output.rsplit(" ", 1)[1].strip()


def _ask_for_link(client, key):
    return client.post(
        "/api/v1/survey-links",
        json={"desk": demo_code("cr-2"), "case_number": "H42-INCIDENT-1"},
        headers={"Authorization": f"Bearer {key}"},
    )


def test_apikey_list_shows_keys_but_never_the_key_or_its_hash(demo_db_url):
    key_cr = _create_key(demo_db_url, "KH-CAMRANH", "phần mềm một cửa")
    key_nt = _create_key(demo_db_url, "KH-NHATRANG", "kiosk")

    listed = run(demo_db_url, "apikey", "list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [(r["unit"], r["label"]) for r in rows] == [
        ("KH-CAMRANH", "phần mềm một cửa"),
        ("KH-NHATRANG", "kiosk"),
    ]
    assert set(rows[0]) == {"id", "unit", "label", "created_at", "revoked_at"}
    assert all(r["revoked_at"] is None and r["created_at"] for r in rows)

    table = run(demo_db_url, "apikey", "list")
    assert table.exit_code == 0
    assert table.output.split()[:5] == ["id", "unit", "label", "created", "revoked"]
    for output in (listed.output, table.output):
        for key in (key_cr, key_nt):
            assert key not in output and links.hash_api_key(key) not in output

    ward = json.loads(
        run(demo_db_url, "apikey", "list", "--unit", "KH-CAMRANH", "--format", "json").output
    )
    assert [r["unit"] for r in ward] == ["KH-CAMRANH"]
    province = json.loads(
        run(demo_db_url, "apikey", "list", "--unit", "KH", "--format", "json").output
    )
    assert len(province) == 2  # a unit's subtree, as in `desks list`
    bad = run(demo_db_url, "apikey", "list", "--unit", "NOPE")
    assert bad.exit_code != 0 and "NOPE" in bad.output


def test_apikey_revoke_takes_effect_at_once_and_is_audited(demo_client, demo_db_url, demo_db):
    key = _create_key(demo_db_url, "KH-CAMRANH", "phần mềm một cửa")
    kept = _create_key(demo_db_url, "KH-CAMRANH", "another system")
    assert _ask_for_link(demo_client, key).status_code == 201
    with demo_db.session() as s:
        key_id = s.scalar(select(ApiKey.id).where(ApiKey.key_hash == links.hash_api_key(key)))

    result = run(demo_db_url, "apikey", "revoke", str(key_id))
    assert result.exit_code == 0, result.output
    assert f"API key {key_id} (KH-CAMRANH) revoked" in result.output
    assert _ask_for_link(demo_client, key).status_code == 401
    assert _ask_for_link(demo_client, kept).status_code == 201
    rows = json.loads(run(demo_db_url, "apikey", "list", "--format", "json").output)
    assert [r["revoked_at"] is not None for r in rows] == [True, False]
    [event] = audit_events(demo_db, "apikey.revoke")
    assert (event.actor, event.entity, event.entity_id) == ("cli", "api_key", str(key_id))
    assert key not in (event.after or "") and links.hash_api_key(key) not in (event.after or "")

    again = run(demo_db_url, "apikey", "revoke", str(key_id))
    assert again.exit_code == 0 and "already revoked" in again.output
    assert len(audit_events(demo_db, "apikey.revoke")) == 1


@pytest.mark.parametrize("key_id", ["999999", "abc"])
def test_apikey_revoke_refuses_an_unknown_id(demo_db_url, demo_db, key_id):
    _create_key(demo_db_url, "KH-CAMRANH", "phần mềm một cửa")
    result = run(demo_db_url, "apikey", "revoke", key_id)
    assert result.exit_code == 2
    assert ("unknown API key id 999999" if key_id == "999999" else "abc") in result.output
    with demo_db.session() as s:
        assert s.scalar(select(ApiKey.revoked_at)) is None
    assert audit_events(demo_db, "apikey.revoke") == []
