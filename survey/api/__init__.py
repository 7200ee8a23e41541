"""JSON API for the one-stop software (authenticated by per-unit API keys)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from survey.api import views  # noqa: E402,F401
