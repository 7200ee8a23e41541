"""The random key of one local day, under which that day's abuse hashes are made."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from survey.db import Base
from survey.models._types import utcnow


class HashKey(Base):
    """Deleted once the day is out of the abuse window (``services.hash_keys``):
    from then on nobody, not even with the deployment secret, can tell whose
    address or device produced a hash of that day."""

    __tablename__ = "hash_keys"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # 32 random bytes, hex.
    key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
