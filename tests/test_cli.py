"""The `survey` command line, run in-process against a real database."""

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from survey.cli import cli
from survey.models import QuestionnaireVersion, User
from tests.support import TEST_SECRET


def run(url, *args, env=None):
    runner = CliRunner()
    base = {"SURVEY_DATABASE_URL": url, "SURVEY_SECRET_KEY": TEST_SECRET, "SURVEY_ENV": "testing"}
    base.update(env or {})
    return runner.invoke(cli, list(args), env=base, catch_exceptions=False)


def test_help_lists_the_commands():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("db", "demo", "desks", "user", "questionnaire", "run"):
        assert f"  {name} " in result.output


def test_db_upgrade_creates_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = run(url, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "head" in result.output


def test_demo_then_desks_list_json(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert run(url, "db", "upgrade").exit_code == 0
    first = run(url, "demo")
    assert first.exit_code == 0 and "responses +" in first.output
    again = run(url, "demo", "--if-empty")
    assert "not loaded" in again.output
    result = run(
        url,
        "desks",
        "list",
        "--format",
        "json",
        env={"SURVEY_BASE_URL": "https://khaosat.example.vn"},
    )
    rows = json.loads(result.output)
    assert len(rows) >= 12
    assert set(rows[0]) == {"code", "name", "unit", "url", "active", "responses", "sectors"}
    assert all(r["url"] == f"https://khaosat.example.vn/s/{r['code']}" for r in rows)
    assert sum(r["responses"] for r in rows) > 2000
    assert any(not r["active"] for r in rows)
    table = run(url, "desks", "list", "--unit", "KH-CAMRANH")
    assert "KH-CAMRANH" in table.output and "KH-NHATRANG" not in table.output
    bad = run(url, "desks", "list", "--unit", "NOPE")
    assert bad.exit_code != 0 and "NOPE" in bad.output


def test_user_create_prints_one_time_password(empty_db_url, db):
    from survey.models import Unit

    with db.session() as s:
        s.add(Unit(code="KH", name="Tỉnh", kind="province"))
    result = run(empty_db_url, "user", "create", "lan", "--role", "analyst", "--unit", "KH")
    assert result.exit_code == 0, result.output
    password = result.output.split("one-time password: ")[1].split()[0]
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == "lan"))
        assert user.role == "analyst" and user.must_change_password
        assert password not in user.password_hash
    dup = run(empty_db_url, "user", "create", "lan", "--role", "analyst", "--unit", "KH")
    assert dup.exit_code == 2 and "already exists" in dup.output
    same = run(
        empty_db_url, "user", "create", "lan", "--role", "admin", "--unit", "KH", "--if-missing"
    )
    assert same.exit_code == 0 and "already exists" in same.output
    bad_unit = run(empty_db_url, "user", "create", "x", "--role", "admin", "--unit", "ZZ")
    assert bad_unit.exit_code == 2 and "ZZ" in bad_unit.output


def test_questionnaire_publish_is_immutable(empty_db_url, db, tmp_path):
    from questionnaires.loader import SHIPPED_DIR

    src = SHIPPED_DIR / "short-v1.toml"
    assert run(empty_db_url, "questionnaire", "publish", str(src)).exit_code == 0
    again = run(empty_db_url, "questionnaire", "publish", str(src))
    assert again.exit_code == 0 and "unchanged" in again.output
    changed = tmp_path / "short-v1.toml"
    text = src.read_text(encoding="utf-8")
    changed.write_text(text.replace("Rất hài lòng", "Vô cùng hài lòng", 1), encoding="utf-8")
    refused = run(empty_db_url, "questionnaire", "publish", str(changed))
    assert refused.exit_code == 2
    assert "short@1" in refused.output and "immutable" in refused.output
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(QuestionnaireVersion)) == 1


def test_a_refused_publish_writes_none_of_the_files(empty_db_url, db, tmp_path):
    """One transaction per command: a refusal after a first write rolls it back."""
    from questionnaires.loader import SHIPPED_DIR

    first = run(empty_db_url, "questionnaire", "publish", str(SHIPPED_DIR / "short-v1.toml"))
    assert first.exit_code == 0
    changed = tmp_path / "short-v1.toml"
    text = (SHIPPED_DIR / "short-v1.toml").read_text(encoding="utf-8")
    changed.write_text(text.replace("Rất hài lòng", "Vô cùng hài lòng", 1), encoding="utf-8")
    others = sorted(p for p in SHIPPED_DIR.glob("*.toml") if p.name != "short-v1.toml")
    assert others
    refused = run(empty_db_url, "questionnaire", "publish", *map(str, others), str(changed))
    assert refused.exit_code == 2 and refused.output.startswith("error: ")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(QuestionnaireVersion)) == 1


def test_write_atomically_replaces_whole_or_not_at_all(tmp_path):
    from survey.files import write_atomically

    target = tmp_path / "out.pdf"
    write_atomically(target, b"old")
    write_atomically(target, iter([b"n", b"ew"]))
    assert target.read_bytes() == b"new"

    def broken():
        yield b"half"
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, broken())
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.pdf"]  # no temporary file left


def test_plan_uses_the_verdict_rule_and_says_so():
    plan = CliRunner().invoke(cli, ["plan", "--target", "0.85", "--expected", "0.88"])
    assert plan.exit_code == 0
    assert plan.output.startswith("1053 responses to show 88% > 85%")
    assert "two-sided 95% confidence interval lies entirely above the target" in plan.output
    assert "power 80%" in plan.output
    below = CliRunner().invoke(cli, ["plan", "--target", "0.85", "--expected", "0.82"])
    assert below.exit_code == 0 and "to show 82% < 85%" in below.output
    assert "entirely below the target" in below.output and "82% > 85%" not in below.output
    one = CliRunner().invoke(cli, ["plan", "--target", "0.85", "--expected", "0.88", "--one-sided"])
    assert one.exit_code == 0 and one.output.startswith("824 responses")
    assert "one-sided test at level 0.05" in one.output and "not the reports'" in one.output
    for bad, words in (
        (["--expected", "0.85"], "expected equals target"),
        (["--expected", "1.5"], "expected must be strictly between 0 and 1"),
        (["--expected", "0.88", "--deff", "-1"], "deff must be a positive number"),
        (["--expected", "many"], "Invalid value for '--expected'"),
    ):
        result = CliRunner().invoke(cli, ["plan", "--target", "0.85", *bad])
        assert result.exit_code == 2 and words in result.output, result.output
