"""The `survey questionnaire` click commands, through click's CliRunner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import questionnaires
from questionnaires.commands import questionnaire_group
from questionnaires.loader import SHIPPED_DIR, find, to_dict

STANDARD = SHIPPED_DIR / "standard-v1.toml"
SHORT = SHIPPED_DIR / "short-v1.toml"


@pytest.fixture
def run():
    runner = CliRunner()

    def _run(*args: str):
        return runner.invoke(questionnaire_group, [str(a) for a in args])

    return _run


def test_group_shape():
    assert isinstance(questionnaire_group, click.Group)
    assert questionnaire_group.name == "questionnaire"
    assert {"validate", "list", "show"} <= set(questionnaire_group.commands)


def test_commands_do_not_import_flask():
    # A fresh interpreter: this test process may already have Flask loaded.
    code = "import sys, questionnaires.commands; print('flask' in sys.modules)"
    root = str(Path(questionnaires.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": root}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "False"


def test_validate_shipped_files(run):
    result = run("validate", STANDARD, SHORT)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith("OK ") for line in lines)
    assert "standard@1: 6 criteria, 23 items" in lines[0]
    assert result.stderr == ""


def test_validate_a_folder(run):
    result = run("validate", SHIPPED_DIR)
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2


def test_validate_planted_duplicate_fails_naming_the_code(run, write_def, edit):
    bad = write_def(edit('code = "CC1"', 'code = "TC1"'))
    result = run("validate", STANDARD, bad)
    assert result.exit_code == 2
    assert result.stdout.startswith("OK ")  # the good file is still reported
    assert f"{bad}: criteria[CC].items[TC1]: duplicate item code 'TC1'" in result.stderr


def test_validate_reports_every_error_of_every_file(run, write_def, edit, tmp_path):
    first = write_def(edit('aggregation = "top_two_box"', 'aggregation = "x"\nfoo = 1'), "a.toml")
    second = write_def(edit("version = 1", "version = 1\nversion = 2"), "b.toml")
    result = run("validate", first, second, tmp_path / "missing.toml")
    assert result.exit_code == 2 and result.stdout == ""
    errors = result.stderr.splitlines()
    assert len(errors) == 4
    assert any("a.toml: aggregation:" in e for e in errors)
    assert any("a.toml: foo: unknown key" in e for e in errors)
    assert any("b.toml: line 3, column" in e for e in errors)
    assert any("missing.toml: cannot read file" in e for e in errors)


def test_validate_needs_a_path(run):
    assert run("validate").exit_code == 2


def test_validate_empty_folder(run, tmp_path):
    result = run("validate", tmp_path)
    assert result.exit_code == 2 and "no .toml files" in result.stderr


def test_list_json(run):
    result = run("list", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["id"], r["version"]) for r in rows] == [("short", 1), ("standard", 1)]
    for row in rows:
        assert set(row) == {"id", "version", "title", "criteria_count", "item_count"}
        assert set(row["title"]) == {"vi", "en"}
        assert row["criteria_count"] == 6
    standard = rows[1]
    assert standard["item_count"] == len(find("standard").items())  # HL not counted
    assert rows[0]["item_count"] == 6


def test_list_table(run):
    result = run("list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "VERSION", "CRITERIA", "ITEMS", "TITLE"]
    assert lines[2].startswith("standard") and "Khảo sát sự hài lòng" in lines[2]
    assert "Citizen and business" in run("list", "--lang", "en").stdout


def test_list_other_folder(run, write_def, mini_text, tmp_path):
    write_def(mini_text, "mini-v1.toml")
    rows = json.loads(run("list", "--format", "json", "--dir", tmp_path).stdout)
    assert rows == [
        {
            "id": "mini",
            "version": 1,
            "title": {"vi": "Phiếu thử", "en": "Test form"},
            "criteria_count": 2,
            "item_count": 3,
        }
    ]


def test_list_fails_on_an_invalid_folder(run, write_def, edit, tmp_path):
    write_def(edit("version = 1", "version = 0"), "mini-v1.toml")
    result = run("list", "--dir", tmp_path)
    assert result.exit_code == 2 and "mini-v1.toml: version:" in result.stderr


@pytest.mark.parametrize("key", ["standard", "standard@1"])
def test_show_json_is_to_dict(run, key):
    result = run("show", key, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == to_dict(find("standard", 1))


def test_show_text_outline(run):
    vi = run("show", "standard").stdout
    assert vi.startswith("Khảo sát sự hài lòng") and "(standard@1)" in vi
    assert "1. TC – Tiếp cận dịch vụ" in vi
    assert "HL" in vi and "không tính vào chỉ số" in vi
    en = run("show", "short@1", "--lang", "en").stdout
    assert "Access to the service" in en and "Very satisfied" in en
    assert "TC1   Information about the procedure I needed was easy to find" in en


def test_show_unknown_questionnaire(run):
    result = run("show", "standard@9")
    assert result.exit_code == 2 and "error: no questionnaire standard@9" in result.stderr


def test_show_bad_key(run):
    result = run("show", "standard@latest")
    assert result.exit_code == 2 and "ID@VERSION" in result.stderr
