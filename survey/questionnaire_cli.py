"""`survey questionnaire publish`: the one questionnaire command that needs the database."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("publish")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def publish(paths: tuple[str, ...]) -> None:
    """Publish questionnaire files; a published version never changes."""
    from questionnaires.loader import QuestionnaireError, load_file
    from survey.services.questionnaires import PublishError
    from survey.services.questionnaires import publish as publish_version

    try:
        loaded = [load_file(p) for p in paths]  # validate all before writing any
    except QuestionnaireError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    try:
        with current_app.extensions["survey.db"].session() as session:
            results = [(q, publish_version(session, q)[1]) for q in loaded]
    except PublishError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    for q, created in results:
        click.echo(f"{q.key}: {'published' if created else 'already published, unchanged'}")
