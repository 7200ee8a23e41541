"""What every staff page shares: the signed-in user, headers, error pages, helpers.

Access is enforced in the services (``access.require``) and checked again in
the views before anything is read; a ``Forbidden`` anywhere in this blueprint
is a 403.  The database transaction of a request is ``survey.web_db``'s: views
never commit.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import (
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as cookie
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import select

from survey import clock, config
from survey.config import settings
from survey.messages import org as org_words
from survey.messages import questionnaires as questionnaire_words
from survey.messages import times
from survey.models import QuestionnaireVersion, User
from survey.security import query_int
from survey.services import access, auth, users
from survey.services.access import Forbidden
from survey.services.org import assignment
from survey.services.org import targets as org_targets
from survey.services.org import units as org_units
from survey.staff import bp
from survey.staff.forms import choices
from survey.web_db import get_session

INVALID = 422
# Reachable without a signed-in user; everything else redirects to the login.
OPEN_ENDPOINTS = {"staff.login"}
# Reachable while a one-time password still has to be changed.
PASSWORD_ENDPOINTS = {"staff.password", "staff.logout"}


# --- request plumbing ---------------------------------------------------------
@bp.before_request
def _load_user():
    g.user = auth.current_user(
        get_session(), cookie, auth.Lifetimes.from_settings(config.settings())
    )
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if g.user is None:
        target = request.path + (
            f"?{request.query_string.decode()}" if request.query_string else ""
        )
        return redirect(url_for("staff.login", next=target if request.method == "GET" else None))
    if g.user.must_change_password and request.endpoint not in PASSWORD_ENDPOINTS:
        return redirect(url_for("staff.password"))
    return None


@bp.after_request
def _no_store(response: Response) -> Response:
    # Staff pages show personal and unpublished data: keep them out of caches.
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


@bp.errorhandler(Forbidden)
def _forbidden(_exc):
    return render_template("staff/403.html"), 403


@bp.errorhandler(403)
def _forbidden_http(_exc):
    return render_template("staff/403.html"), 403


def role_label(role: str) -> str:
    labels = {
        "admin": _("Quản trị hệ thống"),
        "unit_manager": _("Quản lý đơn vị"),
        "desk_staff": _("Cán bộ một cửa"),
        "analyst": _("Phân tích số liệu"),
    }
    return labels.get(role, role)


def percent(share: float) -> str:
    return format_decimal(share * 100, format="#,##0.##") + "%"


@bp.app_template_filter("staff_percent")
def _percent_filter(share: float) -> str:
    return percent(share)


# Every staff page shows a stored instant in Vietnam time (survey.messages.times).
bp.add_app_template_filter(times.local, "staff_time")
bp.add_app_template_filter(questionnaire_words.label, "questionnaire_label")


@bp.app_template_filter("staff_name")
def _staff_name(username: str | None) -> str:
    """A stored username (who registered a tablet, say) as the person's full name."""
    if not username:
        return ""
    full = get_session().scalar(select(User.full_name).where(User.username == username))
    return full or username


@bp.app_template_filter("questionnaire_key_label")
def _questionnaire_key_label(key: str) -> str:
    """``short@1`` (a query-string value) as its label, for pages that hold keys only."""
    qid, _sep, version = str(key).partition("@")
    row = None
    if version.isdigit():
        row = get_session().scalar(
            select(QuestionnaireVersion).where(
                QuestionnaireVersion.qid == qid, QuestionnaireVersion.version == int(version)
            )
        )
    return questionnaire_words.label(row) if row is not None else str(key)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    user = g.get("user")

    def can(action: str, unit_id: int | None = None) -> bool:
        return access.can(user, action, unit_id)

    def can_anywhere(action: str) -> bool:
        return access.can_anywhere(user, action)

    return {
        "user": user,
        "can": can,
        "can_anywhere": can_anywhere,
        "role_label": role_label,
        "may_manage_users": users.may_manage_users(user),
    }


# --- helpers of several features ----------------------------------------------
def found(obj):
    if obj is None:
        abort(404)
    return obj


def safe_next(target: str | None) -> str | None:
    """Only a plain path inside /staff/: never another site (open redirect).

    Printable ASCII only, as the app's own links are (non-ASCII is
    percent-encoded): a CR or LF would split the Location header (a 500), and
    tabs, other controls or Unicode line breaks are read differently by
    browsers.  No dot segment either (``/staff/../``, also percent-encoded).
    """
    if not target or not all("!" <= ch <= "~" for ch in target):
        return None
    if "\\" in target or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/staff/"):
        return None
    if {".", ".."} & set(unquote(parts.path).split("/")):
        return None
    return target


def today() -> date:
    return clock.local_today(settings().TIMEZONE)


def query_year() -> int | None:
    """``?year=`` (this year if absent), or None with a message if out of range."""
    year = query_int("year", today().year, org_targets.MIN_YEAR, org_targets.MAX_YEAR)
    if year is None:
        flash(
            _(
                "Năm không hợp lệ: từ %(min)d đến %(max)d.",
                min=org_targets.MIN_YEAR,
                max=org_targets.MAX_YEAR,
            )
        )
    return year


def unit_or_404(unit_id: int, action: str = "unit.view"):
    """The unit (404 if there is none); 403 unless the user may ``action`` it."""
    return found(org_units.get_unit(get_session(), g.user, unit_id, action))


def version_choices(db):
    """The questionnaire a unit or desk may be given: inherit, or a published version."""
    return choices(
        [("", _("Kế thừa từ đơn vị cấp trên"))]
        + [(v.id, questionnaire_words.label(v)) for v in assignment.published_versions(db)]
    )


def org_message(code: str) -> str:
    """The text of an ``OrgError`` code (survey.services.org): ``survey.messages.org``."""
    return org_words.text(code)
