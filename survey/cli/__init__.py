"""The `survey` command line (Flask's CLI group, so `survey run` serves the app).

One module per command group; each command that changes state runs in one
transaction (``common.transaction``), committed when it ends.
"""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from survey import create_app
from survey.cli import (
    analysis,
    apikeys,
    db,
    demo,
    desks,
    posters,
    privacy,
    questionnaires,
    reports,
    responses,
    targets,
    users,
    volumes,
    worker,
)

# Commands that need only the database and the settings: their app has no
# views, so they start without pandas and scipy (the views import the results
# wing). The rest (`run`, `routes`, `shell`, `worker`, `report`, plugins) get
# the whole app.
LIGHT_COMMANDS = frozenset(
    {"db", "demo", "desks", "user", "apikey", "questionnaire", "posters", "volumes"}
    | {"targets", "privacy", "responses", "analyze", "plan"}
)


def _top_command(ctx: click.Context) -> str | None:
    """The name after `survey` (None for `survey --help` itself)."""
    name = None
    while ctx.parent is not None:
        name, ctx = ctx.info_name, ctx.parent
    return name


def _cli_app():
    top = _top_command(click.get_current_context())
    app = create_app(views=not (top is None or top in LIGHT_COMMANDS))
    # Close pooled connections when the command ends, not at interpreter exit.
    click.get_current_context().call_on_close(app.extensions["survey.db"].dispose)
    return app


@click.group(cls=FlaskGroup, create_app=_cli_app, add_version_option=False)
def cli() -> None:
    """Citizen satisfaction surveys for one-stop desks (Bộ phận một cửa)."""


for _command in (
    db.db_group,
    demo.demo,
    desks.desks_group,
    users.user_group,
    apikeys.apikey_group,
    questionnaires.questionnaire_group,
    posters.posters,
    volumes.volumes,
    responses.responses_group,
    targets.targets_group,
    *analysis.COMMANDS,
    reports.report,
    privacy.privacy_group,
    worker.worker,
    # Replaces Flask's `run`: the development server plus a worker process.
    worker.run,
):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="survey")
