"""The one rule for characters that free text may not hold (pure: no Flask).

Input checks refuse them (``has_control_chars``); the file writers (XLSX, PDF)
drop them (``clean_for_file``), so text stored before the checks existed, or
by any other path, can never make an export fail.

Refused: C0 controls except tab and line feed (a carriage return too: forms
turn CR LF into LF first), DEL, C1 controls (U+0080–U+009F: invisible, usually
mis-decoded Windows-1252), lone surrogates (from undecodable command-line
bytes or JSON escapes; no database encoding stores them) and U+FFFE/U+FFFF
(not allowed in XML: Excel calls the file corrupt).  openpyxl itself refuses
only C0 (``IllegalCharacterError``) and writes the others into a broken file.

Format characters (zero-width space, bidirectional marks) are valid XML and
legitimate in some scripts: they are left alone.
"""

from __future__ import annotations

import re

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def has_control_chars(text: str) -> bool:
    """True if ``text`` holds a character that stored text may not hold."""
    return _CONTROL.search(text) is not None


def clean_for_file(value):
    """``value`` with those characters removed if it is text (CR LF kept as LF); else as is."""
    if not isinstance(value, str) or _CONTROL.search(value) is None:
        return value
    return _CONTROL.sub("", value.replace("\r\n", "\n"))
