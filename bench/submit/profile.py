"""Profile single survey POSTs in-process (Flask test client, no HTTP server).

    .venv/bin/python -m bench.submit.profile [--backend postgresql] [--posts 200] [--top 25]

Makes a fresh database like the benchmark, GETs forms, then POSTs them one at a
time under cProfile; prints the time per POST, the SQL statements each POST
runs (counted by a SQLAlchemy event) and the functions that cost the most.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import time
from collections import Counter

from bench.submit.__main__ import demo_desk_code, drop_database, make_database
from bench.submit.load import parse_form


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.submit.profile")
    p.add_argument("--backend", choices=["sqlite", "postgresql"], default="postgresql")
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    p.add_argument("--posts", type=int, default=200)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative, tottime)")
    args = p.parse_args(argv)

    from sqlalchemy import event

    from survey import create_app

    db = make_database(args.backend, args.pg_url)
    for name in [n for n in os.environ if n.startswith("SURVEY_")]:
        del os.environ[name]
    try:
        app = create_app(
            {
                "ENV": "production",
                "DATABASE_URL": db.url,
                "SECRET_KEY": "bench-submit-secret-0123456789abcdef0123456789abcdef",
                "RATELIMIT_ENABLED": False,
            }
        )
        statements: list[str] = []
        engine = app.extensions["survey.db"].engine
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2].split()[0]))
        path = f"/s/{demo_desk_code()}"
        rng = random.Random(3)

        def form():
            """A new browser (test client without cookies) and its filled-in form."""
            client = app.test_client()
            token, sid, items = parse_form(client.get(path).get_data(as_text=True))
            data = {"csrf_token": token, "sid": sid, **{i: str(rng.randint(1, 5)) for i in items}}
            return client, data

        for client, data in [form() for _ in range(20)]:  # templates, caches, pool
            assert client.post(path, data=data).status_code == 303  # stored: to the thanks page
        forms = [form() for _ in range(args.posts)]
        before = db.max_response_id()
        statements.clear()
        client, data = forms.pop()
        client.post(path, data=data)
        per_post = Counter(statements)
        statements.clear()

        prof = cProfile.Profile()
        wall0, cpu0 = time.perf_counter(), time.process_time()
        prof.enable()
        for client, data in forms:
            assert client.post(path, data=data).status_code == 303  # stored: to the thanks page
        prof.disable()
        stored = len(db.stored_since(before)[0])
        if stored != len(forms) + 1:
            raise SystemExit(f"{stored} responses stored for {len(forms) + 1} POSTs (replays?)")
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        n = len(forms)
        print(
            f"{args.backend}: {n} POSTs in-process under cProfile: "
            f"{1000 * wall / n:.1f} ms wall, {1000 * cpu / n:.1f} ms CPU per POST"
        )
        print(
            f"SQL statements per POST: {sum(per_post.values())} "
            + ", ".join(f"{k} {v}" for k, v in per_post.most_common())
        )
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
        app.extensions["survey.db"].dispose()
    finally:
        drop_database(db, args.pg_url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
