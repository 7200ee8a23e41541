"""Rao-Wu bootstrap."""

from __future__ import annotations

import pytest

from analysis import analyze
from analysis.notes import english
from analysis.synthetic import questionnaire, simulate


@pytest.fixture(scope="module")
def data():
    q = questionnaire((3, 3))
    df, vol = simulate(3000, q, n_desks=6, n_days=15, seed=4)
    return q, df, vol


def test_seeded_and_close_to_linearization(data):
    q, df, vol = data
    lin = analyze(df, q, vol, by=["desk"])
    b1 = analyze(df, q, vol, method="bootstrap", replicates=300, seed=7, by=["desk"])
    b2 = analyze(df, q, vol, method="bootstrap", replicates=300, seed=7, by=["desk"])
    assert b1 == b2
    assert b1["design"]["seed"] == 7 and b1["design"]["replicates"] == 300
    assert b1["overall"]["estimate"] == pytest.approx(lin["overall"]["estimate"])
    assert b1["overall"]["se"] == pytest.approx(lin["overall"]["se"], rel=0.25)
    for g_lin, g_b in zip(lin["groups"]["desk"], b1["groups"]["desk"], strict=True):
        assert g_b["overall"]["se"] == pytest.approx(g_lin["overall"]["se"], rel=0.35)


def test_seed_is_reported_when_drawn(data):
    q, df, vol = data
    res = analyze(df.iloc[:500], q, method="bootstrap", replicates=20)
    assert isinstance(res["design"]["seed"], int)


def test_lonely_stratum_note(data):
    q, df, _ = data
    one = df[(df["desk"] != "D000") | (df["day"] == df["day"].min())]
    res = analyze(one, q, method="bootstrap", replicates=20, seed=1)
    if res["design"]["lonely_psu_strata"]:
        assert any("cannot be resampled" in english(n) for n in res["design"]["notes"])


def test_bootstrap_with_raking_and_trimming(data):
    import pandas as pd

    q, df, vol = data
    sectors = sorted(df["sector"].astype(str).unique())
    sector = pd.DataFrame({"sector": sectors, "volume": vol["volume"].sum() / len(sectors)})
    res = analyze(
        df,
        q,
        vol,
        margins=[sector],
        trim_factor=3.0,
        method="bootstrap",
        replicates=30,
        seed=2,
        by=["sector"],
    )
    assert res["design"]["weighting"] == "raking"
    assert 0 < res["overall"]["se"] < 0.05
    assert all(g["overall"]["se"] > 0 for g in res["groups"]["sector"])
