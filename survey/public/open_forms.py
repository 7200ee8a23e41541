"""Which submission id a browser's form for a desk carries.

Browsers often re-fetch a form on "back" instead of restoring it, which would
hand out a new submission id and turn a back-and-resubmit into a second
response. So the session remembers, per desk, the id it was given: a reload or
a back navigation gets the same id (a resubmit is then a replay), until the
citizen explicitly starts a new evaluation or the remembered one is old.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

KEY = "sv_forms"
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
