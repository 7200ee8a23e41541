"""`survey targets set|list`: a unit's yearly satisfaction targets.

The same rules as the staff page (survey.services.org.targets): the threshold
is a percentage typed the vi_VN way ("85", "85%", "85,5"), 50 <= x < 100, and
a unit may raise the target it inherits, never lower it. ``--as USERNAME``
acts as that staff account (its rights, its name in the audit and on the
target); without it the operator acts with full rights, like the other
commands. Refusals: ``error: ...`` on stderr, exit status 2, nothing written.
"""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from survey.cli.common import echo_table, fail, transaction


def _org_error(exc) -> str:
    from survey.messages import english
    from survey.messages import org as org_words
    from survey.reports.texts import target_percent
    from survey.services.org.targets import BelowInherited

    if isinstance(exc, BelowInherited):
        unit = exc.from_unit.name if exc.from_unit is not None else ""
        inherited = target_percent(exc.inherited.threshold, "en")
        return english(org_words.text, exc.code, inherited=inherited, unit=unit)
    return english(org_words.text, exc.code, value=exc.value)


def _unit(session, code: str):
    from survey.services import units

    unit = units.by_code(session, code.strip().upper())
    if unit is None:
        fail(f"--unit: unknown unit code {code!r}")
    return unit


def _group(session, code: str | None):
    from survey.models import SectorGroup

    if not code:
        return None
    group = session.scalar(select(SectorGroup).where(SectorGroup.code == code.strip().upper()))
    if group is None:
        fail(f"--group: unknown sector group code {code!r}")
    return group


def _actor(session, username: str | None):
    """The staff account named by ``--as`` (active), else the operator."""
    from survey.models import User
    from survey.services.access import SystemActor

    if username is None:
        return SystemActor()
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        fail(f"--as: no active staff account {username!r}")
    return user


@click.group("targets")
def targets_group() -> None:
    """Satisfaction targets (chỉ tiêu) of units, inherited down the tree."""


@targets_group.command("set")
@click.option("--unit", "unit_code", required=True, help="Code of the unit.")
@click.option("--year", required=True, type=int, help="The plan's year, e.g. 2026.")
@click.option("--threshold", required=True, help='A percentage: "85", "85%", "85,5".')
@click.option("--group", "group_code", help="Code of a sector group (default: overall).")
@click.option("--source", default="", help="The plan or decision the number comes from.")
@click.option("--as", "username", help="Act as this staff account (its rights and name).")
@with_appcontext
def targets_set(
    unit_code: str,
    year: int,
    threshold: str,
    group_code: str | None,
    source: str,
    username: str | None,
) -> None:
    """Set a unit's target for a year (replaces the one of the same year and group)."""
    from survey.reports.texts import target_percent
    from survey.services.access import Forbidden
    from survey.services.org import OrgError
    from survey.services.org.targets import parse_percent, set_target

    with transaction() as session:
        actor = _actor(session, username)
        unit = _unit(session, unit_code)
        group = _group(session, group_code)
        try:
            share = parse_percent(threshold)
            _target, created = set_target(
                session,
                actor,
                unit,
                year=year,
                threshold=share,
                sector_group_id=group.id if group is not None else None,
                source=source,
            )
        except OrgError as exc:
            fail(f"--{'year' if exc.field == 'year' else 'threshold'}: {_org_error(exc)}")
        except Forbidden:
            fail(f"{username or 'cli'} may not manage the targets of {unit.code}")
        label = f"{unit.code} {year} {group.code if group is not None else 'overall'}"
    verb = "set" if created else "updated"
    click.echo(f"target {verb}: {label} = {target_percent(share, 'en')}")


def _entries(session, unit, year: int | None) -> list[dict]:
    """The targets that apply to ``unit``: per year, overall and each group that has its own."""
    import flask_babel

    from survey.messages import english
    from survey.models import SectorGroup, Target, User
    from survey.reports.texts import target_provenance
    from survey.services import units
    from survey.services.org.targets import effective_target, provenance

    chain = [u.id for u in units.ancestors(unit)]
    years = sorted(
        set(session.scalars(select(Target.year).where(Target.unit_id.in_(chain)))), reverse=True
    )
    if year is not None:
        years = [y for y in years if y == year]
    groups = list(session.scalars(select(SectorGroup).order_by(SectorGroup.code)))
    out = []
    for y in years:
        for group in [None, *groups]:
            target = effective_target(session, unit, y, group.id if group else None)
            if target is None:
                continue
            if group is not None and target.sector_group_id != group.id:
                continue  # the group falls back to the overall target, listed once
            p = provenance(session, target, unit)
            setter = session.get(User, target.set_by_id) if target.set_by_id else None
            out.append(
                {
                    "unit": unit.code,
                    "year": y,
                    "group": group.code if group is not None else None,
                    "threshold": round(target.threshold * 100, 4),
                    "source": target.source,
                    "set_by": setter.username if setter is not None else None,
                    "set_by_name": p.set_by or None,
                    "updated_at": target.updated_at.isoformat() if target.updated_at else None,
                    "inherited_from": p.unit_code if p.inherited else None,
                    "inherited_threshold": (
                        round(p.inherited_threshold * 100, 4)
                        if p.inherited_threshold is not None
                        else None
                    ),
                    "provenance": english(
                        lambda p=p: target_provenance(p, "en", flask_babel.gettext)
                    ),
                }
            )
    return out


@targets_group.command("list")
@click.option("--unit", "unit_code", required=True, help="Code of the unit.")
@click.option("--year", type=int, help="Only this year.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@with_appcontext
def targets_list(unit_code: str, year: int | None, fmt: str) -> None:
    """The targets that apply to a unit, with where each comes from."""
    with transaction() as session:
        unit = _unit(session, unit_code)
        rows = _entries(session, unit, year)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    header = ("year", "group", "threshold", "from", "set by", "provenance")
    table = [header] + [
        (
            str(r["year"]),
            r["group"] or "overall",
            f"{r['threshold']:g}%",
            r["inherited_from"] or r["unit"],
            r["set_by"] or "",
            r["provenance"],
        )
        for r in rows
    ]
    echo_table(table)
