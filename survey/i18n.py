"""Locale choice: ?lang= sets a cookie that is remembered; Vietnamese by default."""

from __future__ import annotations

from flask import Flask, g, request

from survey.config import settings

LOCALES = ("vi", "en")
COOKIE = "lang"


def select_locale() -> str:
    wanted = request.args.get("lang") or request.cookies.get(COOKIE)
    if wanted in LOCALES:
        return wanted
    return settings().DEFAULT_LOCALE


def remember(response, lang: str, secure: bool) -> None:
    """Keep a language chosen on a page (the form's own switch) for later pages."""
    response.set_cookie(
        COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True, secure=secure
    )


def init_app(app: Flask) -> None:
    @app.after_request
    def _remember_locale(response):
        wanted = request.args.get("lang")
        if wanted in LOCALES and request.cookies.get(COOKIE) != wanted:
            remember(response, wanted, app.config["SESSION_COOKIE_SECURE"])
        return response

    @app.before_request
    def _locale_to_g() -> None:
        g.lang = select_locale()
