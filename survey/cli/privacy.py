"""`survey privacy purge`: destroy the day keys and hashes out of the abuse window."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from survey.cli.common import transaction


@click.group("privacy")
def privacy_group() -> None:
    """Personal data protection (Luật 91/2025/QH15): see docs/privacy.md."""


@privacy_group.command("purge")
@with_appcontext
def privacy_purge() -> None:
    """Delete the day keys older than the abuse window and null those days' hashes.

    The server does this by itself with the first answer of each day; this
    command is for a server that received none, or to check. Idempotent.
    """
    from survey import clock
    from survey.config import settings
    from survey.services import feedback, hash_keys

    with transaction() as session:
        done = hash_keys.purge(session, clock.local_today(settings().TIMEZONE))
        contacts = feedback.purge_contacts(session)
    click.echo(
        f"before {done.before.isoformat()}: deleted {done.keys} day key(s), "
        f"cleared the hashes of {done.responses} response(s)"
    )
    click.echo(f"deleted {contacts} citizen contact(s) kept past their retention")
