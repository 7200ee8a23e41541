"""Collapsed post-strata equal R's survey::postStratify (reference/make_collapsed.R)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis import analyze, read_responses
from survey.reports.weighting import cell_column, collapse, design_strata
from tests.analysis.support import close_to_r, r_entry, ref_questionnaire

REFERENCE = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def fixture():
    responses = read_responses(REFERENCE / "collapsed_responses.csv")
    volumes = pd.read_csv(REFERENCE / "collapsed_volumes.csv", dtype={"desk": str, "month": str})
    kept = pd.DataFrame({"desk": responses["desk"], "month": responses["day"].str[:7]})
    cell_of, table, desks = collapse(kept, volumes)
    return responses, cell_of, table, desks


def reference(file: str) -> pd.DataFrame:
    ref = pd.read_csv(REFERENCE / file, keep_default_na=False)
    return ref.astype({"by": str, "key": str})


def test_the_cells_are_r_s(fixture):
    _responses, _cell_of, table, desks = fixture
    expected = pd.read_csv(REFERENCE / "collapsed_cells.csv")
    got = dict(zip(table["cell"], table["volume"], strict=True))
    assert set(got) == set(expected["cell"])
    for cell, volume in expected.itertuples(index=False):
        assert got[cell] == pytest.approx(volume, rel=1e-14), cell
    treated = {d.desk: (d.treatment, d.missing) for d in desks}
    assert treated == {
        "D1": ("month", ()),
        "D2": ("collapsed", ("2025-04",)),
        "D3": ("collapsed", ("2025-05",)),
        "D4": ("mean_weight", ("2025-03", "2025-04", "2025-05")),
    }


@pytest.mark.parametrize(
    "file, strata",
    [
        ("collapsed_reference.csv", ("desk",)),
        # The reports' design: the post-strata as strata.
        ("collapsed_reference_cell_strata.csv", design_strata(pd.DataFrame())),
    ],
)
def test_estimates_and_ses_match_r(fixture, file, strata):
    responses, cell_of, table, _desks = fixture
    frame = responses.assign(cell=cell_column(responses, cell_of))
    result = analyze(frame, ref_questionnaire(), volumes=table, by=["desk", "unit"], strata=strata)
    assert result["design"]["weighting"] == "poststratification"
    assert result["design"]["strata"] == list(strata)
    compared = 0
    for row in reference(file).itertuples():
        got = r_entry(result, row.by, row.key, row.estimand)
        if got is None:
            continue
        score = row.estimand.endswith(":score")
        # mean_score is on 1..5, R's z on 0..1: 1 + 4 z.
        est = (got["estimate"] - 1) / 4 if score else got["estimate"]
        se = got["se"] / 4 if score else got["se"]
        assert close_to_r(est, row.estimate), row
        assert close_to_r(se, row.se), row
        if not score:
            assert got["df"] == row.df and got["n"] == row.n, row
        compared += 1
    assert compared > 40
