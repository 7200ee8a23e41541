"""Issue 15's interval rules against R (reference/make_intervals_reference.R).

* the Satterthwaite df (``df_rule="satterthwaite"``) and its logit interval, from
  the stratum terms of R's own variance (checked to add up to it in the script);
* p = 1 at a desk with 18 answers over 3 days (df 2): Korn-Graubard's df factor
  on n / Kish deff gives [42.6%, 100%] and no "Đạt" against 80%, not the
  [81.5%, 100%] of Clopper-Pearson on n;
* a single-day desk (one PSU) with mixed answers: SE 0 in R as here, so no
  interval and no verdict, with the reason;
* the design effect of a composite against the SRS variance of its score
  (``deff_composite``, n_eff = n / deff_composite), not p (1 - p) / SE^2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import analyze, read_responses, read_volumes
from analysis.synthetic import questionnaire
from tests.analysis.support import REFERENCE, r_entry, ref_questionnaire

TOL = 1e-9
ONE_ITEM = questionnaire(sizes=(1,), overall_item=False)  # item C1_1


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    out = pd.read_csv(
        REFERENCE / "intervals_reference.csv", keep_default_na=False, na_values=["NA"]
    )
    for col in ("case", "by", "key"):
        out[col] = out[col].astype(str)
    return out


def _edge(name: str) -> pd.DataFrame:
    return read_responses(REFERENCE / name).rename(columns={"Q": "C1_1"})


@pytest.mark.parametrize("case", ["unweighted", "poststratified"])
def test_satterthwaite_df_matches_r(case, ref):
    responses = read_responses(REFERENCE / "responses.csv")
    kw = {"volumes": read_volumes(REFERENCE / "volumes.csv")} if case == "poststratified" else {}
    res = analyze(
        responses, ref_questionnaire(), by=["sector", "unit"], df_rule="satterthwaite", **kw
    )
    rows = ref[(ref["test"] == "satterthwaite") & (ref["case"] == case)]
    assert len(rows) == 12
    compared = 0
    for row in rows.itertuples():
        got = r_entry(res, row.by, row.key, row.estimand)
        if got is None:  # breakdowns report the overall index and criteria only
            continue
        assert got["estimate"] == pytest.approx(row.estimate, rel=TOL)
        assert got["se"] == pytest.approx(row.se, rel=TOL)
        assert got["df"] == row.df  # the design's df (R's degf) is kept for the rules
        assert got["df_interval"] == pytest.approx(row.df_interval, rel=TOL)
        assert got["df_interval"] < got["df"]
        assert got["ci_low"] == pytest.approx(row.ci_low, rel=TOL)
        assert got["ci_high"] == pytest.approx(row.ci_high, rel=TOL)
        assert got["n"] == row.n
        if row.estimand.startswith("item:"):  # a 0/1 item: the binomial design effect
            assert got["deff_composite"] is None
            assert got["deff"] == pytest.approx(
                row.n * row.se**2 / (row.estimate * (1 - row.estimate))
            )
        else:  # a composite: against the SRS variance of the composite score
            assert got["deff"] is None
            assert got["deff_composite"] == pytest.approx(row.deff_composite, rel=TOL)
            assert got["n_eff"] == pytest.approx(row.n / row.deff_composite, rel=TOL)
            # A mean of several 0/1 answers varies less than one: n_eff < p (1 - p) / SE^2.
            assert got["n_eff"] < row.estimate * (1 - row.estimate) / row.se**2
        compared += 1
    assert compared == 9


def test_satterthwaite_is_the_default_and_the_design_df_stays_available(ref):
    responses = read_responses(REFERENCE / "responses.csv")
    row = ref[
        (ref["test"] == "satterthwaite")
        & (ref["case"] == "unweighted")
        & (ref["by"].fillna("") == "")
        & (ref["estimand"] == "overall:share")
    ].iloc[0]
    res = analyze(responses, ref_questionnaire())
    assert res["design"]["df_rule"] == "satterthwaite"
    assert res["overall"]["df"] == 14  # R's degf, still the minimum-design rule's
    assert res["overall"]["df_interval"] == pytest.approx(row.df_interval, rel=TOL)
    assert res["overall"]["ci_low"] == pytest.approx(row.ci_low, rel=TOL)
    design = analyze(responses, ref_questionnaire(), df_rule="design")
    assert design["design"]["df_rule"] == "design"
    assert design["overall"]["df_interval"] == design["overall"]["df"] == 14
    assert design["overall"]["ci_low"] > res["overall"]["ci_low"]  # more df, narrower


@pytest.mark.parametrize("interval", ["logit", "korn-graubard"])
def test_all_satisfied_desk_gets_korn_graubard_with_its_df(interval, ref):
    row = ref[ref["test"] == "p_one"].iloc[0]
    res = analyze(_edge("edge_p1.csv"), ONE_ITEM, target=0.80, interval=interval)
    s = res["overall"]
    assert s["estimate"] == row.estimate == 1.0
    assert s["df"] == row.df == 2
    assert s["ci_low"] == pytest.approx(row.ci_low, rel=TOL)
    assert round(100 * s["ci_low"], 1) == 42.6
    assert s["ci_high"] == 1.0
    assert s["verdict"] == "chua_du_can_cu"  # was "dat" on [81.5%, 100%]


def test_single_psu_desk_with_zero_se_gets_no_interval_or_verdict(ref):
    row = ref[ref["test"] == "single_psu"].iloc[0]
    assert row.se < 1e-12 and row.df == 0  # R: no variance to measure either
    res = analyze(_edge("edge_single.csv"), ONE_ITEM, target=0.5)
    s = res["overall"]
    assert s["estimate"] == pytest.approx(row.estimate, rel=TOL)
    assert s["ci_low"] is None and s["ci_high"] is None
    assert s["verdict"] == "chua_du_can_cu"
    assert "single_psu_no_se" in s["too_small"]
    assert s["adequate"] is False


def test_composite_of_identical_answers_has_the_items_design_effect():
    # Every respondent gives the same answer to all four items: the index is a 0/1
    # answer, so its design effect against the SRS variance of its score is the
    # item's binomial one (the old p (1 - p) / SE^2 rule gave that only by accident).
    rng = pd.Series(range(240))
    days = [f"2025-03-{d:02d}" for d in range(1, 9)]
    answers = list(np.random.default_rng(7).choice(["5", "4", "2"], 240, p=[0.5, 0.3, 0.2]))
    q = questionnaire(sizes=(2, 2), overall_item=False)
    frame = pd.DataFrame(
        {
            "response_id": [f"R{i}" for i in rng],
            "unit": "U",
            "desk": ["Q1" if i % 3 else "Q2" for i in rng],
            "sector": "S",
            "day": [days[(i * 5) % 8] for i in rng],
            **{code: answers for code in q.all_item_codes()},
        }
    )
    res = analyze(frame, q)
    item = res["items"][0]
    assert res["overall"]["deff"] is None and item["deff_composite"] is None
    assert res["overall"]["estimate"] == pytest.approx(item["estimate"], rel=TOL)
    assert res["overall"]["deff_composite"] == pytest.approx(item["deff"], rel=TOL)
    assert res["overall"]["n_eff"] == pytest.approx(item["n_eff"], rel=TOL)
