"""python -m analysis analyze|plan (the same commands as `survey analyze|plan`)."""

from .commands import cli

cli(prog_name="python -m analysis")
