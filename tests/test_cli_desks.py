"""`survey desks set-sectors` and the sectors in `survey desks list`."""

import json

from click.testing import CliRunner
from sqlalchemy import select

from survey.cli import cli
from survey.models import Desk
from survey.services.demo import demo_code
from tests.support import TEST_SECRET, audit_events

LAND = demo_code("tt-datdai")
MULTI = demo_code("cr-2")


def run(url, *args):
    env = {"SURVEY_DATABASE_URL": url, "SURVEY_SECRET_KEY": TEST_SECRET, "SURVEY_ENV": "testing"}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def _listed(url) -> dict[str, list[str]]:
    result = run(url, "desks", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    return {row["code"]: row["sectors"] for row in json.loads(result.output)}


def _sectors(db, code) -> list[str]:
    with db.session() as s:
        return [x.code for x in s.scalar(select(Desk).where(Desk.code == code)).sectors]


def test_list_shows_the_demo_sectors(demo_db_url):
    listed = _listed(demo_db_url)
    assert listed[LAND] == ["DAT_DAI"]
    assert listed[MULTI] == ["DAT_DAI", "XAY_DUNG"]
    table = run(demo_db_url, "desks", "list", "--unit", "KH-CAMRANH").output
    assert "sectors" in table.splitlines()[0] and "DAT_DAI,XAY_DUNG" in table


def test_set_sectors_replaces_them_and_is_audited(demo_db_url, demo_db):
    result = run(demo_db_url, "desks", "set-sectors", MULTI.lower(), "xay_dung", "DAU_TU")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"desk {MULTI}: DAU_TU, XAY_DUNG"
    assert _listed(demo_db_url)[MULTI] == ["DAU_TU", "XAY_DUNG"]
    (event,) = audit_events(demo_db, "desk.set_sectors")
    assert event.actor == "cli"
    assert json.loads(event.before) == {"code": MULTI, "sectors": ["DAT_DAI", "XAY_DUNG"]}
    assert json.loads(event.after) == {"code": MULTI, "sectors": ["DAU_TU", "XAY_DUNG"]}

    again = run(demo_db_url, "desks", "set-sectors", MULTI, "DAU_TU", "XAY_DUNG")
    assert again.exit_code == 0 and "(unchanged)" in again.output
    assert len(audit_events(demo_db, "desk.set_sectors")) == 1

    cleared = run(demo_db_url, "desks", "set-sectors", MULTI, "--none")
    assert cleared.exit_code == 0 and "no sector" in cleared.output
    assert _sectors(demo_db, MULTI) == []


def test_bad_input_exits_2_and_changes_nothing(demo_db_url, demo_db):
    unknown = run(demo_db_url, "desks", "set-sectors", MULTI, "DAT_DAI", "NOPE")
    assert unknown.exit_code == 2 and "NOPE" in unknown.output
    no_desk = run(demo_db_url, "desks", "set-sectors", "ZZZZZZZZ", "DAT_DAI")
    assert no_desk.exit_code == 2 and "ZZZZZZZZ" in no_desk.output
    # Clearing is never an accident: no SECTOR needs --none, and not both.
    bare = run(demo_db_url, "desks", "set-sectors", MULTI)
    both = run(demo_db_url, "desks", "set-sectors", MULTI, "DAT_DAI", "--none")
    assert bare.exit_code == both.exit_code == 2 and "--none" in bare.output
    assert _sectors(demo_db, MULTI) == ["DAT_DAI", "XAY_DUNG"]
    assert audit_events(demo_db, "desk.set_sectors") == []
