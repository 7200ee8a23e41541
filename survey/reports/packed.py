"""Stored answer strings (``responses.answers``) to the item matrix reports read.

A stored string has one character per item of its questionnaire version
(``survey.models.response.encode_answers``); a report reads the items of its own
questionnaire, by code, from responses of possibly several versions.  ``unpack``
decodes a column of strings at C speed (one buffer, ``np.frombuffer``) into the
``analysis.tidy`` encoding: 1..5, -1 not applicable, 0 not answered (also for
an item the response's version does not ask).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from survey.models.response import ANSWER_CHARS, NA_CODE

NA_VALUE, BLANK_VALUE = -1, 0
# Character code -> tidy value: "0".."5" are themselves, "6" (N/A) is -1.
_TABLE = np.zeros(256, dtype=np.int8)
for _ch in ANSWER_CHARS:
    _TABLE[ord(_ch)] = int(_ch)
_TABLE[ord(NA_CODE)] = NA_VALUE


def _matrix(strings: Sequence[str], width: int) -> np.ndarray:
    """(len(strings), width) int8 of equally long strings (others padded or cut)."""
    if not len(strings):
        return np.zeros((0, width), dtype=np.int8)
    if any(len(s) != width for s in strings):  # written before a definition grew: never, but safe
        strings = [s[:width].ljust(width, "0") for s in strings]
    raw = np.frombuffer("".join(strings).encode("ascii"), dtype=np.uint8)
    return _TABLE[raw].reshape(len(strings), width)


def unpack(
    answers: Sequence[str],
    forms: np.ndarray,
    codes: list[str],
    form_codes: Callable[[int], list[str]],
) -> np.ndarray:
    """Item matrix (one row per string, one int8 column per code of ``codes``).

    ``forms``: each string's questionnaire version id; ``form_codes(id)`` that
    version's item codes in stored order.
    """
    answers = np.asarray(answers, dtype=object)
    forms = np.asarray(forms, dtype=np.int64)
    out = np.zeros((len(answers), len(codes)), dtype=np.int8)
    position = {c: j for j, c in enumerate(codes)}
    for form in np.unique(forms):
        rows = np.flatnonzero(forms == form)
        stored = form_codes(int(form))
        pairs = [(k, position[c]) for k, c in enumerate(stored) if c in position]
        if not pairs:
            continue
        m = _matrix(answers[rows].tolist(), len(stored))
        src, dst = zip(*pairs, strict=True)
        out[np.ix_(rows, list(dst))] = m[:, list(src)]
    return out
