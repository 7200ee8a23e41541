"""The survey web app. ``create_app`` is the only entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None, *, views: bool = True) -> Flask:
    """Build the app. ``config`` overrides settings (same keys as SURVEY_*, no prefix).

    ``views=False`` leaves out the blueprints: the commands that only need the
    database and the settings start without importing the results wing (pandas,
    scipy, reportlab), which the public and staff views pull in."""
    from survey import i18n, web_db
    from survey.config import EXTENSION, load_settings
    from survey.db import Database
    from survey.extensions import babel, csrf, limiter

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    settings = load_settings(config, instance_path=app.instance_path)
    app.extensions[EXTENSION] = settings  # read with survey.config.settings()
    production = settings.ENV == "production"
    previous = [settings.SECRET_KEY_PREVIOUS] if settings.SECRET_KEY_PREVIOUS else []
    app.config.update(
        # Read-only {KEY: value} for the code not yet on settings().
        SURVEY=settings.as_mapping(),
        SECRET_KEY=settings.SECRET_KEY,
        # Sessions signed with the key before a rotation still load (and are
        # re-signed with the new one) during the grace period.
        SECRET_KEY_FALLBACKS=previous,
        # The same for CSRF tokens of forms open at the switch (itsdangerous
        # verifies with every key, signs with the last).
        WTF_CSRF_SECRET_KEY=[*previous, settings.SECRET_KEY],
        TESTING=settings.ENV == "testing",
        MAX_CONTENT_LENGTH=settings.MAX_CONTENT_LENGTH,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production,
        WTF_CSRF_TIME_LIMIT=None,  # a citizen may take long; the token is per session
        BABEL_DEFAULT_LOCALE=settings.DEFAULT_LOCALE,
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).with_name("translations")),
        RATELIMIT_STORAGE_URI=settings.RATELIMIT_STORAGE_URI,
        RATELIMIT_ENABLED=settings.RATELIMIT_ENABLED,
        RATELIMIT_HEADERS_ENABLED=True,
    )

    if settings.TRUSTED_PROXIES:
        # Behind nginx every request comes from the proxy: without this, each
        # per-address limit and the burst flag would be one bucket for everyone.
        # Only the rightmost N X-Forwarded-For/-Proto values (added by our own
        # proxies) are believed; X-Forwarded-Host is not (nginx passes Host).
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.TRUSTED_PROXIES
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    web_db.init_app(app, Database(settings.DATABASE_URL, echo=settings.SQL_ECHO))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    limiter.init_app(app)
    i18n.init_app(app)

    from survey import errors, security, sessions

    if views:
        from survey.api import bp as api_bp
        from survey.public import bp as public_bp
        from survey.staff import bp as staff_bp

        app.register_blueprint(public_bp)
        app.register_blueprint(api_bp)
        app.register_blueprint(staff_bp)
    errors.init_app(app)
    security.init_app(app)
    sessions.init_app(app)
    return app
