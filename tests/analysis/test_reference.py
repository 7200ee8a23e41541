"""Estimates, SEs and intervals equal R's survey package (reference/make_reference.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import analyze, read_responses, read_volumes
from analysis.notes import english
from tests.analysis.support import REFERENCE, r_entry, reference_weighting

RTOL = 1e-6


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    ref = pd.read_csv(REFERENCE / "reference.csv", keep_default_na=False, na_values=["NaN"])
    ref["by"] = ref["by"].astype(str)
    ref["key"] = ref["key"].astype(str)
    return ref


def _results(case: str, interval: str) -> dict:
    from tests.analysis.support import ref_questionnaire

    responses = read_responses(REFERENCE / "responses.csv")
    kw = reference_weighting(case)
    return analyze(
        responses,
        ref_questionnaire(),
        by=["desk", "sector", "unit"],
        interval=interval,
        df_rule="design",  # R's svyciprop(df = degf(design))
        **kw,
    )


def _close(a, b, rtol=RTOL) -> bool:
    return abs(a - b) <= rtol * max(abs(b), 1e-300)


@pytest.mark.parametrize("case", ["unweighted", "poststratified", "raked"])
def test_matches_r(case, reference):
    logit = _results(case, "logit")
    kg = _results(case, "korn-graubard")
    rows = reference[reference["case"] == case]
    compared = 0
    worst = 0.0
    for row in rows.itertuples():
        got = r_entry(logit, row.by, row.key, row.estimand)
        if got is None:
            continue
        score = row.estimand.endswith(":score")
        scale = 4.0 if score else 1.0  # mean_score is on 1..5: 1 + 4 z
        est = (got["estimate"] - 1) / 4 if score else got["estimate"]
        assert _close(est, row.estimate), (row, got)
        if np.isnan(row.se) or row.se < 1e-7:
            # A domain that is a single-PSU stratum: no variance in R either.
            assert got["se"] is not None and got["se"] < 1e-7 * scale
            continue
        assert _close(got["se"] / scale, row.se), (row, got)
        worst = max(worst, abs(got["se"] / scale - row.se) / row.se)
        if score:
            lo, hi = (got["ci_low"] - 1) / 4, (got["ci_high"] - 1) / 4
        else:
            lo, hi = got["ci_low"], got["ci_high"]
            assert got["df"] == row.df
            assert got["n"] == row.n
            kgot = r_entry(kg, row.by, row.key, row.estimand)
            assert _close(kgot["ci_low"], row.kg_low), (row, kgot)
            assert _close(kgot["ci_high"], row.kg_high), (row, kgot)
        assert _close(lo, row.ci_low), (row, got)
        assert _close(hi, row.ci_high), (row, got)
        compared += 1
    assert compared > 60
    print(f"{case}: {compared} compared, worst SE relative difference {worst:.2e}")
    assert worst < RTOL


def test_reference_design_facts():
    from tests.analysis.support import ref_questionnaire

    responses = read_responses(REFERENCE / "responses.csv")
    result = analyze(responses, ref_questionnaire(), read_volumes(REFERENCE / "volumes.csv"))
    design = result["design"]
    assert design["lonely_psu_strata"] == 1  # desk D5 has a single day
    assert design["n_strata"] == 5
    assert design["df"] == design["n_psu"] - 5
    assert {"code": "lonely_psu", "params": {"strata": 1}} in design["notes"]
    assert any("single PSU" in english(n) for n in design["notes"])
    assert design["weighting"] == "poststratification"
