"""`survey user create|disable|enable|reset-password`: staff accounts."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from survey.cli.common import refused, transaction


@click.group("user")
def user_group() -> None:
    """Staff accounts."""


def _user_error(exc: Exception) -> str:
    """A refused account in English; a refused password in the password page's words."""
    from survey.messages import english
    from survey.messages import password as password_words
    from survey.services.users import PasswordProblem

    if isinstance(exc, PasswordProblem):
        return english(password_words.text, exc.code)
    return str(exc)


@user_group.command("create")
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

    with transaction() as session, refused(UserError, message=_user_error):
        existing = select(User.id).where(User.username == username)
        if if_missing and session.scalar(existing) is not None:
            click.echo(f"user {username} already exists; password unchanged")
            return
        _user, password = create_user(
            session,
            username=username,
            role=role,
            unit_code=unit_code,
            full_name=full_name,
            actor="cli",
        )
    click.echo(f"user {username} ({role}, {unit_code}) created")
    click.echo(f"one-time password: {password}  (must be changed at first sign-in)")


def _set_active(username: str, active: bool) -> None:
    from survey.services.users import UserError, set_active

    with transaction() as session, refused(UserError):
        changed = set_active(session, username, active)
    state = "enabled" if active else "disabled"
    click.echo(f"user {username} {state}" if changed else f"user {username} was already {state}")


@user_group.command("disable")
@click.argument("username")
@with_appcontext
def user_disable(username: str) -> None:
    """Lock an account: sign-in refused, open sessions end at their next request."""
    _set_active(username, False)


@user_group.command("enable")
@click.argument("username")
@with_appcontext
def user_enable(username: str) -> None:
    """Unlock an account disabled by `survey user disable`."""
    _set_active(username, True)


@user_group.command("reset-password")
@click.argument("username")
@with_appcontext
def user_reset_password(username: str) -> None:
    """New one-time password (printed once); every session of the user ends."""
    from survey.services.users import UserError, reset_password

    with transaction() as session, refused(UserError):
        account, password = reset_password(session, username)
        active = account.active
    click.echo(f"password of {username} reset; all their sessions are signed out")
    click.echo(f"one-time password: {password}  (must be changed at next sign-in)")
    if not active:
        click.echo(f"note: {username} is disabled; `survey user enable {username}` to unlock")
