"""Fixtures for questionnaire definition tests: a small valid file to plant errors in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from questionnaires.errors import QuestionnaireError
from questionnaires.loader import load_file

MINI_TOML = """\
id = "mini"
version = 1
title.vi = "Phiếu thử"
title.en = "Test form"
aggregation = "top_two_box"
comment_prompt.vi = "Góp ý của Ông/Bà"
comment_prompt.en = "Your comments"

[scale]
satisfied_min = 4
na_label = { vi = "Không áp dụng", en = "Not applicable" }
points = [
  { value = 1, label = { vi = "Rất không hài lòng", en = "Very dissatisfied" } },
  { value = 2, label = { vi = "Không hài lòng", en = "Dissatisfied" } },
  { value = 3, label = { vi = "Bình thường", en = "Neutral" } },
  { value = 4, label = { vi = "Hài lòng", en = "Satisfied" } },
  { value = 5, label = { vi = "Rất hài lòng", en = "Very satisfied" } },
]

[[criteria]]
code = "TC"
name.vi = "Tiếp cận dịch vụ"
name.en = "Access to the service"
weight = 1.0

[[criteria.items]]
code = "TC1"
text.vi = "Dễ tìm được thông tin"
text.en = "Information was easy to find"
weight = 1.0

[[criteria.items]]
code = "TC2"
text.vi = "Giờ làm việc thuận tiện"
text.en = "Opening hours were convenient"
allow_na = false

[[criteria]]
code = "CC"
name.vi = "Sự phục vụ của công chức"
name.en = "Service by civil servants"
weight = 1.0

[[criteria.items]]
code = "CC1"
text.vi = "Công chức lịch sự"
text.en = "Staff were polite"
required = true

[overall_item]
code = "HL"
text.vi = "Nhìn chung, Ông/Bà hài lòng ở mức nào?"
text.en = "Overall, how satisfied are you?"
allow_na = false

[[demographics]]
code = "sex"
label = { vi = "Giới tính", en = "Sex" }
choices = [
  { code = "male", label = { vi = "Nam", en = "Male" } },
  { code = "female", label = { vi = "Nữ", en = "Female" } },
]
"""


@pytest.fixture
def mini_text() -> str:
    return MINI_TOML


@pytest.fixture
def edit() -> Callable[..., str]:
    """Replace one exact fragment of the mini file (fails loudly if it is not there)."""

    def _edit(old: str, new: str, text: str = MINI_TOML) -> str:
        assert text.count(old) == 1, f"fragment not found exactly once: {old!r}"
        return text.replace(old, new)

    return _edit


@pytest.fixture
def write_def(tmp_path: Path) -> Callable[..., Path]:
    def _write(text: str, name: str = "bad.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def problems_in(write_def: Callable[..., Path]) -> Callable[[str], list[str]]:
    """Load planted text from a file; return the problems, each checked to name the file."""

    def _problems(text: str) -> list[str]:
        path = write_def(text)
        with pytest.raises(QuestionnaireError) as info:
            load_file(path)
        assert info.value.problems, "an error must carry at least one problem"
        for message in info.value.problems:
            assert message.startswith(f"{path}: "), message
        return info.value.problems

    return _problems
