"""Reports from cell totals summed in SQL equal the per-response path (issue 20).

``build_for`` reads per-cell sufficient statistics (survey/reports/cells_sql.py)
by default; ``cells=False`` reads one row per response.  Every figure of the
report (estimates, SEs, intervals, df, n, verdicts, every breakdown) and the
facts around it (post-strata, coverage, sector margin, sensitivity) must agree
to 1e-9, on SQLite and, with SURVEY_TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

import pandas as pd
import pytest

from survey.reports.build import build_for
from survey.reports.selection import resolve
from survey.services.access import SystemActor
from tests.analysis.test_cells_input import assert_same
from tests.support import TODAY

SELECTIONS = [
    {"unit": "KH"},
    {"unit": "KH-CAMRANH"},
    {"unit": "KH", "sector": "DAT_DAI"},
    {"unit": "KH-NHATRANG", "start": None},
]


def _both(db, **values):
    values = {k: v for k, v in values.items() if v is not None}
    with db.session() as s:
        sel = resolve(s, SystemActor(), today=TODAY, action="results.export", **values)
        return build_for(s, sel, cells=False), build_for(s, sel, cells=True)


@pytest.mark.parametrize("values", SELECTIONS, ids=lambda v: "-".join(map(str, v.values())))
def test_cell_report_equals_row_report(demo_db, values):
    rows, cells = _both(demo_db, **values)
    assert rows.result["n_responses"] > 100
    assert rows.result["groups"]["desk"] and rows.result["groups"]["survey_channel"]
    assert rows.result["overall"]["deff_composite"] is not None
    assert_same(rows.result, cells.result)
    assert rows.notes == cells.notes
    assert rows.weighting_cells == cells.weighting_cells
    assert rows.coverage == cells.coverage
    assert rows.labels == cells.labels
    assert rows.targets == cells.targets
    assert rows.rate == cells.rate and rows.rates == cells.rates
    assert (rows.sector_margin is None) == (cells.sector_margin is None)
    if rows.sector_margin is not None:
        pd.testing.assert_frame_equal(
            rows.sector_margin.table.sort_values("unit_sector").reset_index(drop=True),
            cells.sector_margin.table.sort_values("unit_sector").reset_index(drop=True),
            rtol=1e-12,
        )
        assert rows.sector_margin.n_rest == cells.sector_margin.n_rest
    assert_same(rows.sensitivity.__dict__, cells.sensitivity.__dict__)


def test_flagged_responses_are_counted_out_on_both_paths(demo_db):
    """The demo has flagged responses: both paths drop and count the same ones."""
    rows, cells = _both(demo_db, unit="KH")
    assert rows.result["n_excluded"] > 0
    assert cells.result["n_excluded"] == rows.result["n_excluded"]
    assert cells.result["n_responses"] == rows.result["n_responses"]


def test_the_response_rate_counts_the_stored_unflagged_responses(demo_db):
    """The numerator the cells give equals a count of the rows, desk-month by desk-month."""
    from sqlalchemy import func, select

    from survey.models import Desk, Response, Volume

    _rows, cells = _both(demo_db, unit="KH")
    with demo_db.session() as s:
        counted = 0
        months = s.execute(
            select(Volume.desk_id, Volume.month).where(
                Volume.desk_id.is_not(None), Volume.month <= TODAY
            )
        ).all()
        for desk_id, month in months:
            end = (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date()
            counted += s.scalar(
                select(func.count()).where(
                    Response.desk_id == desk_id,
                    Response.day >= month,
                    Response.day <= min(end, TODAY),
                    Response.quality_flags == "",
                )
            )
        assert s.scalar(select(func.count()).select_from(Desk)) > 5
    assert cells.rate.responses == counted > 1000
