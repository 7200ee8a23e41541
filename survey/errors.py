"""Friendly error pages (Vietnamese first) for the citizen and staff sides."""

from __future__ import annotations

from flask import Flask, render_template


def init_app(app: Flask) -> None:
    def page(status: int):
        def handler(_exc):
            return render_template(f"errors/{status}.html"), status

        return handler

    for status in (400, 404, 413, 429, 500, 503):
        app.register_error_handler(status, page(status))
