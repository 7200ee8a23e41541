"""to_dict / from_dict round trip and the content hash."""

from __future__ import annotations

import copy
import json
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from questionnaires.errors import QuestionnaireError
from questionnaires.loader import content_hash, from_dict, load_dir, load_text, to_dict

ITEM_KEYS = {"code", "text", "weight", "allow_na", "required"}


@pytest.fixture(scope="module")
def shipped():
    return {q.id: q for q in load_dir()}


@pytest.mark.parametrize("qid", ["standard", "short"])
def test_round_trip_of_shipped_questionnaires(shipped, qid):
    q = shipped[qid]
    data = to_dict(q)
    # JSON-able, and still equal after an actual JSON trip.
    assert from_dict(json.loads(json.dumps(data, ensure_ascii=False))) == q
    assert to_dict(from_dict(data)) == data


def test_to_dict_shape(shipped):
    data = to_dict(shipped["standard"])
    assert set(data) == {
        "id",
        "version",
        "title",
        "criteria",
        "overall_item",
        "scale",
        "demographics",
        "comment_prompt",
        "aggregation",
    }
    assert data["id"] == "standard" and data["version"] == 1
    assert list(data["title"]) == ["vi", "en"]
    criterion = data["criteria"][0]
    assert set(criterion) == {"code", "name", "weight", "items"}
    assert set(criterion["items"][0]) == ITEM_KEYS
    assert set(data["overall_item"]) == ITEM_KEYS
    assert [p["value"] for p in data["scale"]["points"]] == [1, 2, 3, 4, 5]
    assert set(data["scale"]) == {"points", "na_label", "satisfied_min"}
    assert set(data["demographics"][0]) == {"code", "label", "choices"}
    assert data["aggregation"] == "top_two_box"


def test_round_trip_without_optional_parts(mini_text):
    data = to_dict(load_text(mini_text, "mini.toml"))
    data.update(overall_item=None, demographics=[], comment_prompt={})
    q = from_dict(data)
    assert q.overall_item is None and q.demographics == () and q.comment_prompt == {}
    assert to_dict(q) == data


def test_from_dict_validates_like_a_file(shipped):
    data = to_dict(shipped["short"])
    data["criteria"][1]["items"][0]["code"] = "TC1"
    data["scale"]["points"].pop()
    with pytest.raises(QuestionnaireError) as info:
        from_dict(data, "payload")
    assert len(info.value.problems) == 2
    assert all(m.startswith("payload: ") for m in info.value.problems)
    with pytest.raises(QuestionnaireError, match="<dict>: must be a table"):
        from_dict([])  # type: ignore[arg-type]


def test_content_hash_is_stable(shipped, mini_text):
    q = shipped["standard"]
    assert content_hash(q) == content_hash(from_dict(to_dict(q)))
    assert len(content_hash(q)) == 64 and int(content_hash(q), 16) >= 0
    # Comments, blank lines and "1" versus "1.0" are not content.
    a = load_text(mini_text, "a")
    b = load_text("# note\n\n" + mini_text.replace("weight = 1.0", "weight = 1"), "b")
    assert content_hash(a) == content_hash(b)


def test_content_hash_differs_between_questionnaires(shipped):
    assert content_hash(shipped["standard"]) != content_hash(shipped["short"])


def _set_text(d):
    d["criteria"][0]["items"][0]["text"]["vi"] += "."


def _set_weight(d):
    d["criteria"][0]["items"][0]["weight"] = 2.0


def _set_allow_na(d):
    d["criteria"][0]["items"][0]["allow_na"] = not d["criteria"][0]["items"][0]["allow_na"]


def _set_required(d):
    d["overall_item"]["required"] = False


def _swap_items(d):
    items = d["criteria"][0]["items"]
    items[0], items[1] = items[1], items[0]


def _set_criterion_weight(d):
    d["criteria"][1]["weight"] = 0.5


def _set_en_label(d):
    d["scale"]["points"][2]["label"]["en"] = "Neither"


def _set_aggregation(d):
    d["aggregation"] = "mean"


def _set_version(d):
    d["version"] = 2


def _drop_demographic(d):
    d["demographics"].pop()


@pytest.mark.parametrize(
    "change",
    [
        _set_text,
        _set_weight,
        _set_allow_na,
        _set_required,
        _swap_items,
        _set_criterion_weight,
        _set_en_label,
        _set_aggregation,
        _set_version,
        _drop_demographic,
    ],
)
def test_content_hash_changes_with_content(shipped, change):
    data = to_dict(shipped["standard"])
    changed = copy.deepcopy(data)
    change(changed)
    assert content_hash(from_dict(changed)) != content_hash(from_dict(data))


nfc_text = (
    st.text(min_size=1, max_size=40)
    .map(lambda s: unicodedata.normalize("NFC", s))
    .filter(lambda s: s.strip() != "")
)
weights = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(vi=nfc_text, en=nfc_text, weight=weights, allow_na=st.booleans(), required=st.booleans())
def test_round_trip_property(shipped, vi, en, weight, allow_na, required):
    data = to_dict(shipped["short"])
    data["criteria"][0]["items"][0].update(
        text={"vi": vi, "en": en}, weight=weight, allow_na=allow_na, required=required
    )
    q = from_dict(data)
    assert to_dict(q) == data
    assert from_dict(json.loads(json.dumps(to_dict(q)))) == q
    assert content_hash(from_dict(to_dict(q))) == content_hash(q)
