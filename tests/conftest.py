"""Shared fixtures: an isolated database per test (SQLite, or PostgreSQL when
SURVEY_TEST_DATABASE_URL is set), the app, its test client and the demo data."""

from __future__ import annotations

import os

import pytest

from tests.databases import PG_ENV, Templates

TEST_SECRET = "test-secret-key-0123456789abcdef"


def pytest_report_header(config):
    return f"survey test database: {'postgresql' if os.environ.get(PG_ENV) else 'sqlite'}"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """Tests never read a developer's SURVEY_* settings."""
    for name in list(os.environ):
        if name.startswith("SURVEY_") and name != PG_ENV:
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def templates(tmp_path_factory):
    t = Templates(tmp_path_factory.mktemp("db"))
    yield t
    t.drop_all()


def _migrated(url: str) -> None:
    from survey.migrate import upgrade

    upgrade(url)


def _with_demo(url: str) -> None:
    from survey.db import Database
    from survey.services.demo import load_demo

    _migrated(url)
    database = Database(url)
    with database.session() as session:
        load_demo(session)
    database.dispose()


def make_app(url: str, **overrides):
    from survey import create_app

    config = {"ENV": "testing", "DATABASE_URL": url, "SECRET_KEY": TEST_SECRET}
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def empty_db_url(templates):
    """A fresh, migrated, empty database."""
    templates.template("migrated", _migrated)
    url = templates.clone("migrated")
    yield url
    templates.drop(url)


@pytest.fixture
def demo_db_url(templates):
    """A fresh database holding the demo data."""
    templates.template("demo", _with_demo)
    url = templates.clone("demo")
    yield url
    templates.drop(url)


@pytest.fixture
def settings_overrides():
    """Settings of the ``app`` and ``demo_app`` fixtures (none by default); a test
    sets some with ``@pytest.mark.parametrize("settings_overrides", [{KEY: value}])``."""
    return {}


def _app_for(url: str, overrides):
    app = make_app(url, **overrides)
    yield app
    database = app.extensions["survey.db"]
    leaked = database.engine.pool.checkedout()
    database.dispose()
    # A connection still checked out after the test is a leak: in production
    # it stays busy until the garbage collector runs.
    assert leaked == 0, f"{leaked} database connection(s) left checked out"


@pytest.fixture
def app(empty_db_url, settings_overrides):
    yield from _app_for(empty_db_url, settings_overrides)


@pytest.fixture
def demo_app(demo_db_url, settings_overrides):
    yield from _app_for(demo_db_url, settings_overrides)


@pytest.fixture
def db(app):
    return app.extensions["survey.db"]


@pytest.fixture
def demo_db(demo_app):
    return demo_app.extensions["survey.db"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def demo_client(demo_app):
    return demo_app.test_client()
