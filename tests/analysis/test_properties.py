"""Invariants of the estimators (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import t as t_dist

from analysis import analyze
from analysis.notes import english
from tests.analysis.support import random_frame, small_questionnaire

Q = small_questionnaire()
SETTINGS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
VOLUMES = pd.DataFrame({"desk": ["D0", "D1", "D2"], "volume": [300.0, 120.0, 800.0]})


def _flat(res: dict) -> np.ndarray:
    vals = []
    for s in [res["overall"], *res["criteria"], *res["items"], res["overall_item"]]:
        vals += [s["estimate"], s["se"], s["ci_low"], s["ci_high"]]
    for g in res["groups"]["desk"]:
        vals += [g["overall"]["estimate"], g["overall"]["se"]]
    return np.array([np.nan if v is None else v for v in vals], dtype=float)


@SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(8, 60))
def test_row_order_does_not_matter(seed, n):
    df = random_frame(Q, n, seed=seed, n_desks=3, n_days=3)
    perm = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    a = analyze(df, Q, VOLUMES, by=["desk"])
    b = analyze(perm, Q, VOLUMES, by=["desk"])
    np.testing.assert_allclose(_flat(a), _flat(b), rtol=1e-9, atol=1e-12)


@SETTINGS
@given(seed=st.integers(0, 10_000), factor=st.floats(0.01, 1000))
def test_scaling_all_weights_changes_no_share(seed, factor):
    df = random_frame(Q, 40, seed=seed, n_desks=3, n_days=3)
    a = analyze(df, Q, VOLUMES, by=["desk"])
    b = analyze(df, Q, VOLUMES.assign(volume=VOLUMES["volume"] * factor), by=["desk"])
    np.testing.assert_allclose(_flat(a), _flat(b), rtol=1e-8, atol=1e-12)


@SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(5, 80))
def test_all_satisfied_gives_one_with_a_sane_interval(seed, n):
    rng = np.random.default_rng(seed)
    df = random_frame(Q, n, seed=seed, n_desks=3, n_days=3)
    for code in Q.all_item_codes():
        df[code] = rng.choice(["4", "5", "5", "NA", ""], n)
    df["P1"] = rng.choice(["4", "5"], n)  # at least one answer per respondent
    res = analyze(df, Q, target=0.5, by=["desk"])
    s = res["overall"]
    assert s["estimate"] == pytest.approx(1.0)
    assert s["ci_high"] == 1.0 and 0 < s["ci_low"] < 1
    # Clopper-Pearson on n / Kish deff with Korn-Graubard's df factor (issue 15).
    df_used = max(s["df"], 1)
    beta_n = (
        n
        / res["design"]["kish_deff"]
        * (t_dist.ppf(0.025, n - 1) / t_dist.ppf(0.025, df_used)) ** 2
    )
    assert s["ci_low"] == pytest.approx(0.025 ** (1 / beta_n))
    assert any("SE is 0" in english(n) for n in s["notes"])
    assert s["verdict"] in ("dat", "chua_du_can_cu")


@SETTINGS
@given(seed=st.integers(0, 10_000))
def test_na_never_enters_a_base(seed):
    df = random_frame(Q, 50, seed=seed, n_desks=3, n_days=3)
    blanked = df.replace({"NA": ""})
    a = analyze(df, Q, VOLUMES, by=["desk"])
    b = analyze(blanked, Q, VOLUMES, by=["desk"])
    np.testing.assert_allclose(_flat(a), _flat(b), rtol=1e-12, atol=1e-15)
    for item in a["items"]:
        answered = df[item["code"]].isin(["1", "2", "3", "4", "5"]).sum()
        assert item["n"] == answered
