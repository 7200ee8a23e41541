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
    targets,
    users,
    volumes,
)


def _cli_app():
    app = create_app()
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
    targets.targets_group,
    *analysis.COMMANDS,
    reports.report,
    privacy.privacy_group,
):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="survey")
