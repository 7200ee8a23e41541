"""The shipped definitions: the standard form from the six criteria, and the short form."""

from __future__ import annotations

import re
import unicodedata

import pytest

from questionnaires.loader import SHIPPED_DIR, find, to_dict
from questionnaires.model import LOCALES

CRITERIA = ["TC", "DK", "TT", "CC", "KQ", "PH"]
SCALE_VI = ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]


@pytest.fixture(scope="module")
def standard():
    return find("standard", 1)


@pytest.fixture(scope="module")
def short():
    return find("short", 1)


def texts(node, path=""):
    """Every {vi, en} text in a to_dict() tree, with its path."""
    if isinstance(node, dict):
        if set(node) == set(LOCALES):
            yield path, node
        else:
            for key, value in node.items():
                yield from texts(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from texts(value, f"{path}[{i}]")


def test_standard_has_the_six_criteria(standard):
    assert [c.code for c in standard.criteria] == CRITERIA
    assert standard.criteria[0].name["vi"] == "Tiếp cận dịch vụ"
    assert standard.criteria[5].name["vi"].startswith("Tiếp nhận và xử lý thông tin phản hồi")


def test_standard_item_counts_and_codes(standard):
    assert 18 <= len(standard.items()) <= 24
    for criterion in standard.criteria:
        assert 3 <= len(criterion.items) <= 5
        codes = [it.code for it in criterion.items]
        assert codes == [f"{criterion.code}{n}" for n in range(1, len(codes) + 1)]


@pytest.mark.parametrize("qid", ["standard", "short"])
def test_equal_weights(qid):
    q = find(qid)
    assert {c.weight for c in q.criteria} == {1.0}
    assert {it.weight for it in q.items()} == {1.0}


@pytest.mark.parametrize("qid", ["standard", "short"])
def test_all_texts_are_translated_nfc_and_tidy(qid):
    found = list(texts(to_dict(find(qid))))
    assert len(found) > 20
    for path, text in found:
        for locale in LOCALES:
            value = text[locale]
            assert value.strip() == value and value, (path, locale)
            assert unicodedata.is_normalized("NFC", value), (path, locale)
            assert "  " not in value, (path, locale)


@pytest.mark.parametrize("qid", ["standard", "short"])
def test_vietnamese_texts_use_vietnamese_letters(qid):
    # Guards against a file saved without diacritics ("Tiep can dich vu").
    q = find(qid)
    for c in q.criteria:
        assert re.search(r"[^\x00-\x7f]", c.name["vi"]), c.code


@pytest.mark.parametrize("qid", ["standard", "short"])
def test_scale_and_overall_item(qid):
    q = find(qid)
    assert q.scale.values == (1, 2, 3, 4, 5)
    assert [p.label["vi"] for p in q.scale.points] == SCALE_VI
    assert q.scale.na_label == {"vi": "Không áp dụng", "en": "Not applicable"}
    assert q.scale.satisfied_min == 4
    assert q.aggregation == "top_two_box"
    assert q.overall_item is not None and q.overall_item.code == "HL"
    assert "HL" not in q.item_codes() and q.criterion_of("HL") is None
    assert q.all_item_codes()[-1] == "HL"
    assert q.overall_item.allow_na is False and q.overall_item.required is True
    assert all(it.required for it in q.items())


def test_standard_demographics(standard):
    demographics = {d.code: d for d in standard.demographics}
    assert list(demographics) == ["client_type", "sex", "age_band", "channel"]
    assert [ch.label["vi"] for ch in demographics["client_type"].choices] == [
        "Người dân",
        "Doanh nghiệp",
    ]
    assert [ch.code for ch in demographics["channel"].choices] == ["in_person", "postal", "online"]


def test_some_items_allow_na_and_core_ones_do_not(standard):
    allow = {it.code: it.allow_na for it in standard.items()}
    # Online filing and feedback handling do not apply to everyone.
    assert allow["TC4"] and allow["PH2"] and allow["PH3"] and allow["KQ1"]
    assert not allow["TC1"] and not allow["TT1"]


def test_short_form_shares_codes_and_wording(standard, short):
    assert [c.code for c in short.criteria] == CRITERIA
    by_code = {it.code: it for it in standard.items()}
    for s_criterion, criterion in zip(short.criteria, standard.criteria, strict=True):
        assert s_criterion.name == criterion.name and s_criterion.weight == criterion.weight
        assert len(s_criterion.items) == 1
        item = s_criterion.items[0]
        # The whole item, not only its text: analysed together, it must mean the same.
        assert item == by_code[item.code]
        assert standard.criterion_of(item.code).code == s_criterion.code
    assert short.overall_item == standard.overall_item
    assert short.scale == standard.scale
    assert short.comment_prompt == standard.comment_prompt
    standard_demographics = {d.code: d for d in standard.demographics}
    for d in short.demographics:
        assert d == standard_demographics[d.code]


def test_shipped_files_explain_the_format():
    for path in SHIPPED_DIR.glob("*.toml"):
        head = path.read_text(encoding="utf-8")[:3000]
        assert "Hướng dẫn" in head and "How to edit" in head, path.name
        assert unicodedata.is_normalized("NFC", path.read_text(encoding="utf-8")), path.name
