"""Published questionnaire versions: immutable once published."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from survey.db import Base
from survey.models._types import utcnow


class QuestionnaireVersion(Base):
    __tablename__ = "questionnaire_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    qid: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    # sha256 of the canonical definition: same version, other content is refused.
    content_hash: Mapped[str] = mapped_column(String(64))
    # The canonical JSON definition, so a version is servable without its file.
    definition: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("qid", "version"),)

    @property
    def key(self) -> str:
        return f"{self.qid}@{self.version}"
