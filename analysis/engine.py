"""``analyze()``: from the tidy table to the result dictionary (see __init__)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from questionnaires.model import Questionnaire

from . import bootstrap, compare
from .cell_table import Moments, TableInput, is_table
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
    srs_variance,
    srs_variance_moments,
)
from .intervals import INTERVALS, infer
from .notes import LONELY_PSU, LONELY_PSU_BOOTSTRAP, TRIM_REPLICATES, note
from .result import Basis, Context, group_entry, whole_sample
from .tidy import DERIVED, _parse_flags, encode
from .variance import Residualiser, design_of, domain_counts, linearized_variance
from .verdict import MIN_PSUS_PER_STRATUM
from .weights import (
    build_margins,
    calibrate,
    kish,
    margin_columns,
    trim,
    trim_notes,
    trim_replicates,
)

METHODS = ("linearization", "bootstrap")
# Degrees of freedom of the intervals (docs/method.md, "Intervals and degrees of
# freedom"): the Satterthwaite df of each estimate, or PSUs - strata ("design").
DF_RULES = ("satterthwaite", "design")
BY_CHOICES = ("desk", "unit", "sector", "sector_group", "month")
# The cell column that carries the domain flag ("1" inside, "0" outside).
DOMAIN_COLUMN = "_domain"


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
    closed: bool = False,
    domain: str | pd.Series | None = None,
    df_rule: str = "satterthwaite",
    patterns: pd.DataFrame | None = None,
    moments: Moments | None = None,
) -> dict:
    """See the package docstring.  ``responses`` may be a cell table
    (``cell_table``: per-cell totals with a ``_n`` count) and ``patterns`` its
    answer patterns, or ``moments`` their ``cell_table.Moments``; the numbers are
    those of the rows it sums."""
    _check(level, target, method, interval, replicates, trim_factor)
    if df_rule not in DF_RULES:
        raise AnalysisInputError(f"unknown df rule {df_rule!r}; use one of {DF_RULES}")
    responses, in_domain = _with_domain(responses, domain)
    if population is not None and not population >= 0:
        raise AnalysisInputError(f"population must be a non-negative count, got {population}")
    by = list(dict.fromkeys(by))
    tables = ([volumes] if volumes is not None else []) + list(margins)
    tables = [_as_table(t) for t in tables]
    margin_cols = [margin_columns(t) for t in tables]
    strata, psu = tuple(strata), tuple(psu)
    used = list(dict.fromkeys([*strata, *psu, *(c for cols in margin_cols for c in cols), *by]))
    if in_domain is not None:
        used.append(DOMAIN_COLUMN)
    extra = tuple(c for c in used if c not in DERIVED)

    struct = Structure.of(questionnaire)
    table = None
    if is_table(responses):
        table = TableInput(
            responses,
            questionnaire,
            include_flagged=include_flagged,
            extra_columns=extra,
            patterns=patterns,
            moments=moments,
        )
        enc = table.enc
        cells = table.build(used)
        srs_rows = table.pattern_rows(cells)
        srs_moments = table.moment_rows(cells)
        n_counted = table.n
    else:
        enc = encode(responses, questionnaire, include_flagged=include_flagged, extra_columns=extra)
        cells = build(enc, used, struct.groups())
        srs_rows = (enc.items, cells.row_cell, None)
        srs_moments = None
        n_counted = enc.n
    # Weights, strata and PSUs are those of every counted response; estimates are of
    # the domain (R: subset() after postStratify()).  Cells outside it fall in an
    # extra domain whose rows are dropped, so their influence never enters a
    # domain's variance, as in breakdowns.
    inside = (
        np.asarray(cells.labels[DOMAIN_COLUMN], dtype=str)[cells.columns[DOMAIN_COLUMN]] == "1"
        if in_domain is not None
        else np.ones(cells.size, dtype=bool)
    )
    margin_list, notes = build_margins(cells, tables)
    w, sweeps = calibrate(cells.d, cells.n, margin_list)
    trim_info = None
    if trim_factor is not None and cells.size:
        w, trim_info = trim(cells.d, cells.n, margin_list, trim_factor, w)
        notes.extend(trim_notes(trim_info))
    design = design_of(cells, strata, psu)
    kish_deff, n_eff_kish = kish(w[inside], cells.n[inside])
    resid = Residualiser(margin_list, w, cells.d, cells.n) if margin_list else None
    num, den = cell_numerators(cells)

    w_rep = None
    if method == "bootstrap":
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**31))
        rng = np.random.default_rng(seed)
        factors = bootstrap.replicate_factors(design, replicates, rng)
        w_rep, _ = calibrate(cells.d[None, :] * factors[:, design.psu], cells.n, margin_list)
        if trim_info is not None and trim_info["applied"]:
            # The full sample's bounds on g = weight / base weight, for every replicate.
            w_rep, untrimmed = trim_replicates(
                cells.d[None, :] * factors[:, design.psu],
                cells.n,
                margin_list,
                trim_info["low"] / cells.d,
                trim_info["high"] / cells.d,
                w_rep,
            )
            trim_info["replicates_untrimmed"] = untrimmed
            if untrimmed:
                notes.append(note(TRIM_REPLICATES, n=untrimmed, replicates=replicates))
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
    if srs_moments is not None and srs_moments[0].part != ctx.part:
        raise AnalysisInputError(
            f"the moments are of the {srs_moments[0].part} part; the questionnaire "
            f"reports the {ctx.part} part"
        )

    def domain_estimates(dom: Domain, items: bool, population: float | None):
        k_out = dom.size
        if in_domain is not None:
            dom = Domain(np.where(inside, dom.codes, k_out), k_out + 1, [*dom.labels, ""])
        r = domain_ratios(num, den, w, dom)
        comps = composites(struct, r.den[:, : struct.n_items] > 0, items=items)
        est = estimates(comps, r)
        dom_df = design.domain_df(dom)
        if w_rep is None:
            x = cell_influence(comps, num, den, w, dom, r)
            var, sdf = linearized_variance(x, dom, design, resid, with_df=True)
            if df_rule == "design":
                sdf = None
        else:
            sdf = None  # the bootstrap keeps the design df, as R's svrepdesign
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
        srs = _composite_srs_variance(comps, r, dom, counts)
        inferences = [
            [
                infer(
                    est[k, c],
                    var[k, c],
                    counts[k, c],
                    int(df_k),
                    level,
                    interval,
                    deffs[k],
                    df_eff=None if sdf is None else float(sdf[k, c]),
                    srs_var=None if c not in srs else float(srs[c][k]),
                )
                for c in range(len(comps))
            ]
            for k, df_k in enumerate(dom_df)
        ]
        n_psu, n_strata, thin = design.domain_psus(dom, MIN_PSUS_PER_STRATUM)
        days = _domain_days(cells, dom)
        bases = [
            Basis(
                n_psu=int(n_psu[k]),
                n_strata=int(n_strata[k]),
                thin_strata=int(thin[k]),
                closed=closed,
                n_days=None if days is None else int(days[k]),
                # The transactions behind the domain: the caller's count, or else what
                # the weights were calibrated to (or the caller's total, an upper bound).
                population=population
                if population is not None or not margin_list
                else float(wn[k]),
            )
            for k in range(k_out)
        ]
        return comps, inferences[:k_out], np.rint(resp[:k_out]).astype(np.int64), bases

    def _composite_srs_variance(comps, r, dom: Domain, counts) -> dict[int, np.ndarray]:
        """SRS variance of every estimate that is not a share of one 0/1 item: its
        design effect is var / that (intervals.infer), not p (1 - p) / var."""
        # Only the reported part (ctx.part): the other one shows no design effect.
        which = [
            c
            for c, comp in enumerate(comps)
            if comp.name.endswith(f":{ctx.part}") and (ctx.part == "score" or len(comp.members) > 1)
        ]
        if not which or not cells.size or (srs_rows is None and srs_moments is None):
            return {}
        weight = np.empty((dom.size, len(which)))
        for i, c in enumerate(which):
            comp = comps[c]
            col = (
                cells.any_answered[:, comp.group]
                if comp.group is not None
                else cells.answered[:, comp.members[0]]
            )
            weight[:, i] = domain_counts(w * col, dom)
        if srs_moments is not None:
            mom, row_cell = srs_moments
            v = srs_variance_moments(
                comps,
                which,
                mom.part,
                mom.aa,
                mom.ya,
                mom.yy,
                row_cell,
                questionnaire.scale,
                w,
                dom,
                r,
                weight,
                counts[:, which],
            )
        else:
            v = srs_variance(
                comps,
                which,
                srs_rows[0],
                srs_rows[1],
                questionnaire.scale,
                w,
                dom,
                r,
                weight,
                counts[:, which],
                multiplicity=srs_rows[2],
            )
        return {c: v[:, i] for i, c in enumerate(which)}

    whole = Domain(np.zeros(cells.size, dtype=np.int64), 1, ["all"])
    # A domain's transactions come from the weights, as a breakdown value's do.
    whole_population = population if in_domain is None or not margin_list else None
    comps, inf, n_domain, basis = domain_estimates(whole, items=True, population=whole_population)
    named = {comp.name: inf[0][c] for c, comp in enumerate(comps)}
    na_counts = cells.na[inside].sum(axis=0)
    blank_counts = cells.blank[inside].sum(axis=0)
    result = whole_sample(ctx, named, na_counts, blank_counts, basis[0])

    sample = compare.Sample(struct, ctx.part, num, den, w, design, resid, w_rep, level, inside)
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
        # Within a domain, only the breakdown values it holds.
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
            if in_domain is None or resp[k] > 0
        ]
        # Which values differ from the overall index (Holm-adjusted), for rankings.
        compare.attach(groups[col], dom, sample)

    weighting = (
        "none" if not margin_list else ("poststratification" if len(margin_list) == 1 else "raking")
    )
    design_out = {
        "strata": list(strata),
        "psu": list(psu),
        "n_strata": design.n_strata,
        "n_psu": design.n_psu,
        "df": design.df,
        "df_rule": df_rule if method == "linearization" else "design",
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
        "domain": in_domain is not None,
    }
    n_excluded = enc.n_excluded
    if in_domain is not None and n_excluded:
        if table is not None:
            n_excluded = table.excluded_in(responses, in_domain)
        else:
            n_excluded = int((_parse_flags(responses["excluded"]) & in_domain).sum())
    return {
        "questionnaire": questionnaire.key,
        "n_responses": int(n_domain[0]) if in_domain is not None else n_counted,
        "n_excluded": n_excluded,
        "level": level,
        "method": method,
        "design": design_out,
        **result,
        "groups": groups,
    }


def _with_domain(
    responses: pd.DataFrame, domain: str | pd.Series | None
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The responses with the domain flag as a cell column, and the flag per row."""
    if domain is None:
        return responses, None
    if isinstance(domain, str):
        if domain not in responses.columns:
            raise AnalysisInputError(f"domain column {domain!r} is not in the responses")
        flag = responses[domain]
    elif isinstance(domain, pd.Series):
        if len(domain) != len(responses) or not domain.index.equals(responses.index):
            raise AnalysisInputError("the domain must have the index of the responses")
        flag = domain
    else:
        raise AnalysisInputError(f"domain must be a column name or a Series, got {domain!r}")
    if flag.isna().any() or not pd.api.types.is_bool_dtype(flag):
        raise AnalysisInputError("the domain must be true or false for every response")
    inside = flag.to_numpy(dtype=bool)
    return responses.assign(**{DOMAIN_COLUMN: np.where(inside, "1", "0")}), inside


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
