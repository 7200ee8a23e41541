"""Citizen-facing pages: the survey behind each desk QR code."""

from flask import Blueprint

bp = Blueprint("public", __name__)

import survey.public.board  # noqa: E402,F401
import survey.public.feedback_status  # noqa: E402,F401
from survey.public import views  # noqa: E402,F401
