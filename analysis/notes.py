"""Method notes as codes with parameters, and their English wording (the CSV CLI).

A note is ``{"code": CODE, "params": {...}}`` (JSON-ready).  ``analysis`` only
says what happened; whoever shows a note words it: ``english`` here for
``survey analyze`` on a CSV file, ``survey.reports.texts`` in Vietnamese for
staff pages and report files.
"""

from __future__ import annotations

from typing import Any

# Design notes (result["design"]["notes"]).
LONELY_PSU = "lonely_psu"  # params: strata
LONELY_PSU_BOOTSTRAP = "lonely_psu_bootstrap"  # params: strata
UNUSED_VOLUMES = "unused_volumes"  # params: n, cells (first few, [{column: value}]), more
# Trimming (weights.trim): bounds that no weights meet, given which cells or margins
# prevent it (params: factor, low, high, cells [{"cell": {column: value}, "side":
# "high"|"low", "mean_weight"}] first few, more; or margins [[columns]] when only the
# margins together do); sweeps run out (factor, sweeps, error); replicates (n, replicates).
TRIM_INFEASIBLE = "trim_infeasible"
TRIM_NOT_CONVERGED = "trim_not_converged"
TRIM_REPLICATES = "trim_replicates"
# Notes of one estimate (S["notes"]).
DF_BELOW_ONE = "df_below_one"  # params: df
ZERO_SE = "zero_se"
NO_VARIANCE = "no_variance"
SINGLE_PSU_NO_SE = "single_psu_no_se"  # one PSU and SE 0: no interval, no verdict
# Why an estimate is below the minimum design (S["too_small"]), see verdict.too_small.
FEW_RESPONSES, FEW_PSUS, LOW_DF = "few_responses", "few_psus", "low_df"


def note(code: str, **params: Any) -> dict:
    return {"code": code, "params": params}


def cell_label(cell: dict[str, str]) -> str:
    return ", ".join(f"{c}={v}" for c, v in cell.items())


def _unused(p: dict) -> str:
    shown = "; ".join(cell_label(c) for c in p["cells"])
    more = f" and {p['more']} more" if p.get("more") else ""
    return (
        f"volumes of {p['n']} cell(s) without responses were left out of the population: "
        f"{shown}{more}"
    )


def _trim_infeasible(p: dict) -> str:
    head = (
        f"trimming by {p['factor']:g} (weights within {p['low']:.4g}..{p['high']:.4g}, "
        f"median / {p['factor']:g} .. {p['factor']:g} x median) is impossible"
    )
    if p.get("margins"):
        together = " and ".join("x".join(cols) for cols in p["margins"])
        return f"{head}: no such weights meet the margins {together} together; weights untrimmed"
    cells = "; ".join(
        f"{cell_label(c['cell'])} needs a mean weight of {c['mean_weight']:.4g}, "
        + ("above the cap" if c["side"] == "high" else "below the floor")
        for c in p["cells"]
    )
    more = f" and {p['more']} more" if p.get("more") else ""
    return f"{head}: {cells}{more}; weights were left untrimmed"


ENGLISH = {
    LONELY_PSU: lambda p: (
        f"{p['strata']} stratum/strata with a single PSU: variance by R's survey.lonely.psu = "
        '"adjust" (PSU total centred at the population mean, zero)'
    ),
    LONELY_PSU_BOOTSTRAP: lambda p: (
        f"{p['strata']} stratum/strata with a single PSU cannot be resampled by the bootstrap "
        "and add no variance"
    ),
    UNUSED_VOLUMES: _unused,
    TRIM_INFEASIBLE: lambda p: _trim_infeasible(p),
    TRIM_NOT_CONVERGED: lambda p: (
        f"trimming by {p['factor']:g}: bounded raking did not meet the margins in "
        f"{p['sweeps']} sweeps (relative error {p['error']:.2g}); weights were left untrimmed"
    ),
    TRIM_REPLICATES: lambda p: (
        f"{p['n']} of {p['replicates']} bootstrap replicates cannot be trimmed within the "
        "bounds and keep their untrimmed calibrated weights"
    ),
    DF_BELOW_ONE: lambda p: f"df = {p['df']} (one PSU per stratum): the interval uses df = 1",
    ZERO_SE: lambda p: (
        "SE is 0 (no variation to estimate it from): exact interval with n_eff = n / Kish deff "
        "x (t(n - 1) / t(df))^2 (Korn-Graubard)"
    ),
    SINGLE_PSU_NO_SE: lambda p: "a single PSU and SE 0: no interval and no verdict",
    NO_VARIANCE: lambda p: "variance unavailable",
    FEW_RESPONSES: lambda p: f"fewer than {_minimum('MIN_RESPONSES')} responses",
    FEW_PSUS: lambda p: f"fewer than {_minimum('MIN_PSUS_PER_STRATUM')} PSUs in most strata",
    LOW_DF: lambda p: f"fewer than {_minimum('MIN_DF')} degrees of freedom",
}


def _minimum(name: str) -> int:
    from . import verdict  # verdict imports the codes from here

    return getattr(verdict, name)


def english(n: dict | str) -> str:
    """A note (or a bare code) in English; an unknown code as itself."""
    code, params = (n, {}) if isinstance(n, str) else (n["code"], n.get("params") or {})
    words = ENGLISH.get(code)
    return words(params) if words else code
