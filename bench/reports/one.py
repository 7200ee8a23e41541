"""One measured run in a fresh process: prints a JSON line (wall seconds, peak RSS MB).

python -m bench.reports.one URL MODE   (MODE: rows, cells, dashboard, sql, rollup)

``rollup`` builds the closed months' summaries (``survey.reports.rollup.refresh``);
``cells`` and ``dashboard`` read them where they exist, the responses elsewhere.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import date

TODAY = date(2026, 11, 22)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    url, mode = sys.argv[1], sys.argv[2]
    from survey.db import Database
    from survey.reports import export
    from survey.reports.build import build_for
    from survey.reports.dashboard import dashboard
    from survey.reports.selection import resolve
    from survey.reports.texts import plain
    from survey.services.access import SystemActor

    database = Database(url)
    before = _peak_mb()
    with database.session() as s:
        sel = resolve(
            s,
            SystemActor(),
            today=TODAY,
            unit="KH",
            start=date(2026, 1, 1),
            end=date(2026, 10, 31),
            action="results.export",
        )
        if mode == "rollup":
            from survey.reports import rollup

            t0 = time.perf_counter()
            built = rollup.refresh(s, "Asia/Ho_Chi_Minh")
            wall = time.perf_counter() - t0
            print(json.dumps({"wall": wall, "peak_mb": _peak_mb(), "months": len(built)}))
            database.dispose()
            return
        if mode == "sql":  # the bare aggregate: GROUP BY desk, day, item
            t0 = time.perf_counter()
            s.connection().exec_driver_sql(
                "SELECT r.desk_id, r.day, k, count(*), sum(ascii(substr(r.answers, k, 1)) - 48)"
                " FROM responses r CROSS JOIN generate_series(1, length(r.answers)) k"
                " WHERE r.day BETWEEN '2026-01-01' AND '2026-10-31'"
                " AND substr(r.answers, k, 1) NOT IN ('0', '6')"
                " GROUP BY r.desk_id, r.day, k"
            ).fetchall()
            wall = time.perf_counter() - t0
            overall = None
        else:
            if mode == "dashboard":  # warm: the cache and the planner have seen it once
                build_for(s, sel)
            t0 = time.perf_counter()
            report = build_for(s, sel, cells=mode != "rows")
            if mode == "dashboard":
                dashboard(report, "vi", plain)
            else:
                export.render(s, report, "json")
            wall = time.perf_counter() - t0
            overall = report.overall["estimate"]
    database.dispose()
    print(json.dumps({"wall": wall, "peak_mb": _peak_mb(), "base_mb": before, "overall": overall}))


if __name__ == "__main__":
    main()
