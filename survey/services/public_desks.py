"""What a citizen's page needs to know about a poster code, cached per process.

Every survey GET and POST starts by resolving the code in the QR to its desk,
unit and questionnaire. That walks the unit tree and takes 3-5 queries, while
the answer changes only when staff edit something. So each process keeps an
immutable snapshot per code for ``TTL_SECONDS``:

- a change committed through the ORM in this process (staff console, CLI,
  demo data) clears the cache at once (``after_commit`` below);
- other worker processes see it within the TTL. A deactivated desk or a
  regenerated code therefore keeps answering for at most that long elsewhere.

Unknown and replaced codes are not cached, so random codes cannot fill memory.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass

from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from questionnaires.model import Questionnaire
from survey.models import Desk, DeskCodeHistory, DeskSector, QuestionnaireVersion, Sector, Unit
from survey.services import questionnaires as qsvc
from survey.services.codes import normalise

TTL_SECONDS = 10.0
MAX_ENTRIES = 20_000  # far more desks than a province has; a bound, not a tuning knob


@dataclass(frozen=True)
class UnitRef:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class SectorRef:
    id: int
    code: str
    name: str
    name_en: str


@dataclass(frozen=True)
class PublicDesk:
    """A desk as the citizen pages see it; detached from any session."""

    id: int
    code: str
    name: str
    active: bool
    unit: UnitRef
    version_id: int | None  # None: no questionnaire published at all
    questionnaire: Questionnaire | None
    # The sectors the desk serves (by code): one is every QR response's sector,
    # several make the page ask which one.
    sectors: tuple[SectorRef, ...] = ()

    @property
    def unit_id(self) -> int:
        return self.unit.id


@dataclass(frozen=True)
class Lookup:
    desk: PublicDesk | None
    replaced: bool = False  # the code was printed once but has been regenerated


# engine -> {code: (loaded at, desk)}. Keyed by engine so that several apps in
# one process (tests, CLI beside a server) never see each other's desks.
_cache: weakref.WeakKeyDictionary[Engine, dict[str, tuple[float, PublicDesk]]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def normalised(code: str) -> str | None:
    """The code as ``lookup`` compares it, or None if it cannot be a desk code.

    Anything keyed on a desk code (the per-desk rate limit) uses this, so two
    spellings of one code are one key.
    """
    code = normalise(code)
    # Never send junk (NUL bytes, quotes, megabytes) to the database.
    return code if code.isascii() and code.isalnum() and len(code) <= 16 else None


def _load(session: Session, code: str) -> PublicDesk | None:
    desk = session.scalar(select(Desk).where(Desk.code == code))
    if desk is None:
        return None
    row = qsvc.for_desk(session, desk)
    return PublicDesk(
        id=desk.id,
        code=desk.code,
        name=desk.name,
        active=bool(desk.active),
        unit=UnitRef(desk.unit.id, desk.unit.code, desk.unit.name),
        version_id=row.id if row is not None else None,
        questionnaire=qsvc.definition(row) if row is not None else None,
        sectors=tuple(SectorRef(s.id, s.code, s.name, s.name_en) for s in desk.sectors),
    )


def lookup(session: Session, code: str) -> Lookup:
    """The desk behind a poster code (any case, spaces and dashes ignored)."""
    code = normalised(code)
    if code is None:
        return Lookup(None)
    engine = session.get_bind()
    now = time.monotonic()
    entries = _cache.get(engine)
    hit = entries.get(code) if entries is not None else None
    if hit is not None and now - hit[0] < TTL_SECONDS:
        return Lookup(hit[1])
    desk = _load(session, code)
    if desk is None:
        old = session.scalar(select(DeskCodeHistory.id).where(DeskCodeHistory.code == code))
        return Lookup(None, replaced=old is not None)
    with _lock:
        entries = _cache.setdefault(engine, {})
        if len(entries) >= MAX_ENTRIES:
            entries.clear()
        entries[code] = (now, desk)
    return Lookup(desk)


def forget() -> None:
    """Drop every snapshot (called after any change to desks, units or questionnaires)."""
    with _lock:
        _cache.clear()


_WATCHED = (Desk, Unit, QuestionnaireVersion, Sector, DeskSector)
_DIRTY = "survey.public_desks.dirty"


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _ctx) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, _WATCHED) for obj in changed):
        session.info[_DIRTY] = True


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    # After the commit, not at the flush: a reader between the two would
    # otherwise cache the old state again for a whole TTL.
    if session.info.pop(_DIRTY, False):
        forget()


@event.listens_for(Session, "after_rollback")
def _discard_note(session: Session) -> None:
    session.info.pop(_DIRTY, None)
