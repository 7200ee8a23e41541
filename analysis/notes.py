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
TRIM_NOT_CONVERGED = "trim_not_converged"
# Notes of one estimate (S["notes"]).
DF_BELOW_ONE = "df_below_one"  # params: df
ZERO_SE = "zero_se"
NO_VARIANCE = "no_variance"
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
    TRIM_NOT_CONVERGED: lambda p: (
        "trimming could not keep every weight under the cap while matching the volumes "
        "(weights within a weighting cell are equal); margins were kept"
    ),
    DF_BELOW_ONE: lambda p: f"df = {p['df']} (one PSU per stratum): the interval uses df = 1",
    ZERO_SE: lambda p: (
        "SE is 0 (no variation to estimate it from): exact interval with n_eff = n / Kish deff"
    ),
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
