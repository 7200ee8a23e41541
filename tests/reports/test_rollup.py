"""Closed months read from their stored summaries give the numbers of the responses (issue 20).

``survey.services.rollup.refresh`` summarises each closed month per desk
(survey/reports/rollup.py); a report then reads those months' blobs and the
other days' responses.  Every figure must equal the all-live report to 1e-9,
on SQLite and PostgreSQL, and a write into a closed month (an import) must
never leave a stale summary behind.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from survey.models import RollupCell, RollupMonth
from survey.reports import rollup
from survey.reports.build import build_for
from survey.reports.selection import resolve
from survey.services.access import SystemActor
from survey.services.rollup import invalidate
from tests.analysis.test_cells_input import assert_same
from tests.support import TODAY

TZ = "Asia/Ho_Chi_Minh"
# 22/11/2026 in Vietnam: January to October are closed; November is open.
NOW = datetime(2026, 11, 22, 3, 0)

SELECTIONS = [
    {"unit": "KH", "start": "2026-01-01", "end": "2026-10-31"},
    {"unit": "KH", "start": "2026-02-15", "end": "2026-11-20"},  # cut months read live
    {"unit": "KH-CAMRANH", "start": "2026-01-01", "end": "2026-10-31"},
    {"unit": "KH", "sector": "DAT_DAI", "start": "2026-01-01", "end": "2026-10-31"},
    {"unit": "KH", "questionnaire": "short@1", "start": "2026-01-01", "end": "2026-10-31"},
]


def _report(db, values):
    values = dict(values)
    values["start"] = date.fromisoformat(values["start"])
    values["end"] = date.fromisoformat(values["end"])
    with db.session() as s:
        sel = resolve(s, SystemActor(), today=TODAY, action="results.export", **values)
        return build_for(s, sel), rollup.covered_months(s, sel)


def _refresh(db, now=NOW):
    with db.session() as s:
        return rollup.refresh(s, TZ, now=now)


@pytest.mark.parametrize("values", SELECTIONS, ids=lambda v: "-".join(map(str, v.values())))
def test_a_report_from_summaries_equals_the_report_from_responses(demo_db, values):
    live, covered = _report(demo_db, values)
    assert covered == []
    built = _refresh(demo_db)
    assert built == [date(2026, m, 1) for m in range(1, 11)]
    stored, covered = _report(demo_db, values)
    assert covered  # the summaries were read
    assert live.result["n_responses"] > 100
    assert live.result["overall"]["deff_composite"] is not None
    assert_same(live.result, stored.result)
    assert live.notes == stored.notes
    assert live.weighting_cells == stored.weighting_cells
    assert live.labels == stored.labels
    assert_same(live.sensitivity.__dict__, stored.sensitivity.__dict__)


def test_the_open_month_is_never_summarised(demo_db):
    with demo_db.session() as s:
        assert date(2026, 11, 1) not in rollup.pending(s, TZ, NOW)
        # 00:05 on 1 December in Vietnam: November's last POSTs may still commit.
        just_after = datetime(2026, 11, 30, 17, 5)
        assert date(2026, 11, 1) not in rollup.pending(s, TZ, just_after)
        later = datetime(2026, 11, 30, 17, 15)
        assert date(2026, 11, 1) in rollup.pending(s, TZ, later)


def test_a_refresh_builds_each_month_once_and_counts_every_response(demo_db):
    assert len(_refresh(demo_db)) == 10
    assert _refresh(demo_db) == []  # nothing pending
    with demo_db.session() as s:
        from survey.models import Response

        stored = s.scalar(select(func.sum(RollupMonth.responses)))
        per_desk = s.scalar(select(func.sum(RollupCell.responses)))
        expected = s.scalar(
            select(func.count()).where(Response.day < date(2026, 11, 1)).select_from(Response)
        )
    assert stored == per_desk == expected > 2000


def test_a_refresh_that_loses_the_race_skips_the_month(demo_db, monkeypatch):
    _refresh(demo_db)
    # A second refresh that listed March before the first one committed it.
    monkeypatch.setattr(rollup, "pending", lambda *_a, **_k: [date(2026, 3, 1)])
    with demo_db.session() as s:
        assert rollup.refresh(s, TZ, now=NOW) == []
        assert s.scalar(select(func.count()).select_from(RollupMonth)) == 10


def test_an_import_into_a_closed_month_drops_its_summary(demo_db, demo_db_url, tmp_path):
    from tests.responses_import.test_import import GOOD, run

    _refresh(demo_db)
    path = tmp_path / "paper.csv"
    path.write_text(GOOD, encoding="utf-8")
    result = run(demo_db_url, str(path), "--questionnaire", "short@1", "--channel", "paper")
    assert result.exit_code == 0, result.output
    values = {"unit": "KH", "start": "2026-01-01", "end": "2026-10-31"}
    stored, covered = _report(demo_db, values)
    with demo_db.session() as s:
        months = set(s.scalars(select(RollupMonth.month)))
    # The months the file wrote into were built again, after the import: the
    # report counts the imported answers from the summaries.
    assert date(2026, 3, 1) in months and date(2026, 3, 1) in covered
    with demo_db.session() as s:
        invalidate(s, [date(2026, m, 1) for m in range(1, 11)])
        s.commit()
    live, covered = _report(demo_db, values)
    assert covered == []
    assert_same(live.result, stored.result)


def _report_as(db, change):
    """The KH report of January to October with its questionnaire changed by ``change``;
    (report, the months read from summaries, whether ``rollup.read`` could serve it)."""
    from survey.reports.frame import Lookup

    with db.session() as s:
        sel = resolve(
            s,
            SystemActor(),
            today=TODAY,
            action="results.export",
            unit="KH",
            start=date(2026, 1, 1),
            end=date(2026, 10, 31),
        )
        sel.__dict__["questionnaire"] = change(sel.questionnaire)
        months = rollup.covered_months(s, sel)
        usable = bool(months) and (
            rollup.read(s, sel, sel.questionnaire, Lookup.load(s, sel), months) is not None
        )
        return build_for(s, sel), months, usable


def test_a_mean_score_report_reads_the_score_moments(demo_db):
    """A questionnaire scored by its mean reads the stored x moments, not the shares'."""
    import dataclasses

    # The demo's forms are top-two-box; the same answers scored by their mean.
    def mean(q):
        return dataclasses.replace(q, aggregation="mean")

    live, covered, _ = _report_as(demo_db, mean)
    assert covered == []
    _refresh(demo_db)
    stored, covered, usable = _report_as(demo_db, mean)
    assert usable
    assert len(covered) == 10
    assert live.result["overall"]["deff_composite"] is not None
    assert_same(live.result, stored.result)


def test_a_report_the_summaries_cannot_serve_reads_the_responses(demo_db):
    """Another satisfied threshold than the stored forms': the stored share moments
    do not apply, so the months are read from the responses, and the numbers hold."""
    import dataclasses

    def top_box(q):
        return dataclasses.replace(q, scale=dataclasses.replace(q.scale, satisfied_min=5))

    live, _, usable = _report_as(demo_db, top_box)
    assert not usable
    _refresh(demo_db)
    again, covered, usable = _report_as(demo_db, top_box)
    assert covered
    assert not usable
    assert_same(live.result, again.result)


def test_demo_data_added_to_a_summarised_month_drops_its_summary(demo_db):
    from sqlalchemy import delete

    from survey.models import Comment, Response
    from survey.services.demo import load_demo

    _refresh(demo_db)
    with demo_db.session() as s:
        rid, day = s.execute(
            select(Response.id, Response.day).where(Response.day < date(2026, 4, 1)).limit(1)
        ).one()
        s.execute(delete(Comment).where(Comment.response_id == rid))
        s.execute(delete(Response).where(Response.id == rid))
        s.commit()
        load_demo(s)  # puts the missing demo response back
        s.commit()
        months = set(s.scalars(select(RollupMonth.month)))
    assert day.replace(day=1) not in months and len(months) == 9
