"""`survey questionnaire ...`: the pure commands of ``questionnaires``, plus
`publish`, the one that needs the database."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from questionnaires.commands import questionnaire_group
from survey.cli.common import fail, refused, transaction


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
        fail(details=[str(exc)])  # the problems, one a line, as `validate` prints them
    with transaction() as session, refused(PublishError):
        results = [(q, publish_version(session, q)[1]) for q in loaded]
    for q, created in results:
        click.echo(f"{q.key}: {'published' if created else 'already published, unchanged'}")


questionnaire_group.add_command(publish)
