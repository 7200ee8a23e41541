"""Background report jobs: exports and large dashboards (docs/jobs.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from survey.db import Base
from survey.models._types import utcnow

# queued: waiting for a worker; running: a worker holds it and renews its
# heartbeat; done: ``result`` holds the file; failed: ``message`` says why.
STATUSES = ("queued", "running", "done", "failed")


class ReportJob(Base):
    """One export or dashboard built by ``survey worker``, readable from every web host.

    The finished file is kept in the row (``result``, loaded only when
    downloaded), so no host needs a shared directory; rows older than a day
    are deleted when a job starts or a worker starts.
    """

    __tablename__ = "report_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The secret in the status URL; the owner check comes on top of it.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # export | dashboard
    fmt: Mapped[str] = mapped_column(String(8))  # json | xlsx | pdf | html
    # The selection (JSON), with the day and locale it was asked for.
    params: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    stage: Mapped[str] = mapped_column(String(10), default="read")  # read | render | done
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    filename: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    result: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        if not self.total:
            return 0
        # Reading is most of the work; the rendering gets the last tenth.
        share = 0.9 * min(self.done, self.total) / self.total
        return int(100 * (share + (0.05 if self.stage == "render" else 0)))
