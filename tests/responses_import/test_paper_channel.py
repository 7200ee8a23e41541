"""Migration 0012: the channel CHECK takes 'paper' and still refuses anything else."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from survey.models import Response


def test_paper_is_a_channel_and_unknown_channels_are_still_refused(demo_db):
    with demo_db.session() as s:
        rid = s.scalar(select(Response.id).limit(1))
        s.execute(update(Response).where(Response.id == rid).values(channel="paper"))
    with demo_db.session() as s:
        assert s.get(Response, rid).channel == "paper"
    with pytest.raises(IntegrityError), demo_db.session() as s:
        s.execute(update(Response).where(Response.id == rid).values(channel="fax"))
