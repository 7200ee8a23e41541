"""Request-scoped database session for views."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from survey.db import Database


def get_db() -> Database:
    return current_app.extensions["survey.db"]


def get_session() -> Session:
    """The session of the current request, opened on first use."""
    if "db_session" not in g:
        g.db_session = get_db().sessionmaker()
    return g.db_session


def init_app(app: Flask, database: Database) -> None:
    app.extensions["survey.db"] = database

    @app.teardown_appcontext
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
