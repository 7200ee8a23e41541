"""Settings: one defaults table, overridden by SURVEY_* environment variables.

Settings are read once, in ``create_app``, into a frozen :class:`Settings`
kept on the app; code reads them with :func:`settings` (``settings().BASE_URL``).
Nothing reads the environment at import time.  Unknown keys are rejected so
that a typo such as ``SURVEY_DATABSE_URL`` fails loudly instead of silently
using SQLite.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from flask import Flask, current_app
from limits import parse_many

PREFIX = "SURVEY_"
# The same in every environment: the tests, benchmarks and generated keys use
# 32 or more, and a shorter production key would weaken every HMAC we sign.
MIN_SECRET_LENGTH = 32
MAX_TRUSTED_PROXIES = 5

# Environment variables with our prefix that are not app settings (used by the
# test suite and tooling), so they must not trip the unknown-key check.
NON_SETTINGS = {"SURVEY_TEST_DATABASE_URL"}

DEFAULTS: dict[str, Any] = {
    # development | production | testing
    "ENV": "development",
    # Empty means: SQLite file in the instance folder.
    "DATABASE_URL": "",
    # Empty in development means: generate once and keep in instance/secret_key.
    "SECRET_KEY": "",
    # The key before a rotation, still accepted (never used to sign) during a
    # grace period, so sessions, open forms and printed case links survive it.
    "SECRET_KEY_PREVIOUS": "",
    # Reverse proxies in front of the app (nginx: 1). 0 ignores X-Forwarded-*
    # headers, which any client can forge; more than 0 trusts that many.
    "TRUSTED_PROXIES": 0,
    # Absolute base used in QR codes and CLI output (no trailing slash).
    "BASE_URL": "http://127.0.0.1:5000",
    "TIMEZONE": "Asia/Ho_Chi_Minh",
    "DEFAULT_LOCALE": "vi",
    # Flask-Limiter storage: memory:// for one process, redis://... for many.
    "RATELIMIT_STORAGE_URI": "memory://",
    # Off only for load tests from one address (every limit is then skipped).
    "RATELIMIT_ENABLED": True,
    # Survey answers from one address (all devices behind it: a centre's Wi-Fi,
    # a carrier's CGNAT); each device has its own, lower limit besides.
    "RATELIMIT_PER_NETWORK": "300 per minute;3000 per hour",
    # Answers from one address at one desk within 10 minutes from which the
    # next is flagged a burst (one device is flagged from its third).
    "BURST_PER_NETWORK": 60,
    # Request bodies above this get 413.
    "MAX_CONTENT_LENGTH": 64 * 1024,
    # Fewer responses than this: the public board shows nothing (anonymity).
    "PUBLIC_MIN_RESPONSES": 30,
    # Log SQL statements (debugging only).
    "SQL_ECHO": False,
    # A staff session ends after this many idle minutes, and this many hours
    # after signing in, whatever happens.
    "STAFF_IDLE_MINUTES": 30,
    "STAFF_SESSION_HOURS": 8,
    # Dashboard exports of more responses than this run as background jobs.
    "REPORTS_INLINE_MAX_RESPONSES": 20_000,
    # A dashboard that reads more responses than this from the live tables, or
    # more cells than the next one from the closed months' summaries, is built by
    # the worker behind a progress page, so no request runs into the web
    # server's timeout (30 s). bench/reports: ~3 s for 100k live responses; ~2 s
    # for the 34,000 summarised cells of 1M responses.
    "REPORTS_DASHBOARD_MAX_RESPONSES": 200_000,
    "REPORTS_DASHBOARD_MAX_CELLS": 200_000,
    # The job queue `survey worker` serves. Empty: an SQLite file in the
    # instance folder (one host); sqlite:///PATH: that file; redis://...: Redis.
    "QUEUE_URL": "",
    # The privacy page: who controls the survey data (the unit, e.g. "UBND
    # phường ..."), and where a citizen asks about it (address, phone, email).
    # Empty: the page names the unit of the desk, or the desk's agency in general.
    "DATA_CONTROLLER": "",
    "PRIVACY_CONTACT": "",
    # The administrative header of report files (NĐ 30/2020/NĐ-CP): the issuing
    # agency, "CƠ QUAN CHỦ QUẢN | CƠ QUAN BAN HÀNH" or just the issuing agency
    # (the reported unit then stands above it); empty: the reported unit, under
    # its parent unit. The place of the date line ("Cam Ranh, ngày …"); empty:
    # the unit's name without "Phường", "Tỉnh"… The signer's title (chức vụ).
    "REPORT_ISSUER": "",
    "REPORT_PLACE": "",
    "REPORT_SIGNER_TITLE": "",
    # A citizen's suggestion or complaint is due this many working days
    # (Monday to Friday) after it is received (services.feedback).
    "FEEDBACK_DUE_WORKING_DAYS": 10,
    # A contact left for a reply is deleted this many days after its case closes.
    "FEEDBACK_CONTACT_DAYS": 30,
}

# Where create_app keeps the Settings (``app.extensions``).
EXTENSION = "survey.settings"


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    """The checked settings of one app (one field per key of ``DEFAULTS``)."""

    ENV: str
    DATABASE_URL: str
    SECRET_KEY: str
    SECRET_KEY_PREVIOUS: str
    TRUSTED_PROXIES: int
    BASE_URL: str
    TIMEZONE: str
    DEFAULT_LOCALE: str
    RATELIMIT_STORAGE_URI: str
    RATELIMIT_ENABLED: bool
    RATELIMIT_PER_NETWORK: str
    BURST_PER_NETWORK: int
    MAX_CONTENT_LENGTH: int
    PUBLIC_MIN_RESPONSES: int
    SQL_ECHO: bool
    STAFF_IDLE_MINUTES: int
    STAFF_SESSION_HOURS: int
    REPORTS_INLINE_MAX_RESPONSES: int
    REPORTS_DASHBOARD_MAX_RESPONSES: int
    REPORTS_DASHBOARD_MAX_CELLS: int
    QUEUE_URL: str
    DATA_CONTROLLER: str
    PRIVACY_CONTACT: str
    REPORT_ISSUER: str
    REPORT_PLACE: str
    REPORT_SIGNER_TITLE: str
    FEEDBACK_DUE_WORKING_DAYS: int
    FEEDBACK_CONTACT_DAYS: int

    def as_mapping(self) -> Mapping[str, Any]:
        """A read-only ``{KEY: value}`` view (``app.config["SURVEY"]``)."""
        return MappingProxyType(dataclasses.asdict(self))


def settings(app: Flask | None = None) -> Settings:
    """The settings of ``app``, by default of the current app."""
    return (current_app if app is None else app).extensions[EXTENSION]


class ConfigError(RuntimeError):
    """A setting is missing, unknown or malformed; the message says which."""


def _coerce(key: str, raw: Any, default: Any) -> Any:
    if isinstance(raw, str) and not isinstance(default, str):
        text = raw.strip()
        if isinstance(default, bool):
            if text.lower() in {"1", "true", "yes", "on"}:
                return True
            if text.lower() in {"0", "false", "no", "off", ""}:
                return False
            raise ConfigError(f"{PREFIX}{key}: expected true/false, got {raw!r}")
        if isinstance(default, int):
            try:
                return int(text)
            except ValueError:
                raise ConfigError(f"{PREFIX}{key}: expected an integer, got {raw!r}") from None
    return raw


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    instance_path: str | os.PathLike[str] = "instance",
) -> Settings:
    """Return the settings: defaults < environment < explicit overrides."""
    environ = os.environ if environ is None else environ
    values = dict(DEFAULTS)

    unknown_env = sorted(
        name
        for name in environ
        if name.startswith(PREFIX)
        and name not in NON_SETTINGS
        and name[len(PREFIX) :] not in DEFAULTS
    )
    if unknown_env:
        raise ConfigError(
            "unknown setting(s): "
            + ", ".join(unknown_env)
            + "; known: "
            + ", ".join(PREFIX + k for k in DEFAULTS)
        )
    for key, default in DEFAULTS.items():
        if PREFIX + key in environ:
            values[key] = _coerce(key, environ[PREFIX + key], default)

    for key, value in (overrides or {}).items():
        if key not in DEFAULTS:
            raise ConfigError(f"unknown setting {key!r}; known: {', '.join(DEFAULTS)}")
        values[key] = _coerce(key, value, DEFAULTS[key])

    if values["ENV"] not in {"development", "production", "testing"}:
        raise ConfigError(
            f"{PREFIX}ENV must be development, production or testing, got {values['ENV']!r}"
        )
    try:
        parse_many(values["RATELIMIT_PER_NETWORK"])
    except ValueError:
        raise ConfigError(
            f"{PREFIX}RATELIMIT_PER_NETWORK: expected limits such as "
            f"'300 per minute;3000 per hour', got {values['RATELIMIT_PER_NETWORK']!r}"
        ) from None
    for key in (
        "STAFF_IDLE_MINUTES",
        "STAFF_SESSION_HOURS",
        "BURST_PER_NETWORK",
        "FEEDBACK_DUE_WORKING_DAYS",
        "FEEDBACK_CONTACT_DAYS",
    ):
        if values[key] < 1:
            raise ConfigError(f"{PREFIX}{key} must be at least 1, got {values[key]}")
    queue = str(values["QUEUE_URL"]).strip()
    if queue and not queue.startswith(("sqlite:///", "redis://", "rediss://", "unix://")):
        raise ConfigError(
            f"{PREFIX}QUEUE_URL: expected empty (SQLite in the instance folder), "
            f"sqlite:///PATH or redis://HOST:PORT/DB, got {queue!r}"
        )
    values["QUEUE_URL"] = queue
    if values["DEFAULT_LOCALE"] not in {"vi", "en"}:
        raise ConfigError(f"{PREFIX}DEFAULT_LOCALE must be vi or en")
    values["BASE_URL"] = str(values["BASE_URL"]).rstrip("/")

    instance = Path(instance_path)
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = f"sqlite:///{(instance / 'survey.sqlite3').resolve()}"
    if not values["SECRET_KEY"]:
        if values["ENV"] == "production":
            raise ConfigError(
                f"{PREFIX}SECRET_KEY is required when {PREFIX}ENV=production: set it to a long "
                "random value, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`, "
                "and keep it the same across restarts and workers"
            )
        values["SECRET_KEY"] = _instance_secret(instance)
    elif len(values["SECRET_KEY"]) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"{PREFIX}SECRET_KEY is too short: use at least {MIN_SECRET_LENGTH} random characters"
        )
    previous = values["SECRET_KEY_PREVIOUS"]
    if previous and len(previous) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"{PREFIX}SECRET_KEY_PREVIOUS is too short: it must be the old "
            f"{PREFIX}SECRET_KEY (at least {MIN_SECRET_LENGTH} characters)"
        )
    if previous and previous == values["SECRET_KEY"]:
        raise ConfigError(
            f"{PREFIX}SECRET_KEY_PREVIOUS equals {PREFIX}SECRET_KEY: set a new "
            f"{PREFIX}SECRET_KEY and keep the old one in {PREFIX}SECRET_KEY_PREVIOUS"
        )
    if not 0 <= values["TRUSTED_PROXIES"] <= MAX_TRUSTED_PROXIES:
        raise ConfigError(
            f"{PREFIX}TRUSTED_PROXIES must be 0 (no reverse proxy) to {MAX_TRUSTED_PROXIES}, "
            f"the number of proxies in front of the app, got {values['TRUSTED_PROXIES']}"
        )
    return Settings(**values)


def _instance_secret(instance: Path) -> str:
    """Generate a development secret once and keep it, so sessions survive restarts."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL: two processes starting together must not both write a key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
