"""Each validation rule, planted in an otherwise valid file."""

from __future__ import annotations

import unicodedata

import pytest

from questionnaires.errors import QuestionnaireError
from questionnaires.loader import load_file, load_text
from questionnaires.model import Questionnaire


def one(problems: list[str], *fragments: str) -> str:
    """The single problem that contains every fragment."""
    hits = [m for m in problems if all(f in m for f in fragments)]
    assert len(hits) == 1, f"expected one problem with {fragments}, got {problems}"
    return hits[0]


def test_mini_file_is_valid(write_def, mini_text):
    q = load_file(write_def(mini_text, "mini-v1.toml"))
    assert isinstance(q, Questionnaire)
    assert q.item_codes() == ["TC1", "TC2", "CC1"]
    assert q.overall_item is not None and q.overall_item.code == "HL"
    # Defaults for keys an officer may leave out.
    assert q.items()[1].weight == 1.0 and q.items()[0].allow_na is True
    assert q.items()[1].allow_na is False and q.items()[1].required is True


def test_error_is_a_value_error_carrying_a_list():
    assert issubclass(QuestionnaireError, ValueError)
    err = QuestionnaireError(["a: x", "b: y"])
    assert err.problems == ["a: x", "b: y"]
    assert str(err) == "a: x\nb: y"


# --- duplicate codes -------------------------------------------------------------


def test_duplicate_item_code_across_criteria(problems_in, edit):
    problems = problems_in(edit('code = "CC1"', 'code = "TC1"'))
    message = one(problems, "duplicate item code 'TC1'")
    assert "criteria[CC].items[TC1]" in message and "criterion TC" in message


def test_duplicate_item_code_within_a_criterion(problems_in, edit):
    problems = problems_in(edit('code = "TC2"', 'code = "TC1"'))
    assert "criteria[TC].items[TC1]" in one(problems, "duplicate item code 'TC1'")


def test_overall_item_code_must_differ_from_criterion_items(problems_in, edit):
    problems = problems_in(edit('code = "HL"', 'code = "CC1"'))
    message = one(problems, "duplicate item code 'CC1'")
    assert message.split(": ")[1] == "overall_item"


def test_duplicate_criterion_code(problems_in, edit):
    problems = problems_in(edit('code = "CC"\n', 'code = "TC"\n'))
    assert "criteria[TC]" in one(problems, "duplicate criterion code 'TC'")


def test_duplicate_demographic_choice_code(problems_in, edit):
    problems = problems_in(edit('code = "female"', 'code = "male"'))
    message = one(problems, "duplicate choice code 'male'")
    assert "demographics[sex].choices[male]" in message and "demographic sex" in message


def test_duplicate_demographic_code(problems_in, mini_text):
    extra = """
[[demographics]]
code = "sex"
label = { vi = "Giới tính", en = "Sex" }
choices = [{ code = "male", label = { vi = "Nam", en = "Male" } }]
"""
    problems = problems_in(mini_text + extra)
    assert "demographics[sex]" in one(problems, "duplicate demographic code 'sex'")


# --- translations and text -------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "path", "locale"),
    [
        ('text.en = "Information was easy to find"\n', "", "criteria[TC].items[TC1].text", "en"),
        ('text.vi = "Công chức lịch sự"\n', "", "criteria[CC].items[CC1].text", "vi"),
        ('name.vi = "Tiếp cận dịch vụ"\n', "", "criteria[TC].name", "vi"),
        ('title.en = "Test form"\n', "", "title", "en"),
        ('comment_prompt.vi = "Góp ý của Ông/Bà"\n', "", "comment_prompt", "vi"),
        ('text.en = "Overall, how satisfied are you?"\n', "", "overall_item.text", "en"),
        (', en = "Very satisfied"', "", "scale.points[#5].label", "en"),
        ('{ vi = "Không áp dụng", ', "{ ", "scale.na_label", "vi"),
        (
            '{ vi = "Giới tính", en = "Sex" }',
            '{ vi = "Giới tính" }',
            "demographics[sex].label",
            "en",
        ),
        ('{ vi = "Nữ", ', "{ ", "demographics[sex].choices[female].label", "vi"),
    ],
)
def test_missing_translation(problems_in, edit, old, new, path, locale):
    message = one(problems_in(edit(old, new)), f"missing '{locale}' translation")
    assert f": {path}: " in message


@pytest.mark.parametrize("blank", ["", "   ", "\\t \\n"])
def test_empty_text(problems_in, edit, blank):
    problems = problems_in(edit('"Staff were polite"', f'"{blank}"'))
    assert ": criteria[CC].items[CC1].text.en: " in one(problems, "text is empty")


def test_text_must_be_a_string(problems_in, edit):
    problems = problems_in(edit('"Staff were polite"', "42"))
    assert "criteria[CC].items[CC1].text.en" in one(problems, "must be text")


def test_non_nfc_text_is_rejected_naming_the_item(problems_in, edit):
    decomposed = unicodedata.normalize("NFD", "Công chức lịch sự")
    assert decomposed != "Công chức lịch sự"
    problems = problems_in(edit('"Công chức lịch sự"', f'"{decomposed}"'))
    message = one(problems, "not NFC-normalised")
    assert ": criteria[CC].items[CC1].text.vi: " in message
    assert "Unicode dựng sẵn" in message


def test_non_nfc_title_is_rejected(problems_in, edit):
    problems = problems_in(edit('"Phiếu thử"', f'"{unicodedata.normalize("NFD", "Phiếu thử")}"'))
    assert ": title.vi: " in one(problems, "not NFC-normalised")


# --- unknown keys ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ('aggregation = "top_two_box"', 'colour = "red"', "colour"),
        (
            'weight = 1.0\n\n[[criteria.items]]\ncode = "TC1"',
            'wieght = 1.0\n\n[[criteria.items]]\ncode = "TC1"',
            "criteria[TC].wieght",
        ),
        (
            'text.en = "Information was easy to find"',
            'txt = "x"\ntext.en = "Information was easy to find"',
            "criteria[TC].items[TC1].txt",
        ),
        (
            'text.en = "Staff were polite"',
            'text.en = "Staff were polite"\ntext.fr = "Personnel poli"',
            "criteria[CC].items[CC1].text.fr",
        ),
        ("{ value = 3,", "{ score = 3, value = 3,", "scale.points[#3].score"),
        ("satisfied_min = 4", "satisfied_min = 4\nmidpoint = 3", "scale.midpoint"),
        (
            "allow_na = false\n\n[[demographics]]",
            'allow_na = false\nnote = "x"\n\n[[demographics]]',
            "overall_item.note",
        ),
        ('code = "sex"', 'code = "sex"\noptional = true', "demographics[sex].optional"),
        (
            '{ code = "male",',
            '{ code = "male", order = 1,',
            "demographics[sex].choices[male].order",
        ),
    ],
)
def test_unknown_key_is_reported_with_its_path(problems_in, edit, old, new, path):
    key = path.rsplit(".", 1)[-1]
    message = one(problems_in(edit(old, new)), f"unknown key '{key}'")
    assert f": {path}: " in message
    assert "expected one of" in message


# --- weights ---------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["0", "-1.5", '"1"', "true", "nan", "inf"])
def test_item_weight_must_be_a_positive_number(problems_in, edit, bad):
    problems = problems_in(
        edit(
            'code = "TC1"\ntext.vi = "Dễ tìm được thông tin"\ntext.en = "Information was easy to find"\nweight = 1.0',
            f'code = "TC1"\ntext.vi = "Dễ tìm được thông tin"\ntext.en = "Information was easy to find"\nweight = {bad}',
        )
    )
    assert ": criteria[TC].items[TC1].weight: " in one(problems, "weight must be a positive number")


@pytest.mark.parametrize("bad", ["0", "-2", '"heavy"', "false"])
def test_criterion_weight_must_be_a_positive_number(problems_in, edit, bad):
    problems = problems_in(
        edit(
            'name.en = "Service by civil servants"\nweight = 1.0',
            f'name.en = "Service by civil servants"\nweight = {bad}',
        )
    )
    assert ": criteria[CC].weight: " in one(problems, "weight must be a positive number")


def test_integer_weight_is_accepted(write_def, edit):
    q = load_file(
        write_def(
            edit('text.en = "Staff were polite"', 'text.en = "Staff were polite"\nweight = 2')
        )
    )
    assert q.items()[2].weight == 2.0 and isinstance(q.items()[2].weight, float)


# --- scale -----------------------------------------------------------------------

POINT5 = '  { value = 5, label = { vi = "Rất hài lòng", en = "Very satisfied" } },\n'


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (POINT5, ""),  # only four points
        (POINT5, POINT5 + '  { value = 6, label = { vi = "Tuyệt vời", en = "Great" } },\n'),
        ("{ value = 1,", "{ value = 0,"),
        ("{ value = 2,", "{ value = 3,"),  # duplicate, 2 missing
        ("{ value = 5,", '{ value = "5",'),
        ("{ value = 4,", "{ value = 4.0,"),
        ("{ value = 1,", "{ value = true,"),
        ("points = [", 'points = [\n  { value = 0, label = { vi = "Không", en = "None" } },'),
    ],
)
def test_scale_must_be_exactly_one_to_five(problems_in, edit, old, new):
    message = one(problems_in(edit(old, new)), "exactly the points 1, 2, 3, 4, 5")
    assert ": scale.points: " in message


def test_scale_points_out_of_order(problems_in, edit):
    text = edit("{ value = 1,", "{ value = 9,")
    text = edit("{ value = 2,", "{ value = 1,", text)
    text = edit("{ value = 9,", "{ value = 2,", text)
    assert "got 2, 1, 3, 4, 5" in one(problems_in(text), "exactly the points")


@pytest.mark.parametrize("bad", ["1", "6", "4.5", '"4"'])
def test_satisfied_min_must_be_on_the_scale(problems_in, edit, bad):
    problems = problems_in(edit("satisfied_min = 4", f"satisfied_min = {bad}"))
    assert ": scale.satisfied_min: " in one(problems, "whole number from 2 to 5")


# --- structure -------------------------------------------------------------------

CC1_ITEM = """[[criteria.items]]
code = "CC1"
text.vi = "Công chức lịch sự"
text.en = "Staff were polite"
required = true
"""


def test_criterion_without_items(problems_in, edit):
    message = one(problems_in(edit(CC1_ITEM, "")), "has no items")
    assert ": criteria[CC]: criterion CC has no items" in message


def test_criterion_with_empty_items_list(problems_in, edit):
    text = edit(
        CC1_ITEM,
        "",
        edit(
            'name.en = "Service by civil servants"',
            'name.en = "Service by civil servants"\nitems = []',
        ),
    )
    assert "criterion CC has no items" in one(problems_in(text), "has no items")


def test_questionnaire_needs_criteria(problems_in, edit):
    problems = problems_in(
        edit('id = "mini"', 'criteria = []\nid = "mini"').split("[[criteria]]")[0]
    )
    assert ": criteria: " in one(problems, "at least one criterion")


@pytest.mark.parametrize("key", ["id", "version", "scale", "criteria", "title"])
def test_missing_required_top_level_key(problems_in, mini_text, key):
    lines = mini_text.splitlines(keepends=True)
    if key == "scale":
        start = lines.index("[scale]\n")
        end = lines.index("[[criteria]]\n")
        text = "".join(lines[:start] + lines[end:])
    elif key == "criteria":
        text = mini_text.split("[[criteria]]")[0] + mini_text[mini_text.index("[overall_item]") :]
    else:
        text = "".join(line for line in lines if not line.startswith((f"{key} =", f"{key}.")))
    one(problems_in(text), f"missing key '{key}'")


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        (
            'title.vi = "Phiếu thử"\ntitle.en = "Test form"',
            'title = "Phiếu thử"',
            ": title: must be a table",
        ),
        ("points = [", "points = 5\nold_points = [", ": scale.points: must be a list"),
        ('code = "HL"', "code = 7", ": overall_item.code: item code must be text"),
        (
            "allow_na = false\n\n[[demographics]]",
            'allow_na = "no"\n\n[[demographics]]',
            ": overall_item.allow_na: must be true or false",
        ),
        (
            "required = true",
            "required = 1",
            ": criteria[CC].items[CC1].required: must be true or false",
        ),
    ],
)
def test_wrong_value_types(problems_in, edit, old, new, fragment):
    problems = problems_in(edit(old, new))
    assert any(fragment in m for m in problems), problems


# --- id, version, codes, aggregation -----------------------------------------------


@pytest.mark.parametrize("bad", ["5", '"Mini Form"', '"mini@2"', '""', '"Mini"'])
def test_bad_id(problems_in, edit, bad):
    assert ": id: " in one(problems_in(edit('id = "mini"', f"id = {bad}")), "id must be")


@pytest.mark.parametrize("bad", ['"1"', "1.5", "true", "0", "-2"])
def test_bad_version(problems_in, edit, bad):
    problems = problems_in(edit("version = 1", f"version = {bad}"))
    assert ": version: " in one(problems, "version must be a whole number")


@pytest.mark.parametrize("bad", ["TC 1", "1TC", "TC-1", "", "TĆ1", "TC1!"])
def test_invalid_item_code(problems_in, edit, bad):
    problems = problems_in(edit('code = "TC1"', f'code = "{bad}"'))
    message = one(problems, "invalid item code")
    assert repr(bad) in message and ": criteria[TC].items[#1].code: " in message


@pytest.mark.parametrize(
    ("old", "new", "what", "path"),
    [
        ('code = "CC"\n', 'code = "C C"\n', "criterion", "criteria[#2].code"),
        ('code = "sex"', 'code = "giới_tính"', "demographic", "demographics[#1].code"),
        ('code = "female"', 'code = "fe-male"', "choice", "demographics[sex].choices[#2].code"),
    ],
)
def test_invalid_other_codes(problems_in, edit, old, new, what, path):
    message = one(problems_in(edit(old, new)), f"invalid {what} code")
    assert f": {path}: " in message


def test_unknown_aggregation_rule(problems_in, edit):
    problems = problems_in(edit('aggregation = "top_two_box"', 'aggregation = "median"'))
    message = one(problems, "unknown aggregation rule 'median'")
    assert ": aggregation: " in message and "top_two_box, mean" in message


def test_mean_aggregation_and_missing_aggregation_are_accepted(write_def, edit):
    assert load_file(write_def(edit('"top_two_box"', '"mean"'))).aggregation == "mean"
    default = load_file(write_def(edit('aggregation = "top_two_box"\n', ""), "b.toml"))
    assert default.aggregation == "top_two_box"


# --- syntax and file level ------------------------------------------------------------


def test_malformed_toml_reports_line_and_column(problems_in, edit):
    # Line 4 of the file loses its closing quote.
    (message,) = problems_in(edit('title.en = "Test form"', 'title.en = "Test form'))
    assert "line 4, column" in message and "invalid TOML syntax" in message


def test_truncated_toml_reports_end_of_file(problems_in, mini_text):
    (message,) = problems_in(mini_text + "extra =")
    assert "bad.toml: end of file: invalid TOML syntax: " in message


def test_toml_duplicate_key_is_a_syntax_error(problems_in, edit):
    (message,) = problems_in(edit("version = 1", "version = 1\nversion = 2"))
    assert "line 3, column" in message


def test_all_problems_are_reported_together(problems_in, edit):
    text = edit('code = "CC1"', 'code = "TC1"')
    text = edit('title.en = "Test form"\n', "", text)
    text = edit(
        'weight = 1.0\n\n[[criteria.items]]\ncode = "TC2"',
        'weight = 0\n\n[[criteria.items]]\ncode = "TC2"',
        text,
    )
    text = edit('aggregation = "top_two_box"', 'aggregation = "mode"\nextra = 1', text)
    problems = problems_in(text)
    for fragment in [
        "duplicate item code 'TC1'",
        ": title: missing 'en' translation",
        ": criteria[TC].items[TC1].weight: ",
        "unknown aggregation rule",
        "unknown key 'extra'",
    ]:
        assert any(fragment in m for m in problems), (fragment, problems)
    assert len(problems) == 5


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(QuestionnaireError) as info:
        load_file(path)
    assert info.value.problems == [f"{path}: cannot read file: No such file or directory"]


def test_file_that_is_not_utf8(tmp_path, mini_text):
    path = tmp_path / "latin1.toml"
    path.write_bytes(mini_text.replace("Phiếu thử", "Phieu th\xe9").encode("latin-1", "replace"))
    with pytest.raises(QuestionnaireError) as info:
        load_file(path)
    assert f"{path}: not UTF-8 text" in str(info.value)


def test_byte_order_mark_is_accepted(tmp_path, mini_text):
    path = tmp_path / "bom.toml"
    path.write_bytes(mini_text.encode("utf-8-sig"))
    assert load_file(path).id == "mini"


def test_load_text_names_the_source(mini_text):
    with pytest.raises(QuestionnaireError) as info:
        load_text(mini_text.replace('"top_two_box"', '"x"'), "upload.toml")
    assert info.value.problems[0].startswith("upload.toml: aggregation: ")
