"""Which submission id a browser's form for a desk carries.

Browsers often re-fetch a form on "back" instead of restoring it, which would
hand out a new submission id and turn a back-and-resubmit into a second
response. So the session remembers, per desk (per case for a case link), the
id it was given: a reload or a back navigation gets the same id. Once that id
is stored the desk's page says so ("đã gửi lúc 14:27") instead of showing a
form that could not be stored, until the citizen explicitly starts a new
evaluation or ``FRESH_SECONDS`` have passed.

``thanks`` points the GET thanks page (post/redirect/get) at the submission it
thanks for.

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
THANKS_KEY = "sv_t"
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


def link_key(case_hash: str) -> str:
    """The entry of a case link: its own, so a desk's QR form never blocks it."""
    return "L" + case_hash[:16]


def thank_for(cookie: MutableMapping[str, Any], desk_code: str, sid: str) -> None:
    cookie[THANKS_KEY] = {"desk": desk_code, "sid": sid}


def thanked(cookie: MutableMapping[str, Any], desk_code: str) -> str | None:
    """The submission id the thanks page of this desk is for, if any."""
    entry = cookie.get(THANKS_KEY)
    if isinstance(entry, dict) and entry.get("desk") == desk_code:
        sid = entry.get("sid")
        return sid if isinstance(sid, str) else None
    return None


def binding(cookie: MutableMapping[str, Any], create: bool = False) -> str | None:
    """This browser's binding value; ``create`` makes one if it has none yet."""
    value = cookie.get(BINDING_KEY)
    if not isinstance(value, str) and create:
        value = cookie[BINDING_KEY] = secrets.token_urlsafe(12)
    return value if isinstance(value, str) else None
