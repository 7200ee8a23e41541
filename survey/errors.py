"""Friendly error pages (Vietnamese first) for the citizen and staff sides."""

from __future__ import annotations

from flask import Flask, render_template
from sqlalchemy.exc import OperationalError


def init_app(app: Flask) -> None:
    def page(status: int):
        def handler(exc):
            if getattr(exc, "response", None) is not None:
                return exc.response  # a page of the view's own (e.g. the throttled login)
            return render_template(f"errors/{status}.html"), status

        return handler

    for status in (400, 404, 413, 429, 500, 503):
        app.register_error_handler(status, page(status))

    @app.errorhandler(OperationalError)
    def _database_unavailable(_exc):
        # The database is restarting or unreachable: tell clients to retry
        # (nothing was stored, the transaction rolled back).
        return render_template("errors/503.html"), 503, {"Retry-After": "5"}
