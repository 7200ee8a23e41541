"""``analyze()``: from the tidy table to the result dictionary (see __init__)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from questionnaires.model import Questionnaire

from . import bootstrap
from .cells import build
from .errors import AnalysisInputError
from .estimators import (
    Domain,
    Structure,
    cell_influence,
    cell_numerators,
    composites,
    domain_ratios,
    estimates,
)
from .intervals import INTERVALS, infer
from .notes import LONELY_PSU, LONELY_PSU_BOOTSTRAP, TRIM_NOT_CONVERGED, note
from .result import Basis, Context, group_entry, whole_sample
from .tidy import DERIVED, encode
from .variance import Residualiser, design_of, domain_counts, linearized_variance
from .verdict import MIN_PSUS_PER_STRATUM
from .weights import build_margins, calibrate, kish, margin_columns, trim

METHODS = ("linearization", "bootstrap")
BY_CHOICES = ("desk", "unit", "sector", "sector_group", "month")


def analyze(
    responses: pd.DataFrame,
    questionnaire: Questionnaire,
    volumes: pd.DataFrame | None = None,
    *,
    margins: Sequence[pd.DataFrame] = (),
    trim_factor: float | None = None,
    target: float | None = None,
    targets: Mapping[str, Mapping[str, float]] | None = None,
    level: float = 0.95,
    method: str = "linearization",
    interval: str = "logit",
    replicates: int = 500,
    seed: int | None = None,
    by: Sequence[str] = (),
    include_flagged: bool = False,
    strata: Sequence[str] = ("desk",),
    psu: Sequence[str] = ("desk", "day"),
    population: float | None = None,
) -> dict:
    _check(level, target, method, interval, replicates, trim_factor)
    if population is not None and not population >= 0:
        raise AnalysisInputError(f"population must be a non-negative count, got {population}")
    by = list(dict.fromkeys(by))
    tables = ([volumes] if volumes is not None else []) + list(margins)
    tables = [_as_table(t) for t in tables]
    margin_cols = [margin_columns(t) for t in tables]
    strata, psu = tuple(strata), tuple(psu)
    used = list(dict.fromkeys([*strata, *psu, *(c for cols in margin_cols for c in cols), *by]))
    extra = tuple(c for c in used if c not in DERIVED)

    enc = encode(responses, questionnaire, include_flagged=include_flagged, extra_columns=extra)
    struct = Structure.of(questionnaire)
    cells = build(enc, used, struct.groups())
    margin_list, notes = build_margins(cells, tables)
    w, sweeps = calibrate(cells.d, cells.n, margin_list)
    trim_info = None
    if trim_factor is not None and cells.size:
        w, trim_info = trim(w, cells.n, margin_list, trim_factor)
        if not trim_info["converged"]:
            notes.append(note(TRIM_NOT_CONVERGED))
    design = design_of(cells, strata, psu)
    kish_deff, n_eff_kish = kish(w, cells.n)
    resid = Residualiser(margin_list, w, cells.d, cells.n) if margin_list else None
    num, den = cell_numerators(cells)

    w_rep = None
    if method == "bootstrap":
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**31))
        rng = np.random.default_rng(seed)
        factors = bootstrap.replicate_factors(design, replicates, rng)
        w_rep, _ = calibrate(cells.d[None, :] * factors[:, design.psu], cells.n, margin_list)
        if trim_factor is not None:
            for b in range(replicates):
                w_rep[b], _ = trim(w_rep[b], cells.n, margin_list, trim_factor)
        if design.lonely.any():
            notes.append(note(LONELY_PSU_BOOTSTRAP, strata=int(design.lonely.sum())))
    elif design.lonely.any():
        notes.append(note(LONELY_PSU, strata=int(design.lonely.sum())))

    ctx = Context(
        struct=struct,
        questionnaire=questionnaire,
        level=level,
        interval=interval,
        target=target,
    )

    def domain_estimates(dom: Domain, items: bool, population: float | None):
        r = domain_ratios(num, den, w, dom)
        comps = composites(struct, r.den[:, : struct.n_items] > 0, items=items)
        est = estimates(comps, r)
        if w_rep is None:
            x = cell_influence(comps, num, den, w, dom, r)
            var = linearized_variance(x, dom, design, resid)
        else:
            theta = bootstrap.replicate_estimates(comps, num, den, w_rep, dom)
            var, _ = bootstrap.replicate_variance(theta)
        answered = domain_counts(cells.answered, dom)
        groups = domain_counts(cells.any_answered, dom)
        counts = np.empty((dom.size, len(comps)), dtype=np.int64)
        for c, comp in enumerate(comps):
            col = groups[:, comp.group] if comp.group is not None else answered[:, comp.members[0]]
            counts[:, c] = np.rint(col).astype(np.int64)
        wn, wn2 = domain_counts(w * cells.n, dom), domain_counts(w * w * cells.n, dom)
        resp = domain_counts(cells.n.astype(float), dom)
        with np.errstate(invalid="ignore", divide="ignore"):
            deffs = np.where(wn > 0, resp * wn2 / np.where(wn > 0, wn * wn, 1), 1.0)
        inferences = [
            [
                infer(est[k, c], var[k, c], counts[k, c], int(df_k), level, interval, deffs[k])
                for c in range(len(comps))
            ]
            for k, df_k in enumerate(design.domain_df(dom))
        ]
        n_psu, n_strata, thin = design.domain_psus(dom, MIN_PSUS_PER_STRATUM)
        days = _domain_days(cells, dom)
        bases = [
            Basis(
                n_psu=int(n_psu[k]),
                n_strata=int(n_strata[k]),
                thin_strata=int(thin[k]),
                n_days=None if days is None else int(days[k]),
                # The transactions behind the domain: the caller's count, or else what
                # the weights were calibrated to (or the caller's total, an upper bound).
                population=population
                if population is not None or not margin_list
                else float(wn[k]),
            )
            for k in range(dom.size)
        ]
        return comps, inferences, np.rint(resp).astype(np.int64), bases

    whole = Domain(np.zeros(cells.size, dtype=np.int64), 1, ["all"])
    comps, inf, _, basis = domain_estimates(whole, items=True, population=population)
    named = {comp.name: inf[0][c] for c, comp in enumerate(comps)}
    na_counts = cells.na.sum(axis=0)
    blank_counts = cells.blank.sum(axis=0)
    result = whole_sample(ctx, named, na_counts, blank_counts, basis[0])

    groups: dict[str, list[dict]] = {}
    for col in by:
        labels = [str(x) for x in cells.labels[col]]
        if not labels:
            groups[col] = []
            continue
        dom = Domain(cells.columns[col], len(labels), labels)
        # A breakdown value's own transactions come from the weights; without volumes
        # the period's total is the only (upper) bound there is.
        comps_g, inf_g, resp, bases = domain_estimates(
            dom, items=False, population=None if margin_list else population
        )
        group_targets = (targets or {}).get(col, {})
        groups[col] = [
            group_entry(
                ctx,
                labels[k],
                int(resp[k]),
                {comp.name: inf_g[k][c] for c, comp in enumerate(comps_g)},
                group_targets.get(labels[k], target),
                bases[k],
            )
            for k in range(len(labels))
        ]

    weighting = (
        "none" if not margin_list else ("poststratification" if len(margin_list) == 1 else "raking")
    )
    design_out = {
        "strata": list(strata),
        "psu": list(psu),
        "n_strata": design.n_strata,
        "n_psu": design.n_psu,
        "df": design.df,
        "lonely_psu_strata": int(design.lonely.sum()),
        "lonely_psu": "adjust",
        "n_days": basis[0].n_days,
        "weighting": weighting,
        "weighting_cells": [list(m.columns) for m in margin_list],
        "rake_sweeps": sweeps if len(margin_list) > 1 else None,
        "trim": trim_info,
        "kish_deff": kish_deff,
        "n_eff_kish": n_eff_kish,
        "weight_min": float(w.min()) if cells.size else None,
        "weight_max": float(w.max()) if cells.size else None,
        "interval": interval,
        "aggregation": struct.aggregation,
        "n_flagged_included": enc.n_flagged_included,
        "replicates": replicates if method == "bootstrap" else None,
        "seed": seed if method == "bootstrap" else None,
        "notes": notes,
    }
    return {
        "questionnaire": questionnaire.key,
        "n_responses": enc.n,
        "n_excluded": enc.n_excluded,
        "level": level,
        "method": method,
        "design": design_out,
        **result,
        "groups": groups,
    }


def _domain_days(cells, dom: Domain) -> np.ndarray | None:
    """Distinct survey days with respondents per domain (None without a day column)."""
    if "day" not in cells.columns:
        return None
    k = dom.size
    pairs = np.unique(cells.columns["day"] * k + dom.codes)
    return np.bincount(pairs % k, minlength=k)


def _as_table(t) -> pd.DataFrame:
    if isinstance(t, pd.DataFrame):
        return t
    if isinstance(t, pd.Series):  # index = desk, values = volume
        name = t.index.name or "desk"
        return pd.DataFrame({name: t.index.astype(str), "volume": t.to_numpy()})
    if isinstance(t, Mapping):
        return pd.DataFrame({"desk": list(t.keys()), "volume": list(t.values())})
    raise TypeError(f"volumes must be a DataFrame, Series or mapping, got {type(t).__name__}")


def _check(level, target, method, interval, replicates, trim_factor) -> None:
    if not 0 < level < 1:
        raise AnalysisInputError(f"level must be between 0 and 1, got {level}")
    if target is not None and not 0 < target < 1:
        raise AnalysisInputError(f"target must be between 0 and 1, got {target}")
    if method not in METHODS:
        raise AnalysisInputError(f"unknown method {method!r}; use one of {METHODS}")
    if interval not in INTERVALS:
        raise AnalysisInputError(f"unknown interval {interval!r}; use one of {INTERVALS}")
    if method == "bootstrap" and replicates < 2:
        raise AnalysisInputError(f"replicates must be at least 2, got {replicates}")
    if trim_factor is not None and trim_factor <= 1:
        raise AnalysisInputError(f"trim factor must be above 1, got {trim_factor}")
