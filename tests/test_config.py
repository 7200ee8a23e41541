"""Settings: defaults, SURVEY_* overrides, unknown keys, secret key rules."""

import dataclasses

import pytest

from survey import create_app
from survey.config import DEFAULTS, ConfigError, Settings, load_settings, settings


def test_environment_overrides_defaults(tmp_path):
    s = load_settings(
        environ={
            "SURVEY_DATABASE_URL": "sqlite:///x.db",
            "SURVEY_PUBLIC_MIN_RESPONSES": "50",
            "SURVEY_SECRET_KEY": "k" * 32,
        },
        instance_path=tmp_path,
    )
    assert s.DATABASE_URL == "sqlite:///x.db"
    assert s.PUBLIC_MIN_RESPONSES == 50


def test_unknown_environment_key_is_rejected_by_name(tmp_path):
    with pytest.raises(ConfigError, match="SURVEY_DATABSE_URL"):
        load_settings(environ={"SURVEY_DATABSE_URL": "x"}, instance_path=tmp_path)


def test_unknown_override_key_is_rejected(tmp_path):
    with pytest.raises(ConfigError, match="NOPE"):
        load_settings({"NOPE": 1}, environ={}, instance_path=tmp_path)


def test_malformed_integer_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="SURVEY_MAX_CONTENT_LENGTH"):
        load_settings(environ={"SURVEY_MAX_CONTENT_LENGTH": "lots"}, instance_path=tmp_path)


def test_development_secret_is_generated_once_and_kept(tmp_path):
    first = load_settings(environ={}, instance_path=tmp_path).SECRET_KEY
    second = load_settings(environ={}, instance_path=tmp_path).SECRET_KEY
    assert len(first) == 64 and first == second
    assert (tmp_path / "secret_key").read_text() == first


def test_production_without_secret_key_fails_with_clear_message(tmp_path):
    with pytest.raises(ConfigError, match="SURVEY_SECRET_KEY is required"):
        load_settings(environ={"SURVEY_ENV": "production"}, instance_path=tmp_path)
    assert not (tmp_path / "secret_key").exists()


def test_production_app_refuses_to_start_without_secret(monkeypatch):
    monkeypatch.setenv("SURVEY_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_empty_database_url_means_sqlite_in_instance(tmp_path):
    s = load_settings(environ={"SURVEY_SECRET_KEY": "k" * 32}, instance_path=tmp_path)
    assert s.DATABASE_URL == f"sqlite:///{tmp_path.resolve() / 'survey.sqlite3'}"


def test_production_cookies_are_secure(empty_db_url):
    from tests.support import make_app

    app = make_app(empty_db_url, ENV="production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    app.extensions["survey.db"].dispose()


def test_settings_have_one_typed_field_per_default():
    assert [f.name for f in dataclasses.fields(Settings)] == list(DEFAULTS)
    for f in dataclasses.fields(Settings):
        assert f.type == type(DEFAULTS[f.name]).__name__, f.name


def test_settings_are_frozen_and_read_through_the_app(empty_db_url, tmp_path):
    from tests.support import make_app

    s = load_settings(environ={"SURVEY_SECRET_KEY": "k" * 32}, instance_path=tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.BASE_URL = "https://elsewhere.example"
    app = make_app(empty_db_url, REPORTS_INLINE_MAX_RESPONSES="100")
    with app.app_context():
        assert settings() is settings(app)
        assert settings().REPORTS_INLINE_MAX_RESPONSES == 100  # coerced like SURVEY_*
        assert dict(app.config["SURVEY"]) == dataclasses.asdict(settings())
    with pytest.raises(TypeError):
        app.config["SURVEY"]["BASE_URL"] = "https://elsewhere.example"
    app.extensions["survey.db"].dispose()
