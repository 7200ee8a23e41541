"""Transaction volumes imported from the one-stop software (CSV or XLSX).

Two layouts, told apart by the header row (case-insensitive, extra columns
ignored):

- per desk: ``desk`` (desk code), ``month`` (YYYY-MM), ``count``;
- per unit and sector: ``unit`` (unit code), ``sector`` (sector code), ``month``, ``count``.

The pipeline is ``parse`` (bytes -> rows, format errors), ``check`` (rows ->
plan, database and scope errors, which rows replace stored ones) and ``apply``
(writes the plan).  Nothing is written unless the whole file is valid.

- ``files``: reading CSV/XLSX bytes into rows of cells, with the zip-directory
  checks that refuse an XLSX bomb before openpyxl opens it;
- ``plan``: ``parse`` and ``check``, validating the rows into a ``Plan`` of
  resolved rows and ``Issue`` values (row number as a spreadsheet shows it,
  column, code; the web pages and the CLI word them through
  ``survey.messages.volumes``);
- ``store``: writing a plan, staging a file between preview and
  confirmation, the stored monthly counts.

The public names are re-exported here: ``from survey.services import volumes``.
"""

from survey.services.volumes.files import (
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_UPLOAD_BYTES,
    MAX_XLSX_PART,
    MAX_XLSX_PARTS,
    MAX_XLSX_RATIO,
    MAX_XLSX_UNPACKED,
    Issue,
    check_xlsx_archive,
    display_name,
    read_cells,
)
from survey.services.volumes.plan import (
    COLUMNS,
    DESK,
    MAX_COUNT,
    UNIT_SECTOR,
    Parsed,
    Plan,
    Resolved,
    check,
    parse,
    parse_grid,
    prepare,
)
from survey.services.volumes.store import STAGING_TTL, apply, monthly_table, stage, take_staged

__all__ = [
    "COLUMNS",
    "DESK",
    "MAX_COLUMNS",
    "MAX_COUNT",
    "MAX_ROWS",
    "MAX_UPLOAD_BYTES",
    "MAX_XLSX_PART",
    "MAX_XLSX_PARTS",
    "MAX_XLSX_RATIO",
    "MAX_XLSX_UNPACKED",
    "STAGING_TTL",
    "UNIT_SECTOR",
    "Issue",
    "Parsed",
    "Plan",
    "Resolved",
    "apply",
    "check",
    "check_xlsx_archive",
    "display_name",
    "monthly_table",
    "parse",
    "parse_grid",
    "prepare",
    "read_cells",
    "stage",
    "take_staged",
]
