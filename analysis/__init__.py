"""Satisfaction statistics on a tidy response table (pandas/numpy/scipy only).

Never imports Flask, SQLAlchemy or the ``survey`` web package: the web app and the
CLI call in, nothing here calls out.

Python API
==========

``analyze(responses, questionnaire, volumes=None, *, margins=(), trim_factor=None,
target=None, targets=None, level=0.95, method="linearization", interval="logit",
replicates=500, seed=None, by=(), include_flagged=False, strata=("desk",),
psu=("desk", "day"), population=None, closed=False, domain=None,
df_rule="satterthwaite", patterns=None, moments=None) -> dict``

* ``responses``: DataFrame, one row per response: ``response_id, unit, desk,
  sector, day`` (ISO date string or datetime), optional ``excluded`` (quality flag;
  such rows are dropped and counted in ``n_excluded`` unless ``include_flagged``),
  ``sector_group`` and ``weight`` (base weight), and one column per item code of the
  questionnaire holding 1..5, ``"NA"`` or empty.  Integer item columns are taken as
  already encoded (scale value, -1 = NA, 0 = blank; see ``tidy``).
  Or a cell table (``cell_table``: per-cell totals with a ``_n`` count, e.g.
  summed in SQL) with ``patterns=`` its answer patterns: the same numbers as
  the rows it sums (without patterns, composites' ``deff_composite`` is None).
  ``moments=`` (``cell_table.Moments``, e.g. ``moments_from_patterns``; sums of
  several with ``Moments.concat``) replaces the patterns by per-cell second
  moments of the reported part: the same numbers at a size bounded by the cells,
  not the respondents.  One of the two at most.
* ``questionnaire``: ``questionnaires.model.Questionnaire``.
* ``volumes``: population counts for post-stratification: a DataFrame with the
  cell columns and ``volume`` (default cell ``desk``; e.g. ``desk, month, volume``),
  a Series indexed by desk, or a ``{desk: volume}`` mapping.  ``margins``: further
  tables of the same form; with more than one table the weights are raked.
  ``trim_factor``: weights within median / F .. F x median of the calibrated
  weights, every margin met (bounded raking; docs/method.md, "Trimming").
* ``target``: threshold for the verdicts (fraction, e.g. 0.85); ``targets`` overrides
  it per breakdown value, e.g. ``{"sector_group": {"dat_dai": 0.75}}``.
* ``method``: ``"linearization"`` or ``"bootstrap"`` (Rao-Wu, ``replicates``,
  ``seed``); ``interval``: ``"logit"`` or ``"korn-graubard"``.
* ``by``: breakdowns among desk, unit, sector, sector_group, month (any column).
* ``strata``/``psu``: the design; by default strata = desk and PSU = desk x day.
* ``domain``: a boolean column name or Series (index of ``responses``): estimate
  only the rows where it is true, as a domain of the full design (R's
  ``subset()`` after ``postStratify()``): weights, strata and PSUs of every
  counted response, every estimate, breakdown and count over the domain.
* ``population``: the transactions of the period, when known; a count of further
  responses is only reported when it fits in them (breakdown values use the
  transactions their weights were calibrated to).
* ``closed``: the period is over (no further response can come), so no count of
  further responses is reported.
* ``df_rule``: the df of the intervals' t quantiles: ``"satterthwaite"`` (the
  default; from the stratum terms of the linearised variance, at most the design
  df) or ``"design"`` (PSUs - strata, R's ``degf``, as ``svyciprop(df =
  degf(design))``).  The minimum-design rule and the contrasts always use the
  design df, and the bootstrap keeps it (docs/method.md, "Intervals and degrees
  of freedom").

Returns (all shares as fractions 0..1; JSON-serialisable)::

    {"questionnaire": "standard@1", "n_responses", "n_excluded", "level", "method",
     "design": {strata, psu, n_strata, n_psu, df, n_days, lonely_psu_strata, weighting,
                kish_deff, n_eff_kish, weight_min, weight_max, trim, notes, ...},
     "overall": S, "mean_score": M, "score_100": M,
     "overall_item": S + {code, n_na, n_blank, mean_score, score_100} or None,
     "criteria": [S + {code, name, weight, mean_score, score_100}],
     "items": [S + {code, criterion, weight, n_na, n_blank, mean_score}],
     "groups": {"desk": [{"key", "n", "n_psu", "n_days", "overall": S, "mean_score",
                          "score_100", "criteria": [S + {code}], "vs_overall": V}], ...}}

    S = {estimate, se, ci_low, ci_high, df, df_interval, n, n_eff, deff,
         deff_composite, target, verdict, p_value, more_needed,
         more_needed_direction, adequate, too_small, notes}
        df: PSUs - strata of the domain (R's degf); df_interval: the df of the
        interval's quantiles (the Satterthwaite df by default, = df with
        analyze(df_rule="design")).  deff: a 0/1 item's n SE^2 / p (1 - p)
        (None for composites; with SE 0 the Kish deff for all); deff_composite:
        a composite's (criterion, index) variance over the SRS variance of its
        score (None for items); n_eff = n / whichever is given.  too_small may also hold "single_psu_no_se" (one PSU,
        SE 0: no interval).
    M = {estimate, se, ci_low, ci_high}
    V = {difference, se, df, p_value, p_adjusted, significant, direction} or None:
        the value's overall index minus the whole's, two-sided t-test, Holm-adjusted
        over the values of the breakdown; direction "higher"/"lower" when significant
        (None below the minimum design; see ``compare``)

``verdict`` is "dat", "khong_dat" or "chua_du_can_cu" (None without a target).
Below the minimum design (fewer than 30 responses, fewer than 5 degrees of
freedom, or fewer than 2 PSUs in most of the strata the estimate touches)
``adequate`` is False, ``too_small`` lists the reasons ("few_responses",
"low_df", "few_psus"), the verdict is "chua_du_can_cu" and ``more_needed`` None;
the interval is kept for the record but is not to be shown.  ``more_needed`` is
0 once decided, otherwise the further responses that ``sample_size`` plans at the
current estimate and design effect (the n for 80% power of the two-sided
interval clearing the target, minus n; None when implausible, see
``population``, or when ``closed``), with ``more_needed_direction``
"to_confirm_pass" (estimate above the target) or "to_confirm_fail".
Notes (``design.notes``, ``S.notes``) are ``{"code", "params"}``; ``notes.english``
words them.
With ``aggregation = "mean"`` in the questionnaire the index is the mean score
rescaled to 0..1, (mean - 1) / 4, and targets apply to that.

Bad input raises ``AnalysisInputError`` (with ``column``, ``row``, ``desk``).

``sample_size(target, expected, alpha=0.05, power=0.8, deff=1.0, sides=2) -> dict``
plans the number of responses (``n``; ``n_srs`` before the design effect) by the
verdict's rule: the two-sided (1 - alpha) interval clears the target with the
given power (``sides=1``: a one-sided test instead).

``read_responses(path)`` / ``read_volumes(path)`` read the CSV forms.
``to_text(result)`` / ``to_xlsx(result, path)`` render a result.

Method notes: see ``variance`` (linearisation, R-compatible), ``intervals``,
``verdict``, ``weights`` and ``bootstrap``.
"""

from .engine import analyze
from .errors import AnalysisInputError, ConvergenceError
from .io import read_responses, read_volumes
from .planner import sample_size
from .result import to_text, to_xlsx

__all__ = [
    "AnalysisInputError",
    "ConvergenceError",
    "analyze",
    "read_responses",
    "read_volumes",
    "sample_size",
    "to_text",
    "to_xlsx",
]
