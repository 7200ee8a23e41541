"""Trimming by bounded raking equals R's calibrate(calfun = raking, bounds = ...).

reference/make_trim.R made the fixtures; see reference/README.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import analyze, read_responses, read_volumes
from analysis.cells import build
from analysis.estimators import Structure
from analysis.notes import english
from analysis.tidy import encode
from analysis.weights import build_margins, calibrate, trim, trim_bounds
from tests.analysis.support import REFERENCE, ref_questionnaire


def _data():
    responses = read_responses(REFERENCE / "trim_responses.csv")
    desk = read_volumes(REFERENCE / "trim_volumes_desk.csv")
    sector = read_volumes(REFERENCE / "trim_volumes_sector.csv")
    return responses, desk, sector


def _reference() -> pd.DataFrame:
    ref = pd.read_csv(REFERENCE / "trim_reference.csv", keep_default_na=False)
    return ref.astype({"by": str, "key": str})


def _respondent_weights(factor: float) -> np.ndarray:
    """Our trimmed weight of each response of trim_responses.csv, in file order."""
    responses, desk, sector = _data()
    q = ref_questionnaire()
    enc = encode(responses, q, extra_columns=("desk", "sector"))
    cells = build(enc, ["desk", "day", "sector"], Structure.of(q).groups())
    margins, _ = build_margins(cells, [desk, sector])
    w, _ = calibrate(cells.d, cells.n, margins)
    t, info = trim(cells.d, cells.n, margins, factor, w)
    assert info["converged"]
    key = {
        tuple(cells.labels[c][cells.columns[c][i]] for c in ("desk", "day", "sector")): t[i]
        for i in range(cells.size)
    }
    rows = zip(responses["desk"], responses["day"], responses["sector"], strict=True)
    return np.array([key[tuple(map(str, r))] for r in rows])


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_weights_equal_r(factor):
    ref = pd.read_csv(REFERENCE / "trim_weights.csv")
    ref = ref[ref["factor"] == factor]
    ours = _respondent_weights(factor)
    np.testing.assert_allclose(ours, ref["weight"].to_numpy(), rtol=1e-8)


def _entry(result: dict, by: str, key: str, estimand: str) -> dict:
    if by:
        result = next(e for e in result["groups"][by] if e["key"] == key)
    kind, _, rest = estimand.rpartition(":")[0].partition(":")
    if kind == "overall":
        return result["overall"]
    if kind == "overall_item":
        return result["overall_item"]
    rows = result["criteria"] if kind == "criterion" else result["items"]
    return next(r for r in rows if r["code"] == rest)


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_estimates_and_ses_equal_r(ref_q, factor):
    responses, desk, sector = _data()
    res = analyze(responses, ref_q, desk, margins=[sector], trim_factor=factor, by=["sector"])
    ref = _reference()
    rows = ref[(ref["case"] == "trimmed") & (ref["factor"] == factor)]
    assert len(rows) == 8
    for r in rows.itertuples():
        if r.by and r.estimand != "overall:share":  # breakdowns carry the overall only
            continue
        entry = _entry(res, r.by, r.key, r.estimand)
        assert entry["estimate"] == pytest.approx(r.estimate, abs=1e-9)
        assert entry["se"] == pytest.approx(r.se, abs=1e-9)
    d = res["design"]
    assert d["weight_min"] == pytest.approx(rows["weight_min"].iloc[0], rel=1e-8)
    assert d["weight_max"] == pytest.approx(rows["weight_max"].iloc[0], rel=1e-8)


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_raking_case_converges_within_bounds(ref_q, factor):
    responses, desk, sector = _data()
    res = analyze(responses, ref_q, desk, margins=[sector], trim_factor=factor)
    d = res["design"]
    t = d["trim"]
    assert t["converged"] and t["feasible"]
    assert not [n for n in d["notes"] if n["code"].startswith("trim")]
    assert t["low"] * (1 - 1e-9) <= d["weight_min"] and d["weight_max"] <= t["high"] * (1 + 1e-9)
    assert t["max_margin_error"] < 1e-10
    if factor < 4:  # at 4 every raked weight is already within the bounds
        assert t["applied"] and t["sweeps"] > 0


def test_weights_meet_margins_and_bounds():
    responses, desk, sector = _data()
    w = _respondent_weights(2)
    got_desk = pd.Series(w).groupby(responses["desk"].to_numpy()).sum()
    got_sector = pd.Series(w).groupby(responses["sector"].to_numpy()).sum()
    np.testing.assert_allclose(
        got_desk[desk["desk"]].to_numpy(), desk["volume"].astype(float), rtol=1e-9
    )
    np.testing.assert_allclose(
        got_sector[sector["sector"]].to_numpy(), sector["volume"].astype(float), rtol=1e-9
    )
    w0 = _respondent_weights(4)  # untrimmed (nothing to trim at 4)
    low, high = trim_bounds(w0, np.ones(len(w0), dtype=np.int64), 2)
    assert w.min() >= low * (1 - 1e-9) and w.max() <= high * (1 + 1e-9)


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_poststratification_says_trimming_is_impossible(ref_q, factor):
    responses = read_responses(REFERENCE / "responses.csv")
    desk = read_volumes(REFERENCE / "volumes.csv")
    res = analyze(responses, ref_q, desk, trim_factor=factor)
    ref = _reference()
    row = ref[(ref["case"] == "poststratified") & (ref["factor"] == factor)]
    notes = [n for n in res["design"]["notes"] if n["code"].startswith("trim")]
    overall = row[row["estimand"] == "overall:share"].iloc[0]
    # The weights stay the post-stratified ones, R's figures without trimming.
    assert res["overall"]["estimate"] == pytest.approx(overall.estimate, abs=1e-9)
    assert res["overall"]["se"] == pytest.approx(overall.se, abs=1e-9)
    if overall.status == "failed":
        assert not res["design"]["trim"]["applied"]
        assert [n["code"] for n in notes] == ["trim_infeasible"]
        words = english(notes[0])
        assert "impossible" in words and "desk=D4" in words and "above the cap" in words
    else:
        assert notes == [] and res["design"]["trim"]["converged"]


def test_bootstrap_replicates_are_trimmed_together(ref_q):
    responses, desk, sector = _data()
    res = analyze(
        responses,
        ref_q,
        desk,
        margins=[sector],
        trim_factor=2,
        method="bootstrap",
        replicates=40,
        seed=3,
    )
    t = res["design"]["trim"]
    assert t["applied"] and t["replicates_untrimmed"] < 40
    assert 0 < res["overall"]["se"] < 0.1


def test_replicates_vectorised_equal_one_by_one():
    from analysis.weights import rake_bounded, trim_replicates

    responses, desk, sector = _data()
    q = ref_questionnaire()
    enc = encode(responses, q, extra_columns=("desk", "sector"))
    cells = build(enc, ["desk", "day", "sector"], Structure.of(q).groups())
    margins, _ = build_margins(cells, [desk, sector])
    w, _ = calibrate(cells.d, cells.n, margins)
    _, info = trim(cells.d, cells.n, margins, 2, w)
    rng = np.random.default_rng(4)
    d = rng.uniform(0.8, 1.25, size=(6, cells.size))
    d[0, 0] = 0.0  # a cell without sample weight, as in a bootstrap replicate
    w_rep, _ = calibrate(d, cells.n, margins)
    lo, hi = info["low"] / cells.d, info["high"] / cells.d
    together, untrimmed = trim_replicates(d, cells.n, margins, lo, hi, w_rep)
    for b in range(len(d)):
        alone, _, err = rake_bounded(d[b], cells.n, margins, lo, hi)
        expected = alone if err < 1e-10 else w_rep[b]
        np.testing.assert_allclose(together[b], expected, rtol=1e-9)
    assert untrimmed < len(d)


def test_cli_trim_reports_bounds_and_honest_note():
    from click.testing import CliRunner

    from analysis.commands import analyze as command

    base = [
        "--questionnaire-file",
        str(REFERENCE / "ref-v1.toml"),
        "--trim",
        "2",
        "--format",
        "json",
    ]
    raking = CliRunner().invoke(
        command,
        [
            "--responses",
            str(REFERENCE / "trim_responses.csv"),
            "--volumes",
            str(REFERENCE / "trim_volumes_desk.csv"),
            "--rake",
            str(REFERENCE / "trim_volumes_sector.csv"),
            *base,
        ],
    )
    assert raking.exit_code == 0, raking.output
    import json

    d = json.loads(raking.output)["design"]
    assert d["trim"]["applied"] and d["trim"]["sweeps"] > 0
    assert d["trim"]["low"] <= d["weight_min"] and d["weight_max"] <= d["trim"]["high"] * (1 + 1e-9)
    text = CliRunner().invoke(
        command,
        [
            "--responses",
            str(REFERENCE / "responses.csv"),
            "--volumes",
            str(REFERENCE / "volumes.csv"),
            *base[:-2],
        ],
    )
    assert text.exit_code == 0, text.output
    assert "is impossible: desk=D4 needs a mean weight of 9.405, above the cap" in text.output
