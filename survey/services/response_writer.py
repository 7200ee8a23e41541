"""Writing one citizen response: the hottest path of the whole system.

``write`` stores the response row (its answers are a column of it) and maybe its comment, or
nothing at all when the submission id is already stored (a replay): the
unique constraint decides, through ``ON CONFLICT (submission_id) DO NOTHING``.

The quality flags are computed by the database inside the same INSERT
(indexed counts), so flagging costs no extra round trip. Bit 1 of the CASE
is a burst at this desk within the window: from one device
(``device_burst_limit`` within ``device_burst_since``: a kiosk tablet's window
is seconds, a phone's minutes), or from one network at a much higher count
(``network_burst_limit``); bit 2 a device that already answered
``device_limit`` times today (its hash rotates daily). Each burst count has
its composite index (hash, desk, time), so neither scans the desk. The four
possible flag texts come in as parameters ``flags0``..``flags3``.

PostgreSQL gets everything as ONE statement (a data-modifying CTE for the
comment) in autocommit: one round trip instead of BEGIN, two INSERTs and
COMMIT. The statement is plain SQL, so it is short, compiled once, and
psycopg prepares it on the server after a few uses. SQLite runs the same
INSERT of the response, then the comment, in one transaction; it is
in-process, so round trips cost little there.
"""

from __future__ import annotations

from sqlalchemy import Date, DateTime, bindparam, insert, text
from sqlalchemy.orm import Session

from survey.models import Comment
from survey.models.response import DEMOGRAPHIC_COLUMNS

# Every column the caller gives a value for, besides quality_flags.
FIELDS = (
    "submission_id",
    "desk_id",
    "unit_id",
    "questionnaire_version_id",
    "submitted_at",
    "day",
    "channel",
    "sector_id",
    "procedure_code",
    "case_hash",
    "locale",
    "client_hash",
    "device_hash",
    "answers",
    *DEMOGRAPHIC_COLUMNS.values(),
)

_FLAGS_SQL = """CASE (
    CASE WHEN (SELECT count(*) FROM responses
               WHERE device_hash = CAST(:device_hash AS varchar) AND desk_id = :desk_id
                 AND submitted_at >= :device_burst_since) >= :device_burst_limit
           OR (SELECT count(*) FROM responses
               WHERE client_hash = CAST(:client_hash AS varchar) AND desk_id = :desk_id
                 AND submitted_at >= :burst_since) >= :network_burst_limit THEN 1 ELSE 0 END
  + CASE WHEN (SELECT count(*) FROM responses
               WHERE device_hash = CAST(:device_hash AS varchar)) >= :device_limit THEN 2 ELSE 0 END)
  WHEN 1 THEN :flags1 WHEN 2 THEN :flags2 WHEN 3 THEN :flags3 ELSE :flags0 END"""

_INSERT_RESPONSE_SQL = f"""INSERT INTO responses ({", ".join(FIELDS)}, quality_flags)
  VALUES ({", ".join(":" + f for f in FIELDS)}, {_FLAGS_SQL})
  ON CONFLICT (submission_id) DO NOTHING
  RETURNING id"""

# Typed date binds, so SQLite stores them in SQLAlchemy's format like every
# other write; psycopg gets the datetime objects unchanged.
_DATES = (
    bindparam("submitted_at", type_=DateTime()),
    bindparam("burst_since", type_=DateTime()),
    bindparam("device_burst_since", type_=DateTime()),
    bindparam("day", type_=Date()),
)

_INSERT_RESPONSE = text(_INSERT_RESPONSE_SQL).bindparams(*_DATES)

_POSTGRESQL = text(
    f"""WITH r AS (
  {_INSERT_RESPONSE_SQL}
), c AS (
  INSERT INTO comments (response_id, text, kind, status, created_at)
  SELECT r.id, CAST(:comment_text AS text), :comment_kind, 'new', :submitted_at
  FROM r WHERE CAST(:comment_text AS text) IS NOT NULL
)
SELECT id FROM r"""
).bindparams(*_DATES)


# A comment given with the form is dated with its response, as in _POSTGRESQL.
_INSERT_COMMENT = insert(Comment.__table__).values(
    response_id=bindparam("rid"),
    text=bindparam("comment_text"),
    kind=bindparam("comment_kind"),
    created_at=bindparam("submitted_at", type_=DateTime),
)


def write(session: Session, params: dict, comment: str) -> int | None:
    """Store one response; its id, or None if the submission id was stored already.

    ``params``: every name in FIELDS (``answers`` as ``encode_answers`` packs them)
    plus burst_since, device_burst_since, device_burst_limit, network_burst_limit,
    device_limit, flags0..flags3 and comment_kind. Commits (or, on
    PostgreSQL, is atomic by itself); raises IntegrityError on other
    conflicts, such as a case link answered twice.
    """
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        values = dict(params, comment_text=comment or None)
        with bind.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            return conn.execute(_POSTGRESQL, values).scalar()
    conn = session.connection()
    response_id = conn.execute(_INSERT_RESPONSE, params).scalar()
    if response_id is not None:
        if comment:
            conn.execute(
                _INSERT_COMMENT,
                {
                    "rid": response_id,
                    "comment_text": comment,
                    "comment_kind": params["comment_kind"],
                    "submitted_at": params["submitted_at"],
                },
            )
    session.commit()
    return response_id
