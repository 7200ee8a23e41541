"""WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

import gc

from survey import create_app

app = create_app()

# The app, its libraries (pandas, reportlab, ...) and templates are ~150,000
# long-lived objects; a full garbage collection walking them all took ~100 ms,
# an occasional pause in the middle of a citizen's request. Freezing them
# after start-up takes them out of every later collection.
gc.collect()
gc.freeze()
