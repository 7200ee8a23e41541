"""`survey apikey create|list|revoke`: keys of the one-stop software."""

from __future__ import annotations

import json
from operator import attrgetter

import click
from flask.cli import with_appcontext

from survey.cli.common import echo_table, refused, transaction, unit_subtree


@click.group("apikey")
def apikey_group() -> None:
    """API keys for the one-stop software (per-transaction survey links)."""


@apikey_group.command("create")
@click.option("--unit", "unit_code", required=True, help="Unit whose desks the key may link to.")
@click.option("--label", default="", help="Which system uses the key.")
@with_appcontext
def apikey_create(unit_code: str, label: str) -> None:
    """Create a key; it is printed once and only its hash is stored."""
    from survey.services import audit
    from survey.services.links import LinkError, create_api_key

    with transaction() as session, refused(LinkError):
        row, key = create_api_key(session, unit_code, label)
        audit.record(
            session,
            actor="cli",
            action="apikey.create",
            entity="api_key",
            entity_id=row.id,
            after={"unit": unit_code, "label": label},
        )
    click.echo(f"API key for {unit_code} (shown once): {key}")


@apikey_group.command("list")
@click.option("--unit", "unit_code", help="Only keys of this unit's subtree.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@with_appcontext
def apikey_list(unit_code: str | None, fmt: str) -> None:
    """List keys: id, unit, label, created, revoked (never the key or its hash)."""
    from survey.services.links import list_api_keys

    with transaction() as session:
        rows = list_api_keys(session, unit_subtree(session, unit_code))
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    header = ("id", "unit", "label", "created", "revoked")
    echo_table(
        [header]
        + [(r["id"], r["unit"], r["label"], r["created_at"], r["revoked_at"] or "-") for r in rows]
    )


@apikey_group.command("revoke")
@click.argument("key_id", type=int)
@with_appcontext
def apikey_revoke(key_id: int) -> None:
    """Revoke a key by id (see `survey apikey list`); the API refuses it at once."""
    from survey.services.links import LinkError, revoke_api_key

    with transaction() as session, refused(LinkError, message=attrgetter("message")):
        row, changed = revoke_api_key(session, key_id)
        unit_code = row.unit.code
    if changed:
        click.echo(f"API key {key_id} ({unit_code}) revoked")
    else:
        click.echo(f"API key {key_id} ({unit_code}) was already revoked")
