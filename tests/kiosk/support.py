"""Helpers of the kiosk tests: find a desk, register a tablet as a manager would."""

from __future__ import annotations

import re

from sqlalchemy import select

from survey.models import Desk, KioskDevice
from survey.public.kiosk import COOKIE
from tests.support import csrf_token

FIELD = re.compile(r'name="(csrf_token|sid)" value="([^"]+)"')
ITEM = re.compile(r'name="([A-Z]{2}\d*)" value="')


def answered_form(client, code: str, value: str = "4") -> dict[str, str]:
    """A fresh form of the desk, every item answered (``?moi=1`` asks for a new
    evaluation; the page may redirect to the form it issues)."""
    html = client.get(f"/s/{code}?moi=1", follow_redirects=True).get_data(as_text=True)
    fields = dict(FIELD.findall(html))
    assert {"csrf_token", "sid"} <= set(fields), "no survey form on the page"
    return {**fields, **{item: value for item in dict.fromkeys(ITEM.findall(html))}}


def desk_id(db, code: str) -> int:
    with db.session() as s:
        return s.scalar(select(Desk.id).where(Desk.code == code))


def register_here(client, db, desk: int, label: str = "Máy tính bảng quầy 1"):
    """Register ``client``'s browser as the desk's tablet through the desk page
    (a real CSRF token); returns the response of the POST."""
    token = csrf_token(client, f"/staff/desks/{desk}")
    return client.post(f"/staff/desks/{desk}/kiosks", data={"csrf_token": token, "label": label})


def kiosk_cookie(client) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def devices(db, desk: int) -> list[KioskDevice]:
    with db.session() as s:
        found = list(s.scalars(select(KioskDevice).where(KioskDevice.desk_id == desk)))
        for d in found:
            s.expunge(d)
        return found
