"""The minimum design: below it no verdict, no interval to show, no count of further responses;
above it, a count of further responses only when it is plausible, with its direction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import analyze
from analysis.notes import english
from analysis.result import to_text
from tests.analysis.support import small_questionnaire

Q = small_questionnaire()


def frame(n: int, desks: list[str], days: list[str], share: float, seed: int = 0) -> pd.DataFrame:
    """n responses spread over desks x days, about ``share`` of them satisfied."""
    rng = np.random.default_rng(seed)
    satisfied = rng.random((n, 4)) < share
    df = pd.DataFrame(
        {
            "response_id": [f"r{i}" for i in range(n)],
            "unit": "U1",
            "desk": [desks[i % len(desks)] for i in range(n)],
            "sector": "S1",
            "day": [days[(i // len(desks)) % len(days)] for i in range(n)],
        }
    )
    for j, code in enumerate(("P1", "P2", "Q1", "HL")):
        df[code] = np.where(satisfied[:, j], "5", "2")
    return df


DAYS = [f"2025-03-{d:02d}" for d in range(1, 29)]
DESKS = [f"D{i}" for i in range(6)]


def test_fewer_than_30_responses_decide_nothing():
    # 20 satisfied answers: the exact interval alone would put it above 50%.
    df = frame(20, DESKS, DAYS, share=1.0)
    res = analyze(df, Q, target=0.5)
    o = res["overall"]
    assert o["ci_low"] > 0.5  # the interval is kept for the record...
    assert o["adequate"] is False and o["too_small"] == ["few_responses"]
    assert o["verdict"] == "chua_du_can_cu"  # ...but decides nothing
    assert o["more_needed"] is None and o["more_needed_direction"] is None
    assert all(not c["adequate"] for c in res["criteria"])
    assert "fewer than 30 responses" in to_text(res)


def test_three_days_at_one_desk_are_too_short_a_period():
    df = frame(300, ["D1"], DAYS[:3], share=0.95)
    res = analyze(df, Q, target=0.6)
    o = res["overall"]
    assert o["df"] == 2 and res["design"]["n_days"] == 3
    assert o["too_small"] == ["low_df"] and o["verdict"] == "chua_du_can_cu"
    assert o["more_needed"] is None


def test_fewer_than_two_psus_in_most_strata():
    # Eight desks seen on one day each, two desks on 20 days: df = 48 - 10 = 38.
    rows = [frame(40, [f"S{i}"], DAYS[i : i + 1], 0.9, seed=i) for i in range(8)]
    rows += [frame(400, [f"L{i}"], DAYS[:20], 0.9, seed=10 + i) for i in range(2)]
    df = pd.concat(rows, ignore_index=True)
    df["response_id"] = [f"r{i}" for i in range(len(df))]
    res = analyze(df, Q, target=0.5, by=["desk"])
    assert res["design"]["df"] == 38
    assert res["overall"]["too_small"] == ["few_psus"]
    assert res["overall"]["verdict"] == "chua_du_can_cu"
    by_desk = {e["key"]: e for e in res["groups"]["desk"]}
    # A single-day desk has SE 0 (a lonely stratum as a domain): no interval either.
    assert by_desk["S0"]["overall"]["too_small"] == ["few_psus", "low_df", "single_psu_no_se"]
    assert by_desk["S0"]["overall"]["ci_low"] is None
    assert by_desk["S0"]["n_days"] == 1 and by_desk["S0"]["n_psu"] == 1
    assert by_desk["L0"]["overall"]["adequate"] is True
    assert by_desk["L0"]["overall"]["verdict"] == "dat"


@pytest.mark.parametrize(
    ("target", "direction"), [(0.76, "to_confirm_pass"), (0.80, "to_confirm_fail")]
)
def test_a_plausible_count_of_further_responses_says_which_way_it_points(target, direction):
    df = frame(150, DESKS, DAYS, share=0.75, seed=3)
    res = analyze(df, Q, target=target, population=100_000)
    o = res["overall"]
    assert o["adequate"] and o["verdict"] == "chua_du_can_cu"
    assert o["more_needed"] > 0 and o["more_needed_direction"] == direction
    assert ("to confirm Đạt" if direction == "to_confirm_pass" else "to confirm Không đạt") in (
        to_text(res)
    )


def test_an_implausible_count_is_not_reported():
    df = frame(150, DESKS, DAYS, share=0.75, seed=3)
    more = analyze(df, Q, target=0.78)["overall"]["more_needed"]
    assert more > 1000
    # The period had fewer transactions than the responses the count implies.
    o = analyze(df, Q, target=0.78, population=150 + more - 1)["overall"]
    assert o["more_needed"] is None and o["more_needed_direction"] is None
    assert o["verdict"] == "chua_du_can_cu" and o["adequate"]
    assert analyze(df, Q, target=0.78, population=150 + more)["overall"]["more_needed"] == more


def test_a_breakdown_value_is_bounded_by_its_own_volume():
    df = frame(300, ["D1", "D2"], DAYS, share=0.75, seed=4)
    volumes = pd.DataFrame({"desk": ["D1", "D2"], "volume": [200, 1_000_000]})
    res = analyze(df, Q, volumes, target=0.74, by=["desk"])
    by_desk = {e["key"]: e["overall"] for e in res["groups"]["desk"]}
    assert by_desk["D1"]["more_needed"] is None  # 150 answered of 200 cases: no room
    assert by_desk["D2"]["more_needed"] > 0


def test_notes_are_codes_with_english_words_for_the_cli():
    df = frame(60, DESKS, DAYS, share=0.8)
    df.loc[df["desk"] == "D0", "day"] = DAYS[0]  # D0: a single PSU
    res = analyze(df, Q)
    [n] = res["design"]["notes"]
    assert n == {"code": "lonely_psu", "params": {"strata": 1}}
    assert "survey.lonely.psu" in english(n)
