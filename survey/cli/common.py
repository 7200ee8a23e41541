"""What the `survey` commands share: their transaction, bad-input errors, tables.

Bad input (an unknown code, a missing folder, an invalid file) is reported as
``error: ...`` on standard error with exit status 2, and changes nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import NoReturn

import click
from sqlalchemy.orm import Session

from survey.web_db import get_db

INPUT_ERROR = 2


def fail(message: str = "", code: int = INPUT_ERROR, *, details: Iterable[str] = ()) -> NoReturn:
    """Print ``details`` (one line each), then ``error: message``, on stderr; exit ``code``.

    Raised inside ``transaction()``, it rolls the transaction back.
    """
    for line in details:
        click.echo(line, err=True)
    if message:
        click.echo(f"error: {message}", err=True)
    sys.exit(code)


@contextmanager
def refused(*errors: type[Exception], message: Callable[[Exception], str] = str) -> Iterator[None]:
    """One of ``errors`` raised in the block is bad input: ``fail(message(exc))``."""
    try:
        yield
    except errors as exc:
        fail(message(exc))


def transaction() -> AbstractContextManager[Session]:
    """The command's one transaction: committed when the block ends, rolled back
    if it raises (``fail()`` included). Print results after the block, once committed."""
    return get_db().session()


def echo_table(table: Sequence[Sequence[object]]) -> None:
    """Rows as left-aligned columns, the first row being the header."""
    widths = [max(len(str(row[i])) for row in table) for i in range(len(table[0]))]
    for row in table:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def unit_subtree(session: Session, unit_code: str | None) -> set[int] | None:
    """The ids of a unit's subtree (``--unit CODE``), or None for every unit."""
    from survey.services import units

    if not unit_code:
        return None
    unit = units.by_code(session, unit_code)
    if unit is None:
        raise click.BadParameter(f"unknown unit code {unit_code!r}", param_hint="--unit")
    return units.subtree_ids(session, unit.id)


# `-o FILE` of every command that writes a file (written with survey.files.write_atomically).
output_option = click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (replaced only once complete).",
)
