"""Two breakdown values compared (period over period, unit vs unit) equal R
(reference/make_pairs.R, svycontrast of domain totals): the difference, its SE and
interval to 1e-9, the p-value and Holm's adjustment over the pairs of a table."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import analyze, read_responses, read_volumes
from analysis.compare import _month_before
from tests.analysis.support import REFERENCE, ref_questionnaire

TOL = 1e-9


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "pairs.csv", dtype={"a": str, "b": str})


def _analyze(case: str, **kw) -> dict:
    volumes = {
        "unweighted": {},
        "poststratified": {"volumes": read_volumes(REFERENCE / "volumes.csv")},
        "raked": {
            "volumes": read_volumes(REFERENCE / "volumes.csv"),
            "margins": [read_volumes(REFERENCE / "volumes_sector.csv")],
        },
    }[case]
    responses = read_responses(REFERENCE / "responses.csv")
    # Two "months" that both meet the minimum design (as in make_pairs.R).
    day = pd.to_datetime(responses["day"]).dt.day
    responses["period"] = ["2025-02" if x <= 15 else "2025-03" for x in day]
    return analyze(responses, ref_questionnaire(), by=["period", "sector"], **volumes, **kw)


@pytest.mark.parametrize("case", ["unweighted", "poststratified", "raked"])
def test_period_and_pairwise_contrasts_equal_r(case, reference):
    result = _analyze(case)
    rows = reference[reference["case"] == case]
    assert len(rows) == 4
    for row in rows.itertuples():
        entries = {e["key"]: e for e in result["groups"][row.by]}
        if row.by == "period":
            c = entries[row.a]["vs_previous"]  # this month against the last
            assert entries[row.b]["vs_previous"] is None  # no month before the first
            assert entries[row.a]["vs_year_ago"] is None
        else:
            c = entries[row.a]["vs_others"][row.b]
            back = entries[row.b]["vs_others"][row.a]
            assert back["difference"] == -c["difference"]
            assert (back["ci_low"], back["ci_high"]) == (-c["ci_high"], -c["ci_low"])
        assert abs(c["difference"] - row.difference) < TOL, (row, c)
        assert abs(c["se"] - row.se) < TOL, (row, c)
        assert c["df"] == row.df
        assert abs(c["ci_low"] - row.ci_low) < TOL and abs(c["ci_high"] - row.ci_high) < TOL
        assert abs(c["p_value"] - row.p_value) < TOL
        assert abs(c["p_adjusted"] - row.p_holm) < TOL
        assert c["significant"] == (row.p_holm < 0.05) and c["direction"] is None


def test_a_clear_difference_is_significant_and_says_which_way():
    """A month whose answers are all 5 is significantly above the one before."""
    responses = read_responses(REFERENCE / "responses.csv")
    late = pd.to_datetime(responses["day"]).dt.day > 15
    for item in ("A1", "A2", "B1", "B2", "B3", "C1"):
        responses.loc[late, item] = "5"
    responses["period"] = ["2025-03" if x else "2025-02" for x in late]
    result = analyze(responses, ref_questionnaire(), by=["period"])
    c = {e["key"]: e for e in result["groups"]["period"]}["2025-03"]["vs_previous"]
    assert c["significant"] and c["direction"] == "higher" and c["ci_low"] > 0


@pytest.mark.parametrize(
    ("month", "back", "before"),
    [("2026-03", 1, "2026-02"), ("2026-01", 1, "2025-12"), ("2026-10", 12, "2025-10")],
)
def test_month_before(month, back, before):
    assert _month_before(month, back) == before
