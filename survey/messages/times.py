"""Times as staff read them: Vietnam time (``TIMEZONE``), ``dd/mm/yyyy HH:MM``.

Every staff page (audit log, desk code history, tablets, users, jobs, inbox)
formats a stored instant here, so no page shows UTC or an ISO stamp.  No
Flask needed: the results wing and the commands may call it too.
"""

from __future__ import annotations

from datetime import datetime

from survey import clock
from survey.config import settings

FORMAT = "%d/%m/%Y %H:%M"
NONE = "—"


def local(moment: datetime | None, tz: str | None = None) -> str:
    """A stored (naive UTC) instant in local time, ``dd/mm/yyyy HH:MM``; "—" for none."""
    if moment is None:
        return NONE
    return clock.local_time(moment, tz or settings().TIMEZONE).strftime(FORMAT)
