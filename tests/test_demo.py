"""Demo data: the promised structure, realistic content, and idempotence."""

from sqlalchemy import func, select

from survey.models import (
    AuditEvent,
    Comment,
    Desk,
    Response,
    Sector,
    SectorGroup,
    Target,
    Unit,
    Volume,
)
from survey.models.response import NA_CODE
from survey.services.demo import load_demo

TABLES = (Unit, Desk, Sector, SectorGroup, Target, Volume, Response, Comment)


def _counts(session):
    return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in TABLES}


def test_second_run_changes_nothing(demo_db):
    with demo_db.session() as s:
        before = _counts(s)
        digest_before = sorted(s.execute(select(Response.submission_id, Response.desk_id)).all())
    with demo_db.session() as s:
        added = load_demo(s)
    with demo_db.session() as s:
        assert _counts(s) == before
        assert sorted(s.execute(select(Response.submission_id, Response.desk_id)).all()) == (
            digest_before
        )
    assert set(added.values()) == {0}


def test_structure_is_a_province_with_wards_communes_and_centre(demo_db):
    with demo_db.session() as s:
        province = s.scalar(select(Unit).where(Unit.parent_id.is_(None)))
        kinds = {u.kind for u in province.children}
        assert province.kind == "province"
        assert {"ward", "commune", "centre"} <= kinds
        assert s.scalar(select(func.count()).select_from(Desk).where(Desk.active)) >= 12


def test_targets_from_the_plans_are_labelled_demo(demo_db):
    with demo_db.session() as s:
        rows = s.execute(
            select(Unit.code, Target.year, SectorGroup.code, Target.threshold, Target.source)
            .join(Unit, Unit.id == Target.unit_id)
            .outerjoin(SectorGroup, SectorGroup.id == Target.sector_group_id)
        ).all()
    found = {(u, y, g): t for u, y, g, t, _src in rows}
    assert found[("KH-CAMRANH", 2022, None)] == 0.87
    assert found[("KH", 2022, None)] == 0.85
    assert found[("KH", 2022, "DD-XD-DT")] == 0.75
    assert found[("KH", 2022, "YT-GD")] == 0.80
    assert found[("KH-VPUB", 2024, None)] == 0.87
    assert all(src.startswith("Dữ liệu mẫu") for *_rest, src in rows)


def test_responses_vary_and_include_na_blanks_and_comments(demo_db):
    with demo_db.session() as s:
        n = s.scalar(select(func.count()).select_from(Response))
        assert 2000 <= n <= 10000
        na = s.scalar(select(func.count()).where(Response.answers.contains(NA_CODE)))
        assert na > 0
        # Desks differ: the best and worst desk shares differ by at least 10 points.
        shares: dict[int, list[int]] = {}
        for desk_id, packed in s.execute(select(Response.desk_id, Response.answers)):
            values = [ch for ch in packed if ch in "12345"]
            tally = shares.setdefault(desk_id, [0, 0])
            tally[0] += sum(ch in "45" for ch in values)
            tally[1] += len(values)
        values = [ok / n for ok, n in shares.values()]
        assert max(values) - min(values) > 0.10
        comments = s.scalars(select(Comment.text)).all()
        assert comments and any("ấ" in c or "ờ" in c or "ạ" in c for c in comments)
        days = s.scalar(select(func.count(func.distinct(Response.day))))
        assert days > 100
        # Volumes: every active desk has monthly counts.
        desks_with_volume = s.scalar(select(func.count(func.distinct(Volume.desk_id))))
        assert desks_with_volume == s.scalar(
            select(func.count()).select_from(Desk).where(Desk.active)
        )
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0
