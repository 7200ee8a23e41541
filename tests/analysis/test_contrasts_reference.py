"""Each breakdown value against the overall index equals R (reference/make_contrasts.R):
the difference and its SE to 1e-9, the p-value and Holm's adjustment (``p.adjust``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import analyze, read_responses, read_volumes
from analysis.compare import holm
from tests.analysis.support import REFERENCE, ref_questionnaire

TOL = 1e-9
BREAKDOWNS = ["desk", "sector", "unit"]


@pytest.fixture(scope="module")
def contrasts() -> pd.DataFrame:
    ref = pd.read_csv(REFERENCE / "contrasts.csv", keep_default_na=False, na_values=["NA"])
    ref["adequate"] = ref["adequate"].astype(str).str.upper() == "TRUE"
    return ref


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
    return analyze(responses, ref_questionnaire(), by=BREAKDOWNS, **volumes, **kw)


@pytest.mark.parametrize("case", ["unweighted", "poststratified", "raked"])
def test_differences_ses_and_holm_p_values_equal_r(case, contrasts):
    result = _analyze(case)
    rows = contrasts[contrasts["case"] == case]
    significant = 0
    for row in rows.itertuples():
        entry = next(e for e in result["groups"][row.by] if e["key"] == row.key)
        assert abs(entry["overall"]["estimate"] - row.estimate) < TOL
        assert abs(result["overall"]["estimate"] - row.overall) < TOL
        # The minimum design is the same in R's script; below it there is no contrast.
        assert entry["overall"]["adequate"] == row.adequate, row
        vs = entry["vs_overall"]
        if not row.adequate:
            assert vs is None
            continue
        assert abs(vs["difference"] - row.difference) < TOL, (row, vs)
        assert abs(vs["se"] - row.se) < TOL, (row, vs)
        assert vs["df"] == row.df
        assert abs(vs["p_value"] - row.p_value) < TOL, (row, vs)
        assert abs(vs["p_adjusted"] - row.p_holm) < TOL, (row, vs)
        assert vs["significant"] == (row.p_holm < 0.05)
        if vs["significant"]:
            significant += 1
            assert vs["direction"] == ("higher" if row.difference > 0 else "lower")
        else:
            assert vs["direction"] is None
    # Desk D1 stands out in every case; no sector or unit does.
    assert significant == 1


def test_holm_equals_r_p_adjust(contrasts):
    for _, rows in contrasts.groupby(["case", "by"]):
        np.testing.assert_allclose(
            holm(rows["p_value"].to_numpy()), rows["p_holm_all"].to_numpy(), rtol=0, atol=1e-15
        )
    assert list(holm(np.array([0.01, 0.04, 0.03, 0.005]))) == pytest.approx(
        [0.03, 0.06, 0.06, 0.02]
    )


def test_a_small_group_gets_neither_verdict_nor_contrast():
    """D5 has 6 responses on one day: 77% against a 50% target is not "Đạt"."""
    result = _analyze("poststratified", target=0.5)
    d5 = next(e for e in result["groups"]["desk"] if e["key"] == "D5")
    assert d5["n"] == 6 and d5["overall"]["estimate"] > 0.7
    assert not d5["overall"]["adequate"]
    assert d5["overall"]["verdict"] == "chua_du_can_cu"
    assert d5["vs_overall"] is None
    d1 = next(e for e in result["groups"]["desk"] if e["key"] == "D1")
    assert d1["overall"]["verdict"] == "dat"


def test_replicate_weights_give_the_same_contrast_roughly():
    lin = _analyze("poststratified")
    boot = _analyze("poststratified", method="bootstrap", replicates=400, seed=7)
    for a, b in zip(lin["groups"]["sector"], boot["groups"]["sector"], strict=True):
        va, vb = a["vs_overall"], b["vs_overall"]
        assert vb["difference"] == pytest.approx(va["difference"], abs=1e-12)
        assert 0.6 < vb["se"] / va["se"] < 1.6
        assert 0 <= vb["p_adjusted"] <= 1
