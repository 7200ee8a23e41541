"""Helpers to fetch a survey form and post it like a browser without JavaScript."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from survey.models import Answer, Response
from survey.services.demo import demo_code

DESK = demo_code("tt-datdai")  # standard questionnaire
SHORT_DESK = demo_code("nt-1")  # short questionnaire


def form_of(client, code=DESK):
    """A form for a new evaluation (``?moi=1``: not a reload of the last one)."""
    resp = client.get(f"/s/{code}?moi=1")
    html = resp.get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    sid = re.search(r'name="sid" value="([^"]+)"', html).group(1)
    items = list(dict.fromkeys(re.findall(r'name="([A-Z]{2}\d*)" value="', html)))
    na_items = set(re.findall(r'name="([A-Z]{2}\d*)" value="NA"', html))
    return {"csrf_token": token, "sid": sid}, items, na_items


def full_answers(client, code=DESK, value="4"):
    base, items, _na = form_of(client, code)
    return {**base, **{item: value for item in items}}


def counts(db):
    with db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Response)),
            s.scalar(select(func.count()).select_from(Answer)),
        )
