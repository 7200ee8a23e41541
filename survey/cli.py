"""The `survey` command line (Flask's CLI group, so `survey run` serves the app)."""

from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from survey import create_app


def _db():
    return current_app.extensions["survey.db"]


def _settings():
    return current_app.config["SURVEY"]


def _cli_app():
    app = create_app()
    # Close pooled connections when the command ends, not at interpreter exit.
    click.get_current_context().call_on_close(app.extensions["survey.db"].dispose)
    return app


@click.group(cls=FlaskGroup, create_app=_cli_app, add_version_option=False)
def cli() -> None:
    """Citizen satisfaction surveys for one-stop desks (Bộ phận một cửa)."""


# --- db -----------------------------------------------------------------------
@cli.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema to the latest revision."""
    from survey.migrate import upgrade

    upgrade(_db().url, revision)
    click.echo(f"database at {revision}: {_safe_url(_db().url)}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- demo ---------------------------------------------------------------------
@cli.command("demo")
@click.option("--if-empty", is_flag=True, help="Load only when there are no units yet.")
@with_appcontext
def demo(if_empty: bool) -> None:
    """Load the demo province (idempotent: a second run adds nothing)."""
    from sqlalchemy import func, select

    from survey.models import Unit
    from survey.services.demo import demo_desk_url, load_demo

    with _db().session() as session:
        if if_empty and session.scalar(select(func.count()).select_from(Unit)):
            click.echo("database already has data; demo not loaded")
            return
        added = load_demo(session)
    click.echo("demo loaded: " + ", ".join(f"{k} +{v}" for k, v in added.items()))
    click.echo(f"demo desk survey: {demo_desk_url(_settings()['BASE_URL'])}")


# --- desks --------------------------------------------------------------------
@cli.group()
def desks() -> None:
    """Desks (quầy) and their survey URLs."""


@desks.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--unit", "unit_code", help="Only this unit's subtree.")
@with_appcontext
def desks_list(fmt: str, unit_code: str | None) -> None:
    """List desks with unit, survey URL, state and response count."""
    from survey.services import units
    from survey.services.desks import list_desks

    with _db().session() as session:
        unit_ids = None
        if unit_code:
            unit = units.by_code(session, unit_code)
            if unit is None:
                raise click.BadParameter(f"unknown unit code {unit_code!r}", param_hint="--unit")
            unit_ids = units.subtree_ids(session, unit.id)
        rows = list_desks(session, _settings()["BASE_URL"], unit_ids)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    header = ("code", "unit", "active", "responses", "name", "url")
    table = [header] + [
        (
            r["code"],
            r["unit"],
            "yes" if r["active"] else "no",
            str(r["responses"]),
            r["name"],
            r["url"],
        )
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    for row in table:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


# --- users --------------------------------------------------------------------
@cli.group()
def user() -> None:
    """Staff accounts."""


@user.command("create")
@click.argument("username")
@click.option(
    "--role", required=True, type=click.Choice(["admin", "unit_manager", "desk_staff", "analyst"])
)
@click.option("--unit", "unit_code", required=True, help="Code of the unit the role covers.")
@click.option("--name", "full_name", default="", help="Full name shown in the audit log.")
@click.option("--if-missing", is_flag=True, help="Do nothing (exit 0) if the user exists.")
@with_appcontext
def user_create(username: str, role: str, unit_code: str, full_name: str, if_missing: bool) -> None:
    """Create a staff account with a one-time password (printed once)."""
    from sqlalchemy import select

    from survey.models import User
    from survey.services.users import UserError, create_user

    if if_missing:
        with _db().session() as session:
            if session.scalar(select(User.id).where(User.username == username)) is not None:
                click.echo(f"user {username} already exists; password unchanged")
                return
    try:
        with _db().session() as session:
            _user, password = create_user(
                session,
                username=username,
                role=role,
                unit_code=unit_code,
                full_name=full_name,
                actor="cli",
            )
    except UserError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"user {username} ({role}, {unit_code}) created")
    click.echo(f"one-time password: {password}  (must be changed at first sign-in)")


# --- API keys -------------------------------------------------------------------
@cli.group()
def apikey() -> None:
    """API keys for the one-stop software (per-transaction survey links)."""


@apikey.command("create")
@click.option("--unit", "unit_code", required=True, help="Unit whose desks the key may link to.")
@click.option("--label", default="", help="Which system uses the key.")
@with_appcontext
def apikey_create(unit_code: str, label: str) -> None:
    """Create a key; it is printed once and only its hash is stored."""
    from survey.services import audit
    from survey.services.links import LinkError, create_api_key

    try:
        with _db().session() as session:
            row, key = create_api_key(session, unit_code, label)
            audit.record(
                session,
                actor="cli",
                action="apikey.create",
                entity="api_key",
                entity_id=row.id,
                after={"unit": unit_code, "label": label},
            )
    except LinkError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"API key for {unit_code} (shown once): {key}")


def _attach_commands() -> None:
    """Commands defined next to the code they drive (pure packages and services)."""
    from analysis.commands import analyze, plan
    from questionnaires.commands import questionnaire_group
    from survey.poster_cli import posters
    from survey.questionnaire_cli import publish
    from survey.report_cli import report
    from survey.volumes_cli import volumes

    questionnaire_group.add_command(publish)
    for command in (questionnaire_group, analyze, plan, posters, volumes, report):
        cli.add_command(command)


_attach_commands()


def main() -> None:
    cli(prog_name="survey")
