"""`survey analyze` and `survey plan`: the pure commands of ``analysis``
(a CSV in, figures out; no app context, no database)."""

from __future__ import annotations

from analysis.commands import analyze, plan

COMMANDS = (analyze, plan)
