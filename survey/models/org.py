"""Organisation: the unit tree, desks (with their public QR codes) and sectors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base
from survey.models._types import utcnow


class Unit(Base):
    """A node of the administrative tree (province, ward, commune, centre...).

    Any depth: since July 2025 local government has two levels, but departments
    and centres hang below them, so levels are data, never code.
    """

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Free-form level label: province, ward, commune, centre, office, department.
    kind: Mapped[str] = mapped_column(String(32), default="unit")
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Questionnaire version served by this unit's desks (inherited down the tree).
    questionnaire_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_versions.id", ondelete="RESTRICT")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent")
    desks: Mapped[list[Desk]] = relationship(back_populates="unit")

    __table_args__ = (
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )


class Desk(Base):
    """A counter or reception point; its public code is what the QR poster holds."""

    __tablename__ = "desks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    # Short, unguessable, upper-case (QR alphanumeric mode keeps the code small).
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    questionnaire_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_versions.id", ondelete="RESTRICT")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    unit: Mapped[Unit] = relationship(back_populates="desks")
    # The sectors (lĩnh vực) this desk serves: one gives every QR response its
    # sector; several make the survey page ask which one.
    sectors: Mapped[list[Sector]] = relationship(
        secondary="desk_sectors", order_by="Sector.code", lazy="selectin"
    )


class DeskSector(Base):
    """A sector a desk serves (many to many)."""

    __tablename__ = "desk_sectors"

    desk_id: Mapped[int] = mapped_column(
        ForeignKey("desks.id", ondelete="CASCADE"), primary_key=True
    )
    sector_id: Mapped[int] = mapped_column(
        ForeignKey("sectors.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class DeskCodeHistory(Base):
    """Codes a desk used before a regeneration: old posters get a clear page."""

    __tablename__ = "desk_code_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    desk_id: Mapped[int] = mapped_column(ForeignKey("desks.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    retired_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SectorGroup(Base):
    """Groups of sectors that targets refer to (e.g. land/construction/investment)."""

    __tablename__ = "sector_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")


class Sector(Base):
    """A sector of administrative procedures (lĩnh vực TTHC)."""

    __tablename__ = "sectors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("sector_groups.id", ondelete="SET NULL"), index=True
    )

    group: Mapped[SectorGroup | None] = relationship()
