"""Target governance: percentages typed the vi_VN way, and a unit that may raise
the target it inherits but never lower it (web form and ``survey targets``).

Demo targets for 2026: the province KH 85% overall, 75% for land/construction/
investment (DD-XD-DT); the commune KH-DIENKHANH has none of its own, so it
inherits 85% from KH.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from survey.cli import cli
from survey.messages import english
from survey.messages import org as org_words
from survey.models import AuditEvent, SectorGroup, Target, Unit, User
from tests.support import TEST_SECRET, audit_count, audit_events

COMMUNE = "KH-DIENKHANH"
SHARE_MESSAGE = "Nhập chỉ tiêu theo phần trăm, ví dụ 85"


def _unit_id(db, code: str) -> int:
    with db.session() as s:
        return s.scalar(select(Unit.id).where(Unit.code == code))


def _group_id(db, code: str) -> int:
    with db.session() as s:
        return s.scalar(select(SectorGroup.id).where(SectorGroup.code == code))


def _stored(db, code: str = COMMUNE, year: int = 2026, group: int | None = None):
    with db.session() as s:
        unit_id = s.scalar(select(Unit.id).where(Unit.code == code))
        clause = (
            Target.sector_group_id.is_(None) if group is None else (Target.sector_group_id == group)
        )
        row = s.scalar(select(Target).where(Target.unit_id == unit_id, Target.year == year, clause))
        if row is None:
            return None
        setter = s.get(User, row.set_by_id) if row.set_by_id else None
        return row.threshold, row.source, setter.username if setter else None


def _post(client, unit_id: int, threshold: str, group: str = "", year: str = "2026"):
    return client.post(
        f"/staff/units/{unit_id}/targets",
        data={"year": year, "group": group, "threshold": threshold, "source": "KH số 7/KH-UBND"},
    )


def _commune_manager(sign_in_as):
    return sign_in_as("unit_manager", COMMUNE, username="dk_manager", full_name="Lê Thị Diên")


# --- percentages ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0,85", SHARE_MESSAGE),
        ("0.5", SHARE_MESSAGE),
        ("1", SHARE_MESSAGE),
        ("49", "Chỉ tiêu không được thấp hơn 50%."),
        ("100", "Chỉ tiêu phải nhỏ hơn 100%"),
        ("101", "Chỉ tiêu phải nhỏ hơn 100%"),
        ("abc", "Chỉ tiêu là một số phần trăm, ví dụ 85 hoặc 85,5."),
    ],
)
def test_a_threshold_that_is_no_percentage_is_refused(
    demo_client, demo_db, world, nocsrf, sign_in_as, typed, message
):
    _commune_manager(sign_in_as)
    events = audit_count(demo_db)
    resp = _post(demo_client, _unit_id(demo_db, COMMUNE), typed)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert message in html
    assert audit_count(demo_db) == events
    assert _stored(demo_db) is None


@pytest.mark.parametrize(("typed", "share"), [("85", 0.85), ("85%", 0.85), ("85,5", 0.855)])
def test_percentages_are_read_the_vietnamese_way(
    demo_client, demo_db, world, nocsrf, sign_in_as, typed, share
):
    _commune_manager(sign_in_as)
    unit_id = _unit_id(demo_db, COMMUNE)
    assert _post(demo_client, unit_id, typed).status_code == 302
    threshold, source, set_by = _stored(demo_db)
    assert threshold == pytest.approx(share) and set_by == "dk_manager"
    page = demo_client.get(f"/staff/units/{unit_id}/targets?year=2026").get_data(as_text=True)
    assert ("85,5%" if share == 0.855 else "85%") in page


# --- raise, never lower -------------------------------------------------------------
def test_a_unit_manager_cannot_lower_the_inherited_target(
    demo_client, demo_db, world, nocsrf, sign_in_as
):
    _commune_manager(sign_in_as)
    unit_id = _unit_id(demo_db, COMMUNE)
    events = audit_count(demo_db)
    resp = _post(demo_client, unit_id, "84")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "không được thấp hơn chỉ tiêu kế thừa 85%" in html
    assert "Tỉnh Khánh Hòa" in html
    # The same for a sector group: the province's 75% for land is a floor too.
    land = _group_id(demo_db, "DD-XD-DT")
    assert _post(demo_client, unit_id, "74,5", group=str(land)).status_code == 422
    assert audit_count(demo_db) == events
    assert _stored(demo_db) is None and _stored(demo_db, group=land) is None


def test_a_unit_manager_can_raise_it_and_the_page_says_by_whom(
    demo_client, demo_db, world, nocsrf, sign_in_as
):
    _commune_manager(sign_in_as)
    unit_id = _unit_id(demo_db, COMMUNE)
    page = demo_client.get(f"/staff/units/{unit_id}/targets?year=2026").get_data(as_text=True)
    assert "Kế thừa từ Tỉnh Khánh Hòa (dữ liệu mẫu) — Dữ liệu mẫu — KH CCHC" in page
    assert _post(demo_client, unit_id, "90").status_code == 302
    assert _stored(demo_db) == (pytest.approx(0.9), "KH số 7/KH-UBND", "dk_manager")
    page = demo_client.get(f"/staff/units/{unit_id}/targets?year=2026").get_data(as_text=True)
    assert "Đặt tại đơn vị bởi Lê Thị Diên (KH số 7/KH-UBND), cao hơn chỉ tiêu kế thừa 85%" in page
    (created,) = audit_events(demo_db, "target.create")
    after = json.loads(created.after)
    assert after["set_by"] == "dk_manager" and created.actor == "dk_manager"
    assert after["inherited_threshold"] == pytest.approx(0.85)
    assert after["below_inherited"] is False


def test_a_manager_of_the_province_may_set_it_lower_and_it_is_marked(
    demo_client, demo_db, world, nocsrf, sign_in_as
):
    sign_in_as("unit_manager", "KH", username="kh_manager", full_name="Phạm Văn Tỉnh")
    unit_id = _unit_id(demo_db, COMMUNE)
    assert _post(demo_client, unit_id, "80").status_code == 302
    assert _stored(demo_db) == (pytest.approx(0.8), "KH số 7/KH-UBND", "kh_manager")
    (created,) = audit_events(demo_db, "target.create")
    after = json.loads(created.after)
    assert after["set_by"] == "kh_manager" and after["below_inherited"] is True
    assert after["inherited_threshold"] == pytest.approx(0.85)
    page = demo_client.get(f"/staff/units/{unit_id}/targets?year=2026").get_data(as_text=True)
    assert "thấp hơn chỉ tiêu kế thừa 85%, do Tỉnh Khánh Hòa (dữ liệu mẫu) quyết định" in page
    # The commune's own manager cannot move a lower target decided above it.
    _commune_manager(sign_in_as)
    assert _post(demo_client, unit_id, "82").status_code == 422
    assert _stored(demo_db)[0] == pytest.approx(0.8)


def test_an_admin_may_set_it_lower(demo_client, demo_db, world, nocsrf, sign_in_as):
    sign_in_as("admin", "KH")
    assert _post(demo_client, _unit_id(demo_db, COMMUNE), "70").status_code == 302
    assert _stored(demo_db)[0] == pytest.approx(0.7)


def test_a_ward_manager_may_lower_the_target_of_a_unit_below_it(
    demo_client, demo_db, world, nocsrf, sign_in_as
):
    # KH-CAMRANH-TO1 inherits Cam Ranh's 87%; Cam Ranh's manager is above it.
    sign_in_as("unit_manager")
    assert _post(demo_client, world.child_in, "80").status_code == 302
    assert _stored(demo_db, "KH-CAMRANH-TO1")[0] == pytest.approx(0.8)


# --- who reads the target changes -------------------------------------------------------
def test_an_analyst_of_the_province_reads_the_communes_target_changes(
    demo_client, demo_db, world, nocsrf, sign_in_as
):
    _commune_manager(sign_in_as)
    assert _post(demo_client, _unit_id(demo_db, COMMUNE), "90").status_code == 302
    sign_in_as("admin", "KH")
    demo_client.post(f"/staff/desks/{world.desk_in}/rename", data={"name": "Quầy đổi tên"})

    sign_in_as("analyst", "KH", username="kh_analyst")
    resp = demo_client.get("/staff/audit")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Thêm chỉ tiêu" in html and "dk_manager" in html and COMMUNE in html
    # Only target changes: not the desk rename, not the refused sign-ins.
    assert "Đổi tên quầy" not in html and "Quầy đổi tên" not in html
    assert "Đăng nhập sai" not in html

    # An analyst of another ward does not see the commune's.
    sign_in_as("analyst")
    html = demo_client.get("/staff/audit").get_data(as_text=True)
    assert "Thêm chỉ tiêu" not in html and COMMUNE not in html


# --- the command line ----------------------------------------------------------------------
def _cli(url: str, *args: str):
    env = {"SURVEY_DATABASE_URL": url, "SURVEY_SECRET_KEY": TEST_SECRET, "SURVEY_ENV": "testing"}
    return CliRunner().invoke(cli, ["targets", *args], env=env, catch_exceptions=False)


def _cli_message(app, code: str, **params) -> str:
    with app.app_context():
        return english(org_words.text, code, **params)


@pytest.fixture
def commune_manager(demo_db, cheap_hash):
    from tests.support import add_user

    with demo_db.session() as s:
        unit_id = s.scalar(select(Unit.id).where(Unit.code == COMMUNE))
        add_user(s, cheap_hash, "dk_manager", "unit_manager", unit_id, full_name="Lê Thị Diên")
        add_user(s, cheap_hash, "dk_analyst", "analyst", unit_id)
    return "dk_manager"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("0,85", "threshold_as_share"),
        ("49", "threshold_too_low"),
        ("100", "threshold_too_high"),
        ("abc", "threshold_not_percent"),
    ],
)
def test_cli_refuses_what_the_form_refuses(demo_app, demo_db_url, demo_db, typed, code):
    events = audit_count(demo_db)
    result = _cli(demo_db_url, "set", "--unit", COMMUNE, "--year", "2026", "--threshold", typed)
    assert result.exit_code == 2
    # The staff page's message, in the commands' language (English).
    assert f"error: --threshold: {_cli_message(demo_app, code)}" in result.output
    assert audit_count(demo_db) == events and _stored(demo_db) is None


def test_cli_as_a_unit_manager_cannot_lower_but_can_raise(
    demo_app, demo_db_url, demo_db, commune_manager
):
    base = ("set", "--unit", COMMUNE, "--year", "2026", "--as", commune_manager)
    refused = _cli(demo_db_url, *base, "--threshold", "84")
    assert refused.exit_code == 2
    assert (
        _cli_message(
            demo_app, "below_inherited", inherited="85%", unit="Tỉnh Khánh Hòa (dữ liệu mẫu)"
        )
        in refused.output
    )
    assert _stored(demo_db) is None and audit_events(demo_db, "target.create") == []

    raised = _cli(demo_db_url, *base, "--threshold", "90", "--source", "QĐ 12/QĐ-UBND")
    assert raised.exit_code == 0, raised.output
    assert _stored(demo_db) == (pytest.approx(0.9), "QĐ 12/QĐ-UBND", "dk_manager")
    (created,) = audit_events(demo_db, "target.create")
    assert created.actor == "dk_manager" and json.loads(created.after)["set_by"] == "dk_manager"

    listed = _cli(demo_db_url, "list", "--unit", COMMUNE, "--year", "2026", "--format", "json")
    assert listed.exit_code == 0, listed.output
    rows = {r["group"]: r for r in json.loads(listed.output)}
    own = rows[None]
    assert own["unit"] == COMMUNE and own["year"] == 2026
    assert own["threshold"] == 90.0 and own["source"] == "QĐ 12/QĐ-UBND"
    assert own["set_by"] == "dk_manager" and own["inherited_from"] is None
    assert own["inherited_threshold"] == 85.0
    assert "Lê Thị Diên" in own["provenance"]
    # The land group keeps the province's 75%: inherited, with its plan.
    land = rows["DD-XD-DT"]
    assert land["threshold"] == 75.0 and land["inherited_from"] == "KH"
    assert land["inherited_threshold"] is None and "75%" in land["source"]


def test_cli_without_as_acts_as_the_operator(demo_db_url, demo_db, commune_manager):
    result = _cli(demo_db_url, "set", "--unit", COMMUNE, "--year", "2026", "--threshold", "80")
    assert result.exit_code == 0, result.output
    assert _stored(demo_db) == (pytest.approx(0.8), "", None)
    with demo_db.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "target.create"))
        assert event.actor == "cli" and json.loads(event.after)["below_inherited"] is True


@pytest.mark.parametrize("who", ["dk_analyst", "nobody"])
def test_cli_as_someone_without_the_right_changes_nothing(
    demo_db_url, demo_db, commune_manager, who
):
    result = _cli(
        demo_db_url, "set", "--unit", COMMUNE, "--year", "2026", "--threshold", "90", "--as", who
    )
    assert result.exit_code == 2 and "error:" in result.output
    assert _stored(demo_db) is None


def test_cli_list_table_names_each_source(demo_db_url, demo_db):
    result = _cli(demo_db_url, "list", "--unit", "KH-TTHCC", "--year", "2026")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["year", "group", "threshold"]
    assert any("overall" in line and "85%" in line and "KH" in line for line in lines[1:])
    assert _cli(demo_db_url, "list", "--unit", "NOPE").exit_code == 2


def test_a_province_that_raises_its_target_later_is_not_undercut_below(
    demo_client, demo_db, world, nocsrf, sign_in_as
):
    from survey.services.org.targets import effective_target

    _commune_manager(sign_in_as)
    assert _post(demo_client, _unit_id(demo_db, COMMUNE), "87").status_code == 302
    sign_in_as("unit_manager", "KH", username="kh_manager")
    assert _post(demo_client, _unit_id(demo_db, "KH"), "90").status_code == 302
    with demo_db.session() as s:
        commune = s.scalar(select(Unit).where(Unit.code == COMMUNE))
        # The commune's 87% is kept but no longer applies: the province's 90% does.
        assert _stored(demo_db)[0] == pytest.approx(0.87)
        assert effective_target(s, commune, 2026).threshold == pytest.approx(0.9)
    # A lower target decided from above still applies.
    assert _post(demo_client, _unit_id(demo_db, COMMUNE), "80").status_code == 302
    with demo_db.session() as s:
        commune = s.scalar(select(Unit).where(Unit.code == COMMUNE))
        assert effective_target(s, commune, 2026).threshold == pytest.approx(0.8)
