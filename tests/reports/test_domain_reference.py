"""Domains of the full design and the coverage rule equal R's survey (reference/make_domains.R).

A sector or sector-group report is ``subset(design, ...)`` after ``postStratify``:
the weights, strata and PSUs of every counted response, the estimate over the
domain's rows.  Desk-months with transactions but no response are absorbed by the
desk's other months, or (a desk without any response) left out and reported.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis import AnalysisInputError, analyze, read_responses
from survey.reports.weighting import cell_column, collapse, coverage
from tests.analysis.support import R_TOL, close_to_r, r_entry, ref_questionnaire

REFERENCE = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def fixture():
    responses = read_responses(REFERENCE / "domains_responses.csv")
    volumes = pd.read_csv(
        REFERENCE / "domains_volumes.csv", dtype={"desk": str, "month": str, "unit": str}
    )
    kept = pd.DataFrame({"desk": responses["desk"], "month": responses["day"].str[:7]})
    cell_of, table, desks = collapse(kept, volumes)
    frame = responses.assign(cell=cell_column(responses, cell_of))
    return frame, table, desks, coverage(kept, volumes)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    ref = pd.read_csv(REFERENCE / "domains_reference.csv", keep_default_na=False)
    return ref.astype({"domain": str, "by": str, "key": str})


def test_uncovered_months_are_absorbed_and_unanswered_desks_reported(fixture):
    _frame, table, desks, cov = fixture
    expected = pd.read_csv(REFERENCE / "domains_cells.csv")
    got = dict(zip(table["cell"], table["volume"], strict=True))
    assert set(got) == set(expected["cell"])
    for cell, volume in expected.itertuples(index=False):
        assert got[cell] == pytest.approx(volume, rel=1e-14), cell
    assert {d.desk: d.treatment for d in desks} == {
        "D1": "month",
        "D2": "month",
        "D3": "collapsed",
        "D4": "mean_weight",
        "D6": "collapsed",
    }
    (want,) = pd.read_csv(REFERENCE / "domains_coverage.csv").itertuples(index=False)
    assert (cov.covered_volume, cov.represented_volume, cov.total_volume) == (
        want.covered,
        want.represented,
        want.total,
    )
    assert cov.share == pytest.approx(want.covered / want.total)
    assert [(u.desk, u.months, u.treatment) for u in cov.uncovered] == [
        ("D1", ("2025-06",), "absorbed"),
        ("D2", ("2025-04",), "absorbed"),
        ("D5", ("2025-03", "2025-04"), "not_represented"),
        ("D6", ("2025-03",), "absorbed"),
    ]
    # A desk with an uncovered month weighs all its transactions, June's too.
    d1 = sum(v for cell, v in got.items() if cell.startswith("D1|"))
    assert d1 == pytest.approx(310 + 280 + 295 + 400)
    assert not any(cell.startswith("D5|") for cell in got)


@pytest.mark.parametrize(
    ("domain", "column", "value"),
    [("sector=S1", "sector", "S1"), ("sector_group=G1", "sector_group", "G1")],
)
def test_domain_estimates_and_ses_match_r(fixture, reference, domain, column, value):
    frame, table, _desks, _cov = fixture
    result = analyze(
        frame,
        ref_questionnaire(),
        volumes=table,
        by=["desk", "sector"],
        domain=frame[column] == value,
    )
    assert result["design"]["weighting"] == "poststratification"
    rows = reference[reference["domain"] == domain]
    compared = 0
    for row in rows.itertuples():
        got = r_entry(result, row.by, row.key, row.estimand)
        if got is None:
            continue
        score = row.estimand.endswith(":score")
        est = (got["estimate"] - 1) / 4 if score else got["estimate"]
        se = got["se"] / 4 if score else got["se"]
        assert close_to_r(est, row.estimate), row
        assert close_to_r(se, row.se), row
        if not score:
            assert got["df"] == row.df and got["n"] == row.n, row
        compared += 1
    assert compared > 40
    # Breakdowns of a domain hold only its values.
    assert {e["key"] for e in result["groups"]["sector"]} == set(
        rows.loc[rows.by == "sector", "key"]
    )
    assert result["n_responses"] == int((frame[column] == value).sum())


def test_the_whole_sample_matches_r(fixture, reference):
    frame, table, _desks, _cov = fixture
    result = analyze(frame, ref_questionnaire(), volumes=table)
    for row in reference[reference["domain"] == ""].itertuples():
        got = r_entry(result, "", "", row.estimand)
        score = row.estimand.endswith(":score")
        est = (got["estimate"] - 1) / 4 if score else got["estimate"]
        se = got["se"] / 4 if score else got["se"]
        assert close_to_r(est, row.estimate) and close_to_r(se, row.se), row


def test_the_domain_is_a_row_of_the_unfiltered_breakdown(fixture):
    frame, table, _desks, _cov = fixture
    q = ref_questionnaire()
    full = analyze(frame, q, volumes=table, by=["sector"])
    dom = analyze(frame, q, volumes=table, by=["sector"], domain=frame["sector"] == "S2")
    row = next(e for e in full["groups"]["sector"] if e["key"] == "S2")
    for key in ("estimate", "se", "ci_low", "ci_high", "df", "n"):
        assert dom["overall"][key] == pytest.approx(row["overall"][key], abs=R_TOL), key


def test_a_domain_must_be_true_or_false_per_response(fixture):
    frame, table, _desks, _cov = fixture
    with pytest.raises(AnalysisInputError, match="domain"):
        analyze(frame, ref_questionnaire(), volumes=table, domain="sector")
    with pytest.raises(AnalysisInputError, match="domain"):
        analyze(frame, ref_questionnaire(), volumes=table, domain="nope")
