"""Folders of definitions: load_dir, find, and the folder conventions."""

from __future__ import annotations

import pytest

from questionnaires.errors import QuestionnaireError, QuestionnaireNotFound
from questionnaires.loader import SHIPPED_DIR, find, load_dir, parse_key, scan_dir


@pytest.fixture
def versions_dir(tmp_path, mini_text, edit):
    """mini v1 and v3 (no v2), plus a second id."""
    (tmp_path / "mini-v1.toml").write_text(mini_text, encoding="utf-8")
    (tmp_path / "mini-v3.toml").write_text(edit("version = 1", "version = 3"), encoding="utf-8")
    (tmp_path / "other-v1.toml").write_text(edit('id = "mini"', 'id = "other"'), encoding="utf-8")
    (tmp_path / "README.txt").write_text("not a definition", encoding="utf-8")
    return tmp_path


def test_load_dir_defaults_to_the_shipped_folder():
    assert [q.key for q in load_dir()] == ["short@1", "standard@1"]
    assert {p.name for p in SHIPPED_DIR.glob("*.toml")} == {"standard-v1.toml", "short-v1.toml"}


def test_load_dir_sorts_by_id_and_version(versions_dir):
    assert [q.key for q in load_dir(versions_dir)] == ["mini@1", "mini@3", "other@1"]


def test_find_latest_and_specific_version(versions_dir):
    assert find("mini", directory=versions_dir).version == 3
    assert find("mini", 1, directory=versions_dir).version == 1
    assert find("standard").key == "standard@1"


@pytest.mark.parametrize(("qid", "version"), [("mini", 2), ("nope", None)])
def test_find_unknown(versions_dir, qid, version):
    with pytest.raises(QuestionnaireNotFound, match=qid):
        find(qid, version, directory=versions_dir)
    assert issubclass(QuestionnaireNotFound, LookupError)


def test_file_name_must_match_id_and_version(versions_dir):
    (versions_dir / "mini-v3.toml").rename(versions_dir / "mini-latest.toml")
    with pytest.raises(QuestionnaireError) as info:
        load_dir(versions_dir)
    (message,) = info.value.problems
    assert "mini-latest.toml: file name should be mini-v3.toml" in message


def test_same_version_twice_is_rejected(versions_dir, mini_text, edit):
    # A copy whose version was not bumped: named as v2, still says version 1.
    (versions_dir / "mini-v2.toml").write_text(mini_text, encoding="utf-8")
    with pytest.raises(QuestionnaireError) as info:
        load_dir(versions_dir)
    assert any("mini-v2.toml: mini@1 is already defined in" in m for m in info.value.problems)


def test_load_dir_reports_problems_of_every_file(versions_dir, mini_text, edit):
    (versions_dir / "mini-v1.toml").write_text(edit('code = "CC1"', 'code = "TC1"'), "utf-8")
    (versions_dir / "other-v1.toml").write_text("id = ", encoding="utf-8")
    with pytest.raises(QuestionnaireError) as info:
        load_dir(versions_dir)
    text = str(info.value)
    assert "mini-v1.toml: criteria[CC].items[TC1]: duplicate item code 'TC1'" in text
    assert "other-v1.toml: end of file: invalid TOML syntax: " in text


def test_scan_dir_keeps_valid_files(versions_dir):
    (versions_dir / "other-v1.toml").write_text("id = ", encoding="utf-8")
    results = {r.path.name: r for r in scan_dir(versions_dir)}
    assert results["mini-v1.toml"].questionnaire is not None
    assert results["other-v1.toml"].questionnaire is None and results["other-v1.toml"].problems


def test_load_dir_on_a_missing_folder(tmp_path):
    with pytest.raises(QuestionnaireError, match="not a directory"):
        load_dir(tmp_path / "missing")


@pytest.mark.parametrize(
    ("key", "expected"),
    [("standard", ("standard", None)), ("standard@2", ("standard", 2)), ("a-b@10", ("a-b", 10))],
)
def test_parse_key(key, expected):
    assert parse_key(key) == expected


@pytest.mark.parametrize("key", ["", "@1", "standard@", "standard@x", "standard@-1", "standard@²"])
def test_parse_key_rejects(key):
    with pytest.raises(ValueError, match="ID@VERSION"):
        parse_key(key)
