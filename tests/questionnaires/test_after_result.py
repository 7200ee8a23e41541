"""Result items (``after_result``): validated, shipped on the result criterion,
kept out of the content hash, so annotating a published version is no new version."""

import json

from sqlalchemy import func, select

from questionnaires.loader import content_hash, from_dict, load_dir, load_file, to_dict
from survey.models import QuestionnaireVersion
from survey.services import questionnaires as qsvc
from tests.fixtures.questionnaires import MINI_TOML

CC1 = """code = "CC1"
text.vi = "Công chức lịch sự"
text.en = "Staff were polite"
required = true
"""


def _with_cc1(extra: str) -> str:
    assert MINI_TOML.count(CC1) == 1
    return MINI_TOML.replace(CC1, CC1 + extra)


def test_a_flag_that_is_not_true_or_false_is_refused_naming_the_item(problems_in):
    problems = problems_in(_with_cc1('after_result = "yes"\n'))
    assert len(problems) == 1
    assert problems[0].endswith(
        "criteria[CC].items[CC1].after_result: must be true or false, got 'yes'"
    )


def test_a_result_item_must_allow_not_applicable(problems_in):
    problems = problems_in(_with_cc1("after_result = true\nallow_na = false\n"))
    assert len(problems) == 1
    assert "criteria[CC].items[CC1].after_result" in problems[0]
    assert "must allow" in problems[0] and "allow_na = true" in problems[0]


def test_the_overall_item_cannot_be_a_result_item(problems_in, edit):
    problems = problems_in(
        edit(
            "allow_na = false\n\n[[demographics]]",
            "allow_na = true\nafter_result = true\n\n[[demographics]]",
        )
    )
    assert [p.split(": ", 1)[1] for p in problems] == [
        "overall_item.after_result: not allowed on the overall item"
    ]


def test_a_valid_flag_reaches_the_model_and_survives_a_round_trip(write_def):
    q = load_file(write_def(_with_cc1("after_result = true\n")))
    flagged = [it.code for it in q.items() if it.after_result]
    assert flagged == ["CC1"]
    assert from_dict(json.loads(json.dumps(to_dict(q)))) == q


def test_shipped_forms_flag_exactly_the_result_criterion():
    shipped = {q.id: q for q in load_dir()}
    for q in shipped.values():
        result = next(c for c in q.criteria if c.code == "KQ")
        flagged = [it.code for it in q.items() if it.after_result]
        assert flagged == [it.code for it in result.items], q.key
        assert all(it.allow_na for it in result.items)
        assert not q.overall_item.after_result
    assert [it.code for it in shipped["short"].items() if it.after_result] == ["KQ1"]
    assert len([it for it in shipped["standard"].items() if it.after_result]) == 4


def test_the_flag_is_left_out_of_the_content_hash():
    for q in load_dir():
        data = to_dict(q)
        for c in data["criteria"]:
            for item in c["items"]:
                item.pop("after_result", None)
        bare = from_dict(data)
        assert bare != q  # the flag is there...
        assert content_hash(bare) == content_hash(q)  # ...and no new version


def test_publishing_an_annotated_version_updates_it_in_place(db):
    """A database holding standard@1 from before the flag: publishing the file
    again keeps the one version and gives the pages the flag."""
    q = next(q for q in load_dir() if q.id == "standard")
    data = to_dict(q)
    for c in data["criteria"]:
        for item in c["items"]:
            item.pop("after_result", None)
    with db.session() as s:
        old, created = qsvc.publish(s, from_dict(data))
        assert created
    with db.session() as s:
        row, created = qsvc.publish(s, q)
        assert not created and row.id == old.id
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(QuestionnaireVersion)) == 1
        stored = qsvc.definition(s.get(QuestionnaireVersion, old.id))
    assert [it.code for it in stored.items() if it.after_result] == ["KQ1", "KQ2", "KQ3", "KQ4"]


def test_the_outline_officers_review_marks_the_result_items():
    from questionnaires.outline import render_outline

    short = next(q for q in load_dir() if q.id == "short")
    marked = [line.split()[0] for line in render_outline(short).splitlines() if "kết quả (" in line]
    assert marked == ["KQ1"]
    assert "N/A pre-selected" in render_outline(short, "en")
