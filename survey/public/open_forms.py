"""Which submission id a browser's form for a desk carries.

Browsers often re-fetch a form on "back" instead of restoring it, which would
hand out a new submission id and turn a back-and-resubmit into a second
response. So the session remembers, per desk, the id it was given: a reload or
a back navigation gets the same id (a resubmit is then a replay), until the
citizen explicitly starts a new evaluation or the remembered one is old.

The session also holds a random *binding* value that every submission id
issued to this browser is signed with, so an id copied out of one browser's
page is worthless in another (e.g. in a cross-site POST, which carries no
session cookie).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import MutableMapping
from typing import Any

KEY = "sv_forms"
BINDING_KEY = "sv_b"
KEEP = 5  # desks remembered per browser
FRESH_SECONDS = 30 * 60  # after this a submitted form no longer blocks a new one


def current(cookie: MutableMapping[str, Any], desk_code: str) -> dict | None:
    entry = (cookie.get(KEY) or {}).get(desk_code)
    if entry and entry.get("done") and time.time() - entry.get("at", 0) > FRESH_SECONDS:
        return None
    return entry


def remember(cookie: MutableMapping[str, Any], desk_code: str, sid: str, done: bool) -> None:
    forms = dict(cookie.get(KEY) or {})
    forms.pop(desk_code, None)
    forms[desk_code] = {"sid": sid, "done": done, "at": int(time.time())}
    while len(forms) > KEEP:
        forms.pop(next(iter(forms)))
    cookie[KEY] = forms


def binding(cookie: MutableMapping[str, Any], create: bool = False) -> str | None:
    """This browser's binding value; ``create`` makes one if it has none yet."""
    value = cookie.get(BINDING_KEY)
    if not isinstance(value, str) and create:
        value = cookie[BINDING_KEY] = secrets.token_urlsafe(12)
    return value if isinstance(value, str) else None
