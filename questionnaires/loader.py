"""Read questionnaire definition files (TOML) into the model.

One file per questionnaire version, named ``<id>-v<version>.toml``; the shipped
ones live next to this module.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from .errors import QuestionnaireError, QuestionnaireNotFound
from .model import Questionnaire
from .schema import build
from .serialize import content_hash, from_dict, to_dict

__all__ = [
    "SHIPPED_DIR",
    "FileResult",
    "QuestionnaireError",
    "QuestionnaireNotFound",
    "content_hash",
    "find",
    "from_dict",
    "load_dir",
    "load_file",
    "load_text",
    "parse_key",
    "scan_dir",
    "to_dict",
]

SHIPPED_DIR = Path(__file__).resolve().parent

# tomllib (3.11) only puts the position in the message text:
# "... (at line 3, column 7)" or "... (at end of document)".
_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")

StrPath = str | PathLike[str]


def load_text(text: str, source_name: str = "<text>") -> Questionnaire:
    """Parse and validate TOML text; ``source_name`` prefixes every error message."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        where = source_name
        if match:
            line, column = match.groups()
            message = message[: match.start()]
            position = f"line {line}, column {column}" if line else "end of file"
            where = f"{source_name}: {position}"
        raise QuestionnaireError([f"{where}: invalid TOML syntax: {message}"]) from None
    return build(raw, source_name)


def load_file(path: StrPath) -> Questionnaire:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise QuestionnaireError([f"{path}: cannot read file: {exc.strerror or exc}"]) from None
    try:
        # utf-8-sig: Windows editors often save a byte-order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise QuestionnaireError(
            [f"{path}: not UTF-8 text (bad byte at offset {exc.start}); save the file as UTF-8"]
        ) from None
    return load_text(text, str(path))


@dataclass(frozen=True)
class FileResult:
    """One file of a folder: its questionnaire when valid, else its problems."""

    path: Path
    questionnaire: Questionnaire | None
    problems: tuple[str, ...] = ()


def scan_dir(path: StrPath | None = None) -> list[FileResult]:
    """Load every ``*.toml`` in a folder, collecting problems instead of stopping.

    Besides each file's own problems, checks the folder conventions: file name
    ``<id>-v<version>.toml`` and no id@version defined twice.
    """
    directory = Path(path) if path is not None else SHIPPED_DIR
    if not directory.is_dir():
        return [FileResult(directory, None, (f"{directory}: not a directory",))]
    results: list[FileResult] = []
    owners: dict[str, Path] = {}
    for file in sorted(directory.glob("*.toml")):
        try:
            q = load_file(file)
        except QuestionnaireError as exc:
            results.append(FileResult(file, None, tuple(exc.problems)))
            continue
        problems = []
        expected = f"{q.id}-v{q.version}.toml"
        if file.name != expected:
            problems.append(
                f"{file}: file name should be {expected} (id {q.id!r}, version {q.version})"
            )
        if q.key in owners:
            problems.append(f"{file}: {q.key} is already defined in {owners[q.key]}")
        owners.setdefault(q.key, file)
        results.append(FileResult(file, None if problems else q, tuple(problems)))
    return results


def load_dir(path: StrPath | None = None) -> list[Questionnaire]:
    """All questionnaires in a folder (default: the shipped one), sorted by id and version.

    Raises QuestionnaireError listing every problem in every file.
    """
    results = scan_dir(path)
    problems = [m for r in results for m in r.problems]
    if problems:
        raise QuestionnaireError(problems)
    return sorted((r.questionnaire for r in results), key=lambda q: (q.id, q.version))


def find(id: str, version: int | None = None, directory: StrPath | None = None) -> Questionnaire:
    """The questionnaire ``id`` at ``version``, or its latest version when None."""
    matches = [q for q in load_dir(directory) if q.id == id]
    if version is not None:
        matches = [q for q in matches if q.version == version]
    if not matches:
        wanted = id if version is None else f"{id}@{version}"
        raise QuestionnaireNotFound(f"no questionnaire {wanted}")
    return max(matches, key=lambda q: q.version)


def parse_key(key: str) -> tuple[str, int | None]:
    """Split "standard@2" into ("standard", 2); "standard" gives ("standard", None)."""
    qid, sep, version = key.partition("@")
    if not qid or (sep and not (version.isascii() and version.isdigit())):
        raise ValueError(f"expected ID or ID@VERSION (e.g. standard@1), got {key!r}")
    return qid, int(version) if sep else None
