"""The `survey` command line (Flask's CLI group, so `survey run` serves the app)."""

from __future__ import annotations

import json
import sys
from typing import NoReturn

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
    from survey.services.desks import list_desks

    with _db().session() as session:
        rows = list_desks(session, _settings()["BASE_URL"], _unit_subtree(session, unit_code))
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
    _echo_table(table)


def _echo_table(table: list[tuple]) -> None:
    widths = [max(len(str(row[i])) for row in table) for i in range(len(table[0]))]
    for row in table:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _unit_subtree(session, unit_code: str | None) -> set[int] | None:
    from survey.services import units

    if not unit_code:
        return None
    unit = units.by_code(session, unit_code)
    if unit is None:
        raise click.BadParameter(f"unknown unit code {unit_code!r}", param_hint="--unit")
    return units.subtree_ids(session, unit.id)


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


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@user.command("disable")
@click.argument("username")
@with_appcontext
def user_disable(username: str) -> None:
    """Lock an account: sign-in refused, open sessions end at their next request."""
    from survey.services.users import UserError, set_active

    try:
        with _db().session() as session:
            changed = set_active(session, username, False)
    except UserError as exc:
        _fail(str(exc))
    click.echo(f"user {username} disabled" if changed else f"user {username} was already disabled")


@user.command("enable")
@click.argument("username")
@with_appcontext
def user_enable(username: str) -> None:
    """Unlock an account disabled by `survey user disable`."""
    from survey.services.users import UserError, set_active

    try:
        with _db().session() as session:
            changed = set_active(session, username, True)
    except UserError as exc:
        _fail(str(exc))
    click.echo(f"user {username} enabled" if changed else f"user {username} was already enabled")


@user.command("reset-password")
@click.argument("username")
@with_appcontext
def user_reset_password(username: str) -> None:
    """New one-time password (printed once); every session of the user ends."""
    from survey.services.users import UserError, reset_password

    try:
        with _db().session() as session:
            account, password = reset_password(session, username)
            active = account.active
    except UserError as exc:
        _fail(str(exc))
    click.echo(f"password of {username} reset; all their sessions are signed out")
    click.echo(f"one-time password: {password}  (must be changed at next sign-in)")
    if not active:
        click.echo(f"note: {username} is disabled; `survey user enable {username}` to unlock")


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


@apikey.command("list")
@click.option("--unit", "unit_code", help="Only keys of this unit's subtree.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@with_appcontext
def apikey_list(unit_code: str | None, fmt: str) -> None:
    """List keys: id, unit, label, created, revoked (never the key or its hash)."""
    from survey.services.links import list_api_keys

    with _db().session() as session:
        rows = list_api_keys(session, _unit_subtree(session, unit_code))
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    header = ("id", "unit", "label", "created", "revoked")
    _echo_table(
        [header]
        + [(r["id"], r["unit"], r["label"], r["created_at"], r["revoked_at"] or "-") for r in rows]
    )


@apikey.command("revoke")
@click.argument("key_id", type=int)
@with_appcontext
def apikey_revoke(key_id: int) -> None:
    """Revoke a key by id (see `survey apikey list`); the API refuses it at once."""
    from survey.services.links import LinkError, revoke_api_key

    try:
        with _db().session() as session:
            row, changed = revoke_api_key(session, key_id)
            unit_code = row.unit.code
    except LinkError as exc:
        _fail(exc.message)
    if changed:
        click.echo(f"API key {key_id} ({unit_code}) revoked")
    else:
        click.echo(f"API key {key_id} ({unit_code}) was already revoked")


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
