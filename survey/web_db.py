"""Request-scoped database session for views: one transaction per request.

Views and the services they call add, change and flush; they never commit.
The request's session is opened on first use (``get_session``) and its
transaction ends once, when the response is ready (the pattern of Indico's
request handler and Warehouse's ``pyramid_tm``):

- a status below 400 (a page, a redirect after ``flash()``, a file): COMMIT;
- a 4xx or 5xx, including the error page of an exception raised in the view
  (``abort()``, ``Forbidden``, a bug): ROLLBACK, so a view that fails after a
  service wrote leaves nothing written;
- but a 4xx the view marked with ``keep_on_refusal()`` commits: a refusal that
  is recorded (a failed or throttled sign-in is audited, and answered 422 or
  429). A 5xx never commits.

The end runs as the request's first after-request function, before the
blueprints' and the app's ``after_request`` hooks: a commit that fails is
answered as if the view had raised the error (503 while the database is
unavailable, see ``survey.errors``; else 500), and that page gets the headers
and cookies any page gets. Teardown closes the session, rolling back whatever
is left (a session used in an app context without a request).

Outside the rule, each with a session or connection of its own:

- the citizen's answer, ``services.submission.store`` through
  ``services.response_writer.write``, commits itself: on PostgreSQL it is one
  statement in autocommit on a connection of its own (no BEGIN and COMMIT
  round trips on the hot path), on SQLite its own commit. The call decides a
  replay or a racing copy (ON CONFLICT, the unique constraint) and retries
  once after a dead connection, so the write must be final inside it. This is
  the one exception among the views;
- a streamed body read after the view returned (the reports CSV), background
  jobs (``survey.reports.jobs``) and CLI commands use ``Database.session()``,
  which commits on success.
"""

from __future__ import annotations

from flask import Flask, Response, after_this_request, current_app, g
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from survey.db import Database

_KEEP = "db_keep_on_refusal"


def get_db() -> Database:
    return current_app.extensions["survey.db"]


def get_session() -> Session:
    """The session of the current request, opened on first use."""
    if "db_session" not in g:
        g.db_session = get_db().sessionmaker()
    return g.db_session


def keep_on_refusal() -> None:
    """Commit this request's writes even though it answers with a 4xx."""
    setattr(g, _KEEP, True)


def init_app(app: Flask, database: Database) -> None:
    app.extensions["survey.db"] = database
    app.before_request(_begin_request)
    app.teardown_appcontext(_close_session)


def _begin_request() -> None:
    # Registered first, so it runs before any other before_request hook can
    # answer, and its function before every after_request hook.
    g.pop(_KEEP, None)
    after_this_request(_end_transaction)


def _end_transaction(response: Response) -> Response:
    session = g.get("db_session")
    keep = g.pop(_KEEP, False)
    if session is None:
        return response
    status = response.status_code
    if status >= 400 and not (keep and status < 500):
        _rollback(session)
        return response
    try:
        session.commit()
    except Exception as exc:
        _rollback(session)
        # The error page a view raising it would get; re-raised (a 500) if none.
        return current_app.make_response(current_app.handle_user_exception(exc))
    return response


def _rollback(session: Session) -> None:
    try:
        session.rollback()
    except SQLAlchemyError:
        # The connection died under us (database restart): drop it from the pool.
        session.invalidate()


def _close_session(exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is None:
        return
    try:
        if exc is not None:
            session.rollback()
        session.close()
    except SQLAlchemyError:
        # The connection died under us (database restart): drop it from the
        # pool instead of failing a request whose work is already done.
        session.invalidate()
