"""`survey analyze` and `survey plan`: the pure commands of ``analysis``
(a CSV in, figures out; no app context, no database).

``analysis`` imports pandas, numpy and scipy (half a second or more), so the
real commands are imported only when one of them runs: ``survey --help`` and
every other command start without them. ``SUMMARIES`` is the first paragraph
of each command's help, for the list in ``survey --help`` (a test keeps it
equal to the real one).
"""

from __future__ import annotations

import importlib

import click

SUMMARIES = {
    "analyze": "Satisfaction indices with confidence intervals and verdicts.",
    "plan": "Responses needed for a verdict against a target.",
}


class _Deferred(click.Command):
    """Stands for ``analysis.commands.<name>`` until it is invoked."""

    def __init__(self, name: str) -> None:
        super().__init__(name, help=SUMMARIES[name])

    def real(self) -> click.Command:
        return getattr(importlib.import_module("analysis.commands"), self.name)

    def make_context(self, info_name, args, parent=None, **extra):
        # The group invokes ``sub_ctx.command``: the real command from here on.
        return self.real().make_context(info_name, args, parent=parent, **extra)


COMMANDS = (_Deferred("analyze"), _Deferred("plan"))
