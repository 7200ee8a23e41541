"""Staff pages under /staff: sign-in, units, desks, sectors, targets, volumes, audit log."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

import survey.staff.feedback_views  # noqa: E402,F401
import survey.staff.reports_views  # noqa: E402,F401
from survey.staff import views  # noqa: E402,F401
