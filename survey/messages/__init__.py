"""Error codes and their words, one catalogue per domain.

Services raise codes (``OrgError.code``, ``Issue.code``, ``SelectionError.code``,
``PasswordError.code``, ``FilterError.field``); they never word them and never
import this package. Each domain module here holds ``WORDS = {code:
N_("Vietnamese source …")}`` and a ``Catalogue`` over it: the web views call
``messages.<domain>.text(code, value=…)`` in the request's language, the CLI
the same catalogue in English (``english``). A new code is
one edit here, then ``scripts/i18n`` and its English in
``survey/translations/en/LC_MESSAGES/messages.po``.

``text`` returns a plain ``str`` from ``flask_babel.gettext``, never a lazy
string: a lazy string counts as safe HTML in Jinja, and these hold request
data (a code the user typed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import flask_babel


def N_(message: str) -> str:
    """Mark ``message`` for extraction (pybabel's default keywords) without translating it."""
    return message


class Catalogue:
    """The words of one domain's codes.

    ``default`` words an unknown code (None: an unknown code is a bug,
    ``KeyError``); ``params`` gives a code's fixed parameters (a limit), which
    the caller's keywords override.
    """

    def __init__(
        self,
        words: Mapping[str, str],
        default: str | None = None,
        params: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.words = dict(words)
        self.default = default
        self.params = {code: dict(p) for code, p in (params or {}).items()}

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(self.words)

    def msgid(self, code: str) -> str:
        found = self.words.get(code, self.default)
        if found is None:
            raise KeyError(code)
        return found

    def text(self, code: str, **params: Any) -> str:
        """The words of ``code`` in the current language, ``%(name)s`` filled from ``params``."""
        values = {**self.params.get(code, {}), **params}
        return str(flask_babel.gettext(self.msgid(code), **values))


def english(words: Callable[..., str], *args: Any, **kwargs: Any) -> str:
    """``words(*args, **kwargs)`` in English, the language of the ``survey`` commands.

    ``words`` is a catalogue's ``text`` (or ``survey.messages.volumes.describe``):
    the web pages' Vietnamese source through the English catalogue. It needs
    the app context only: ``force_locale`` does not consult the request.
    """
    with flask_babel.force_locale("en"):
        return words(*args, **kwargs)
