"""The kiosk cookie of a desk's shared tablet: read it, set it, clear it.

``sv_kiosk`` holds "<device id>.<raw token>"; ``survey.services.kiosks``
checks it against the token's hash. It lives long (a tablet stays at its desk
for months) and is revoked from the desk page, not by expiry.
"""

from __future__ import annotations

from flask import Response, current_app, request

from survey.models import KioskDevice
from survey.services import kiosks
from survey.web_db import get_session

COOKIE = "sv_kiosk"
MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers keep (RFC 6265bis)


def current(desk) -> KioskDevice | None:
    """The registered tablet of ``desk`` this request comes from, else None."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    return kiosks.verify(get_session(), value, desk)


def set_cookie(resp: Response, device_id: int, token: str) -> None:
    resp.set_cookie(
        COOKIE,
        kiosks.cookie_value(device_id, token),
        max_age=MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )


def clear_cookie(resp: Response) -> None:
    resp.delete_cookie(
        COOKIE, httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"]
    )
