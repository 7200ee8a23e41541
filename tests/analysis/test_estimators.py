"""Point estimates checked by hand."""

from __future__ import annotations

import pytest

from analysis import analyze
from tests.analysis.support import make_questionnaire, small_frame


def test_shares_exclude_na_and_blanks(small_q):
    df = small_frame(
        {
            "P1": [5, 4, 3, "NA", "", 2],  # 2 of 4 answered satisfied
            "P2": [5, 5, 5, 5, 1, "NA"],  # 4 of 5
            "Q1": [1, 4, 4, 4, "", ""],  # 3 of 4
            "HL": [5, 5, 1, 1, 1, "NA"],  # 2 of 5
        }
    )
    res = analyze(df, small_q, by=["desk"])
    items = {i["code"]: i for i in res["items"]}
    assert items["P1"]["estimate"] == pytest.approx(0.5)
    assert items["P1"]["n"] == 4 and items["P1"]["n_na"] == 1 and items["P1"]["n_blank"] == 1
    assert items["P2"]["estimate"] == pytest.approx(0.8)
    crit = {c["code"]: c for c in res["criteria"]}
    assert crit["P"]["estimate"] == pytest.approx(0.65)
    assert crit["Q"]["estimate"] == pytest.approx(0.75)
    assert res["overall"]["estimate"] == pytest.approx(0.7)
    assert res["overall_item"]["estimate"] == pytest.approx(0.4)  # never in the composite
    # Mean score of P1: (5+4+3+2)/4 = 3.5; criterion P = (3.5 + 4.2) / 2.
    assert items["P1"]["mean_score"]["estimate"] == pytest.approx(3.5)
    assert crit["P"]["mean_score"]["estimate"] == pytest.approx((3.5 + 4.2) / 2)
    overall = ((3.5 + 4.2) / 2 + 13 / 4) / 2
    assert res["mean_score"]["estimate"] == pytest.approx(overall)
    assert res["score_100"]["estimate"] == pytest.approx((overall - 1) / 4 * 100)


def test_weights_of_items_and_criteria():
    q = make_questionnaire(
        [("A", 3.0, [("A1", 1.0), ("A2", 3.0)]), ("B", 1.0, [("B1", 1.0)])], overall=None
    )
    df = small_frame({"A1": [5, 5, 5, 5], "A2": [1, 1, 5, 5], "B1": [1, 1, 1, 1]})
    res = analyze(df, q)
    a = (1.0 * 1 + 3 * 0.5) / 4
    assert res["criteria"][0]["estimate"] == pytest.approx(a)
    assert res["overall"]["estimate"] == pytest.approx((3 * a + 0) / 4)
    assert res["overall_item"] is None


def test_poststratified_weights_reach_volumes(small_q):
    df = small_frame(
        {"P1": [5, 1, 5, 1], "P2": [5, 1, 5, 1], "Q1": [5, 1, 5, 1], "HL": [5, 1, 5, 1]}
    )  # desk D1 all satisfied, D2 none
    res = analyze(df, small_q, {"D1": 30, "D2": 10})
    assert res["overall"]["estimate"] == pytest.approx(0.75)
    assert res["design"]["weighting"] == "poststratification"
    assert res["design"]["weight_min"] == pytest.approx(5) and res["design"]["weight_max"] == 15


def test_item_without_answers_drops_out_of_its_criterion(small_q):
    df = small_frame(
        {"P1": [5, 5, 5, 5], "P2": [1, "NA", 1, "NA"], "Q1": [5, 5, 5, 5], "HL": [5, 5, 5, 5]}
    )
    res = analyze(df, small_q, by=["desk"])
    d2 = next(g for g in res["groups"]["desk"] if g["key"] == "D2")
    # In desk D2 nobody answered P2: criterion P is P1 alone there.
    assert d2["criteria"][0]["estimate"] == pytest.approx(1.0)
    d1 = next(g for g in res["groups"]["desk"] if g["key"] == "D1")
    assert d1["criteria"][0]["estimate"] == pytest.approx(0.5)


def test_no_answers_gives_null_estimate(small_q):
    df = small_frame({"P1": ["NA", ""], "P2": ["", ""], "Q1": ["NA", "NA"], "HL": ["", ""]})
    res = analyze(df, small_q, target=0.8)
    assert res["overall"]["estimate"] is None and res["overall"]["n"] == 0
    assert res["overall"]["verdict"] == "chua_du_can_cu"
    assert res["overall"]["more_needed"] is None


def test_empty_table(small_q):
    df = small_frame({"P1": [5], "P2": [5], "Q1": [5], "HL": [5]}).iloc[:0]
    res = analyze(df, small_q, by=["desk"], target=0.8)
    assert res["n_responses"] == 0 and res["overall"]["estimate"] is None
    assert res["groups"]["desk"] == []


def test_mean_aggregation_uses_scores():
    q = make_questionnaire([("A", 1.0, [("A1", 1.0)])], overall=None, aggregation="mean")
    df = small_frame({"A1": [1, 5, 3, 3]})
    res = analyze(df, q)
    assert res["overall"]["estimate"] == pytest.approx(0.5)
    assert res["mean_score"]["estimate"] == pytest.approx(3.0)


def test_breakdowns_and_group_targets(std_q):
    from tests.analysis.support import random_frame

    df = random_frame(std_q, 300, seed=3)
    df["sector_group"] = df["sector"].map({"S1": "g1", "S2": "g1", "S3": "g2"})
    res = analyze(
        df,
        std_q,
        target=0.6,
        targets={"sector_group": {"g2": 0.5}},
        by=["desk", "unit", "sector", "sector_group", "month"],
    )
    assert set(res["groups"]) == {"desk", "unit", "sector", "sector_group", "month"}
    assert sum(g["n"] for g in res["groups"]["desk"]) == 300
    g2 = next(g for g in res["groups"]["sector_group"] if g["key"] == "g2")
    assert g2["overall"]["target"] == 0.5
    assert len(g2["criteria"]) == 6
