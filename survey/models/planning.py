"""Transaction volumes (weights, response rates) and satisfaction targets."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from survey.db import Base
from survey.models._types import utcnow


class Volume(Base):
    """Cases handled per desk (or unit × sector) and month, from the one-stop software."""

    __tablename__ = "volumes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    desk_id: Mapped[int | None] = mapped_column(ForeignKey("desks.id", ondelete="CASCADE"))
    sector_id: Mapped[int | None] = mapped_column(ForeignKey("sectors.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)  # first day of the month
    count: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        # NULLs are distinct in unique constraints; the import service checks
        # the NULL cases, this catches the rest.
        UniqueConstraint("unit_id", "desk_id", "sector_id", "month"),
        CheckConstraint("count >= 0", name="count_non_negative"),
        CheckConstraint("desk_id IS NOT NULL OR sector_id IS NOT NULL", name="scope"),
    )


class Target(Base):
    """A yearly satisfaction target for a unit (inherited down the tree)."""

    __tablename__ = "targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    # NULL: the overall target; otherwise the target for one sector group.
    sector_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("sector_groups.id", ondelete="CASCADE")
    )
    threshold: Mapped[float] = mapped_column(Float)  # share, e.g. 0.85
    # Where the number comes from (plan, decision number), shown in reports.
    source: Mapped[str] = mapped_column(String(300), default="")
    # Who set the current threshold and when, shown next to it: NULL for rows
    # loaded (demo, before 0007) or set by the operator at the command line.
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("unit_id", "year", "sector_group_id"),
        CheckConstraint("threshold > 0 AND threshold < 1", name="threshold_range"),
    )


class VolumeUpload(Base):
    """A volume file parsed and checked, waiting for its uploader's confirmation.

    The web tier keeps no state between requests, so the parsed rows wait here
    (keyed by a random token, bound to the user) instead of in a worker's memory.
    Confirming re-checks these server-parsed rows; nothing the client sends back
    except the token is trusted.
    """

    __tablename__ = "volume_uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # desk | unit_sector
    # The client's file name, for display only: never used as a path.
    filename: Mapped[str] = mapped_column(String(200), default="")
    rows: Mapped[str] = mapped_column(Text)  # JSON list of parsed rows
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
