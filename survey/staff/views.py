"""Staff views: parse the request, ask the services, render.

Access is enforced in the services (``access.require``) and checked again here
before anything is read; a ``Forbidden`` anywhere in this blueprint is a 403.
"""

from __future__ import annotations

import json
import math
import time
from datetime import date, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as cookie
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import func, select

from survey import clock
from survey.extensions import csrf, limiter
from survey.models import AuditEvent, Sector, SectorGroup, Unit
from survey.models import Response as SurveyResponse
from survey.models._types import utcnow
from survey.security import query_int
from survey.services import access, auth, org_admin, units
from survey.services import desks as desk_svc
from survey.services import questionnaires as qsvc
from survey.services import volumes as volume_svc
from survey.services.access import Forbidden
from survey.staff import bp
from survey.staff.forms import (
    ActionForm,
    AssignmentForm,
    DeskMoveForm,
    DeskNameForm,
    LoginForm,
    PasswordChangeForm,
    SectorForm,
    SectorGroupForm,
    TargetForm,
    UnitForm,
    VolumeConfirmForm,
    VolumeUploadForm,
    choices,
)
from survey.web_db import get_session

INVALID = 422
AUDIT_PAGE_SIZE = 50
MAX_PAGE = 100_000  # keeps OFFSET inside a 64-bit integer
# The audit page sums up refused sign-ins over this window.
FAILED_SIGN_IN_WINDOW = timedelta(hours=24)
# Reachable without a signed-in user; everything else redirects to the login.
OPEN_ENDPOINTS = {"staff.login"}
# Reachable while a one-time password still has to be changed.
PASSWORD_ENDPOINTS = {"staff.password", "staff.logout"}


# --- request plumbing ---------------------------------------------------------
@bp.before_request
def _load_user():
    g.user = auth.current_user(
        get_session(), cookie, auth.Lifetimes.from_settings(current_app.config["SURVEY"])
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


@bp.context_processor
def _helpers() -> dict[str, Any]:
    user = g.get("user")

    def can(action: str, unit_id: int | None = None) -> bool:
        return access.can(user, action, unit_id)

    def can_anywhere(action: str) -> bool:
        return access.can_anywhere(user, action)

    return {"user": user, "can": can, "can_anywhere": can_anywhere, "role_label": role_label}


def _db():
    return get_session()


def _found(obj):
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


def _today() -> date:
    return clock.local_today(current_app.config["SURVEY"]["TIMEZONE"])


# --- sign-in ------------------------------------------------------------------
def _login_account_key() -> str:
    """The account being tried, so guessing one password from many addresses is slow too."""
    return "login-account:" + (request.form.get("username") or "").strip().lower()[:64]


def _login_refused(response: Response) -> bool:
    return response.status_code == INVALID


def _login_throttled(limit) -> Response:
    seconds = max(1, math.ceil(limit.reset_at - time.time()))
    wait = max(1, round(seconds / 60))
    db = _db()
    auth.record_failed_sign_in(
        db, request.form.get("username") or "", request.remote_addr, reason="throttled"
    )
    db.commit()
    form = LoginForm()
    form.form_errors.append(
        _(
            "Tài khoản này tạm thời không đăng nhập được vì có quá nhiều lần nhập sai mật "
            "khẩu. Xin thử lại sau %(n)d phút.",
            n=wait,
        )
    )
    page = render_template("staff/login.html", form=form, next=safe_next(request.args.get("next")))
    return make_response(page, 429, {"Retry-After": str(seconds)})


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@limiter.limit(
    "5 per minute;30 per hour;100 per day",
    methods=["POST"],
    key_func=_login_account_key,
    deduct_when=_login_refused,
    on_breach=_login_throttled,
)
def login():
    next_url = safe_next(request.args.get("next"))
    if g.user is not None:
        return redirect(next_url or url_for("staff.dashboard"))
    form = LoginForm()
    if not form.validate_on_submit():
        status = INVALID if request.method == "POST" else 200
        return render_template("staff/login.html", form=form, next=next_url), status
    db = _db()
    user = auth.authenticate(db, form.username.data, form.password.data)
    if user is None:
        auth.record_failed_sign_in(db, form.username.data, request.remote_addr)
        db.commit()
        form.form_errors.append(_("Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đã bị khóa."))
        return render_template("staff/login.html", form=form, next=next_url), INVALID
    auth.sign_in(cookie, user)
    db.commit()
    if user.must_change_password:
        return redirect(url_for("staff.password"))
    return redirect(next_url or url_for("staff.dashboard"))


@bp.post("/logout")
def logout():
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    auth.sign_out(cookie, g.user)
    _db().commit()
    flash(_("Đã đăng xuất trên mọi thiết bị."))
    return redirect(url_for("staff.login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        db = _db()
        try:
            auth.change_password(db, g.user, form.current.data, form.new.data, cookie)
        except auth.PasswordError as exc:
            db.rollback()
            getattr(form, exc.field).errors.append(_password_message(exc.code))
        else:
            db.commit()
            flash(_("Đã đổi mật khẩu."))
            return redirect(url_for("staff.dashboard"))
    status = INVALID if request.method == "POST" else 200
    return render_template("staff/password.html", form=form), status


def _password_message(code: str) -> str:
    return {
        "wrong_current": _("Mật khẩu hiện tại không đúng."),
        "too_short": _("Mật khẩu mới phải có ít nhất %(min)d ký tự.", min=auth.MIN_PASSWORD_LENGTH),
        "too_long": _("Mật khẩu mới dài quá %(max)d ký tự.", max=auth.MAX_PASSWORD_LENGTH),
        "guessable": _(
            "Mật khẩu này quá dễ đoán (mật khẩu phổ biến, chuỗi lặp lại hoặc theo thứ tự "
            "bàn phím). Xin chọn một cụm từ dài hơn mà người khác khó đoán."
        ),
        "unchanged": _("Mật khẩu mới phải khác mật khẩu hiện tại."),
        "is_username": _("Mật khẩu không được trùng tên đăng nhập."),
    }.get(code, _("Mật khẩu không hợp lệ."))


# --- dashboard and units ------------------------------------------------------
@bp.get("/")
def dashboard():
    home = _db().get(Unit, g.user.unit_id)
    return render_template("staff/dashboard.html", home=home)


@bp.get("/units")
def unit_list():
    tree = org_admin.unit_tree(_db(), g.user)
    return render_template("staff/units.html", tree=tree)


def _unit(unit_id: int, action: str = "unit.view"):
    return _found(org_admin.get_unit(_db(), g.user, unit_id, action))


def _version_choices(db):
    return choices(
        [("", _("Kế thừa từ đơn vị cấp trên"))]
        + [(v.id, v.key) for v in org_admin.published_versions(db)]
    )


def _unit_page(unit, status: int = 200, assign_form: AssignmentForm | None = None):
    db = _db()
    if assign_form is None:
        assign_form = AssignmentForm(
            formdata=None, version=str(unit.questionnaire_version_id or "")
        )
    assign_form.version.choices = _version_choices(db)
    chain = [u for u in reversed(units.ancestors(unit)) if access.can(g.user, "unit.view", u.id)]
    # The nearest unit (itself first) with an assignment; none: the latest standard form.
    inherited = next(
        (u for u in units.ancestors(unit) if u.questionnaire_version_id is not None), None
    )
    versions = {v.id: v for v in org_admin.published_versions(db)}
    return render_template(
        "staff/unit.html",
        unit=unit,
        chain=chain,
        children=sorted(unit.children, key=lambda u: u.code),
        desks=org_admin.desks_of_unit(db, g.user, unit),
        assign_form=assign_form,
        served=(versions.get(inherited.questionnaire_version_id) if inherited else qsvc.latest(db)),
        inherited=inherited,
    ), status


@bp.get("/units/<int:unit_id>")
def unit_detail(unit_id: int):
    return _unit_page(_unit(unit_id))


@bp.route("/units/<int:unit_id>/new", methods=["GET", "POST"])
def unit_create(unit_id: int):
    parent = _unit(unit_id, "unit.create")
    form = UnitForm()
    if form.validate_on_submit():
        db = _db()
        try:
            unit = org_admin.create_unit(
                db, g.user, parent, code=form.code.data, name=form.name.data, kind=form.kind.data
            )
        except org_admin.OrgError as exc:
            db.rollback()
            getattr(form, exc.field).errors.append(_org_message(exc.code))
        else:
            db.commit()
            flash(_("Đã tạo đơn vị %(name)s.", name=unit.name))
            return redirect(url_for("staff.unit_detail", unit_id=unit.id))
    status = INVALID if request.method == "POST" else 200
    return render_template("staff/unit_new.html", parent=parent, form=form), status


@bp.post("/units/<int:unit_id>/questionnaire")
def unit_assign(unit_id: int):
    unit = _unit(unit_id, "unit.view")
    access.require(g.user, "questionnaire.assign", unit.id)
    form = AssignmentForm()
    form.version.choices = _version_choices(_db())
    if not form.validate_on_submit():
        return _unit_page(unit, INVALID, form)
    db = _db()
    version_id = int(form.version.data) if form.version.data else None
    org_admin.assign_questionnaire(db, g.user, unit, version_id)
    db.commit()
    flash(_("Đã lưu phiếu khảo sát áp dụng."))
    return redirect(url_for("staff.unit_detail", unit_id=unit.id))


def _org_message(code: str) -> str:
    return {
        "bad_code": _("Mã gồm chữ cái không dấu, chữ số, '-' hoặc '_' (tối đa 32 ký tự)."),
        "unit_code_taken": _("Đã có đơn vị dùng mã này."),
        "code_taken": _("Mã này đã được dùng."),
        "same_unit": _("Quầy đã thuộc đơn vị này."),
        "unknown_version": _("Không có phiên bản phiếu này."),
        "unknown_group": _("Không có nhóm lĩnh vực này."),
        "bad_year": _("Năm không hợp lệ."),
        "bad_threshold": _("Chỉ tiêu là phần trăm lớn hơn 0 và nhỏ hơn 100."),
    }.get(code, _("Giá trị không hợp lệ."))


# --- desks --------------------------------------------------------------------
def _desk(desk_id: int, action: str = "desk.view"):
    return _found(org_admin.get_desk(_db(), g.user, desk_id, action))


@bp.route("/units/<int:unit_id>/desks/new", methods=["GET", "POST"])
def desk_create(unit_id: int):
    unit = _unit(unit_id, "desk.manage")
    form = DeskNameForm()
    if form.validate_on_submit():
        db = _db()
        desk = org_admin.create_desk(db, g.user, unit, name=form.name.data)
        db.commit()
        flash(_("Đã tạo quầy %(name)s, mã %(code)s.", name=desk.name, code=desk.code))
        return redirect(url_for("staff.desk_detail", desk_id=desk.id))
    status = INVALID if request.method == "POST" else 200
    return render_template("staff/desk_new.html", unit=unit, form=form), status


def _move_choices(desk):
    return choices(
        (u.id, f"{u.code} – {u.name}")
        for u in org_admin.managed_units(_db(), g.user, "desk.manage")
        if u.id != desk.unit_id
    )


def _desk_page(desk, status: int = 200, **bound):
    db = _db()
    forms: dict[str, Any] = {
        "rename_form": DeskNameForm(formdata=None, name=desk.name),
        "move_form": DeskMoveForm(formdata=None),
        "action_form": ActionForm(formdata=None),
        "assign_form": AssignmentForm(
            formdata=None, version=str(desk.questionnaire_version_id or "")
        ),
    }
    forms.update(bound)
    forms["move_form"].unit.choices = _move_choices(desk)
    forms["assign_form"].version.choices = _version_choices(db)
    responses = db.scalar(
        select(func.count()).select_from(SurveyResponse).where(SurveyResponse.desk_id == desk.id)
    )
    base_url = current_app.config["SURVEY"]["BASE_URL"]
    return render_template(
        "staff/desk.html",
        desk=desk,
        url=desk_svc.survey_url(base_url, desk.code),
        history=org_admin.code_history(db, desk),
        served=qsvc.for_desk(db, desk),
        responses=responses or 0,
        **forms,
    ), status


@bp.get("/desks/<int:desk_id>")
def desk_detail(desk_id: int):
    return _desk_page(_desk(desk_id))


@bp.post("/desks/<int:desk_id>/rename")
def desk_rename(desk_id: int):
    desk = _desk(desk_id, "desk.manage")
    form = DeskNameForm()
    if not form.validate_on_submit():
        return _desk_page(desk, INVALID, rename_form=form)
    db = _db()
    org_admin.rename_desk(db, g.user, desk, name=form.name.data)
    db.commit()
    flash(_("Đã đổi tên quầy."))
    return redirect(url_for("staff.desk_detail", desk_id=desk.id))


@bp.post("/desks/<int:desk_id>/move")
def desk_move(desk_id: int):
    desk = _desk(desk_id, "desk.manage")
    form = DeskMoveForm()
    form.unit.choices = _move_choices(desk)
    if not form.validate_on_submit():
        if not form.unit.errors:
            form.unit.errors.append(_("Xin chọn đơn vị."))
        return _desk_page(desk, INVALID, move_form=form)
    db = _db()
    target = _unit(int(form.unit.data), "desk.manage")
    try:
        org_admin.move_desk(db, g.user, desk, target)
    except org_admin.OrgError as exc:
        db.rollback()
        form.unit.errors.append(_org_message(exc.code))
        return _desk_page(desk, INVALID, move_form=form)
    db.commit()
    flash(_("Đã chuyển quầy sang %(unit)s.", unit=target.name))
    return redirect(url_for("staff.desk_detail", desk_id=desk.id))


def _desk_action(desk_id: int, change, message: str):
    desk = _desk(desk_id, "desk.manage")
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    db = _db()
    change(db, desk)
    db.commit()
    flash(message)
    return redirect(url_for("staff.desk_detail", desk_id=desk.id))


@bp.post("/desks/<int:desk_id>/deactivate")
def desk_deactivate(desk_id: int):
    return _desk_action(
        desk_id,
        lambda db, desk: org_admin.set_desk_active(db, g.user, desk, False),
        _("Đã ngừng quầy: mã QR của quầy báo quầy không nhận đánh giá."),
    )


@bp.post("/desks/<int:desk_id>/reactivate")
def desk_reactivate(desk_id: int):
    return _desk_action(
        desk_id,
        lambda db, desk: org_admin.set_desk_active(db, g.user, desk, True),
        _("Đã mở lại quầy."),
    )


@bp.post("/desks/<int:desk_id>/regenerate")
def desk_regenerate(desk_id: int):
    return _desk_action(
        desk_id,
        lambda db, desk: org_admin.regenerate_code(db, g.user, desk),
        _("Đã cấp mã QR mới. Xin in và dán áp phích mới: mã cũ không còn dùng được."),
    )


@bp.post("/desks/<int:desk_id>/questionnaire")
def desk_assign(desk_id: int):
    desk = _desk(desk_id)
    access.require(g.user, "questionnaire.assign", desk.unit_id)
    form = AssignmentForm()
    form.version.choices = _version_choices(_db())
    if not form.validate_on_submit():
        return _desk_page(desk, INVALID, assign_form=form)
    db = _db()
    org_admin.assign_questionnaire(
        db, g.user, desk, int(form.version.data) if form.version.data else None
    )
    db.commit()
    flash(_("Đã lưu phiếu khảo sát áp dụng."))
    return redirect(url_for("staff.desk_detail", desk_id=desk.id))


# --- posters (rendering lives in survey.posters) -------------------------------
@bp.get("/units/<int:unit_id>/posters.pdf")
def unit_posters(unit_id: int):
    from survey.posters import SIZES, PosterError, posters_for_unit, render_posters

    unit = _unit(unit_id, "poster.print")
    size = request.args.get("size", "a4")
    if size not in SIZES:
        abort(404)
    try:
        desks = posters_for_unit(_db(), current_app.config["SURVEY"]["BASE_URL"], unit.code)
    except PosterError:
        flash(_("Đơn vị chưa có quầy nào đang hoạt động để in áp phích."))
        return redirect(url_for("staff.unit_detail", unit_id=unit.id))
    return Response(
        render_posters(desks, size),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="posters-{unit.code}-{size}.pdf"'},
    )


@bp.get("/desks/<int:desk_id>/qr.<any(png, svg):fmt>")
def desk_qr(desk_id: int, fmt: str):
    from survey.posters import qr_png, qr_svg

    desk = _desk(desk_id, "poster.print")
    url = desk_svc.survey_url(current_app.config["SURVEY"]["BASE_URL"], desk.code)
    if fmt == "png":
        return Response(qr_png(url, box_size=20), mimetype="image/png")
    return Response(qr_svg(url), mimetype="image/svg+xml")


# --- targets ------------------------------------------------------------------
def _query_year() -> int | None:
    """``?year=`` (this year if absent), or None with a message if out of range."""
    year = query_int("year", _today().year, org_admin.MIN_YEAR, org_admin.MAX_YEAR)
    if year is None:
        flash(
            _(
                "Năm không hợp lệ: từ %(min)d đến %(max)d.",
                min=org_admin.MIN_YEAR,
                max=org_admin.MAX_YEAR,
            )
        )
    return year


def _group_choices(db):
    return choices(
        [("", _("Chung (mọi lĩnh vực)"))]
        + [(grp.id, grp.name) for grp in org_admin.list_groups(db)]
    )


def _targets_page(unit, form: TargetForm, status: int = 200):
    db = _db()
    year = _query_year()
    if year is None:
        year, status = _today().year, 400
    groups = org_admin.list_groups(db)
    effective = [
        (None, org_admin.effective_target(db, unit, year)),
        *[(grp, org_admin.effective_target(db, unit, year, grp.id)) for grp in groups],
    ]
    return render_template(
        "staff/targets.html",
        unit=unit,
        targets=org_admin.targets_of_unit(db, g.user, unit),
        groups={grp.id: grp for grp in groups},
        effective=effective,
        year=year,
        form=form,
        action_form=ActionForm(formdata=None),
        units_by_id={u.id: u for u in units.ancestors(unit)},
    ), status


@bp.route("/units/<int:unit_id>/targets", methods=["GET", "POST"])
def targets(unit_id: int):
    db = _db()
    if request.method == "GET":
        unit = _unit(unit_id, "target.view")
        form = TargetForm(formdata=None, year=str(_today().year))
        form.group.choices = _group_choices(db)
        return _targets_page(unit, form)
    unit = _unit(unit_id, "target.manage")
    form = TargetForm()
    form.group.choices = _group_choices(db)
    if not form.validate_on_submit():
        return _targets_page(unit, form, INVALID)
    _target, created = org_admin.set_target(
        db,
        g.user,
        unit,
        year=form.year_value,
        threshold=form.share,
        sector_group_id=int(form.group.data) if form.group.data else None,
        source=form.source.data or "",
    )
    db.commit()
    flash(_("Đã thêm chỉ tiêu.") if created else _("Đã cập nhật chỉ tiêu."))
    return redirect(url_for("staff.targets", unit_id=unit.id))


@bp.post("/targets/<int:target_id>/delete")
def target_delete(target_id: int):
    db = _db()
    target = _found(org_admin.get_target(db, g.user, target_id, "target.manage"))
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    unit_id = target.unit_id
    org_admin.delete_target(db, g.user, target)
    db.commit()
    flash(_("Đã xóa chỉ tiêu."))
    return redirect(url_for("staff.targets", unit_id=unit_id))


# --- sectors and sector groups (admins) ---------------------------------------
def _sectors_page(status: int = 200, sector_form=None, group_form=None):
    db = _db()
    if sector_form is None:
        sector_form = SectorForm(formdata=None)
    sector_form.group.choices = _sector_group_choices(db)
    return render_template(
        "staff/sectors.html",
        sectors=org_admin.list_sectors(db),
        groups=org_admin.list_groups(db),
        sector_form=sector_form,
        group_form=group_form or SectorGroupForm(formdata=None),
    ), status


def _sector_group_choices(db):
    return choices(
        [("", _("Không thuộc nhóm"))]
        + [(grp.id, f"{grp.code} – {grp.name}") for grp in org_admin.list_groups(db)]
    )


@bp.get("/sectors")
def sectors():
    access.require(g.user, "sector.manage")
    return _sectors_page()


@bp.post("/sectors")
def sector_create():
    access.require(g.user, "sector.manage")
    db = _db()
    form = SectorForm()
    form.group.choices = _sector_group_choices(db)
    if form.validate_on_submit():
        try:
            org_admin.create_sector(
                db,
                g.user,
                code=form.code.data,
                name=form.name.data,
                name_en=form.name_en.data or "",
                group_id=int(form.group.data) if form.group.data else None,
            )
        except org_admin.OrgError as exc:
            db.rollback()
            getattr(form, {"group": "group"}.get(exc.field, "code")).errors.append(
                _org_message(exc.code)
            )
        else:
            db.commit()
            flash(_("Đã thêm lĩnh vực."))
            return redirect(url_for("staff.sectors"))
    return _sectors_page(INVALID, sector_form=form)


@bp.route("/sectors/<int:sector_id>", methods=["GET", "POST"])
def sector_edit(sector_id: int):
    access.require(g.user, "sector.manage")
    db = _db()
    sector = _found(db.get(Sector, sector_id))
    if request.method == "GET":
        form = SectorForm(
            formdata=None,
            code=sector.code,
            name=sector.name,
            name_en=sector.name_en,
            group=str(sector.group_id or ""),
        )
    else:
        form = SectorForm(data={"code": sector.code})
    form.group.choices = _sector_group_choices(db)
    if request.method == "POST":
        form.code.data = sector.code  # the code is the key volume files use: fixed
        if form.validate_on_submit():
            org_admin.update_sector(
                db,
                g.user,
                sector,
                name=form.name.data,
                name_en=form.name_en.data or "",
                group_id=int(form.group.data) if form.group.data else None,
            )
            db.commit()
            flash(_("Đã lưu lĩnh vực."))
            return redirect(url_for("staff.sectors"))
    status = INVALID if request.method == "POST" else 200
    return render_template("staff/sector_edit.html", sector=sector, form=form), status


@bp.post("/sector-groups")
def group_create():
    access.require(g.user, "sector.manage")
    db = _db()
    form = SectorGroupForm()
    if form.validate_on_submit():
        try:
            org_admin.create_group(
                db,
                g.user,
                code=form.code.data,
                name=form.name.data,
                name_en=form.name_en.data or "",
            )
        except org_admin.OrgError as exc:
            db.rollback()
            form.code.errors.append(_org_message(exc.code))
        else:
            db.commit()
            flash(_("Đã thêm nhóm lĩnh vực."))
            return redirect(url_for("staff.sectors"))
    return _sectors_page(INVALID, group_form=form)


@bp.route("/sector-groups/<int:group_id>", methods=["GET", "POST"])
def group_edit(group_id: int):
    access.require(g.user, "sector.manage")
    db = _db()
    group = _found(db.get(SectorGroup, group_id))
    if request.method == "GET":
        form = SectorGroupForm(
            formdata=None, code=group.code, name=group.name, name_en=group.name_en
        )
    else:
        form = SectorGroupForm()
        form.code.data = group.code
        if form.validate_on_submit():
            org_admin.update_group(
                db, g.user, group, name=form.name.data, name_en=form.name_en.data or ""
            )
            db.commit()
            flash(_("Đã lưu nhóm lĩnh vực."))
            return redirect(url_for("staff.sectors"))
    status = INVALID if request.method == "POST" else 200
    return render_template("staff/group_edit.html", group=group, form=form), status


# --- audit log (admins, read-only: no route changes an event) ------------------
def _changes(before: str | None, after: str | None) -> list[tuple[str, Any, Any]]:
    old = json.loads(before) if before else {}
    new = json.loads(after) if after else {}
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [("", old, new)]
    keys = sorted(set(old) | set(new))
    return [(k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k) or not old]


@bp.get("/audit")
def audit_log():
    access.require(g.user, "audit.view")
    db = _db()
    page = min(max(1, request.args.get("page", 1, type=int)), MAX_PAGE)
    total = db.scalar(select(func.count()).select_from(AuditEvent)) or 0
    events = db.scalars(
        select(AuditEvent)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(AUDIT_PAGE_SIZE)
        .offset((page - 1) * AUDIT_PAGE_SIZE)
    ).all()
    return render_template(
        "staff/audit.html",
        failed=auth.failed_sign_ins(db, utcnow() - FAILED_SIGN_IN_WINDOW),
        events=[(e, _changes(e.before, e.after)) for e in events],
        page=page,
        pages=max(1, -(-total // AUDIT_PAGE_SIZE)),
        total=total,
    )


# --- transaction volumes ------------------------------------------------------
def _issue_message(issue: volume_svc.Issue) -> str:
    text = {
        "empty": _("Tệp rỗng."),
        "encoding": _("Tệp CSV không ở mã UTF-8. Xin lưu lại tệp với mã hóa UTF-8."),
        "unreadable": _("Không đọc được tệp. Xin tải lên tệp CSV (UTF-8) hoặc XLSX."),
        "encrypted": _("Tệp XLSX có đặt mật khẩu. Xin lưu lại tệp không đặt mật khẩu."),
        "xls_or_encrypted": _(
            "Tệp là bảng tính Excel 97–2003 (.xls) hoặc bảng tính có đặt mật khẩu. "
            "Xin lưu lại thành tệp .xlsx không đặt mật khẩu, hoặc thành tệp CSV."
        ),
        "xlsx_too_large": _(
            "Tệp XLSX khi giải nén quá lớn (tối đa %(max)d MiB) hoặc được nén bất thường. "
            "Xin xóa các cột không cần, chia thành nhiều tệp hoặc lưu thành tệp CSV.",
            max=volume_svc.MAX_XLSX_UNPACKED // 2**20,
        ),
        "too_many_rows": _(
            "Tệp có quá %(max)d dòng; xin chia thành nhiều tệp.", max=volume_svc.MAX_ROWS
        ),
        "no_rows": _("Tệp không có dòng số liệu nào."),
        "ambiguous_columns": _(
            "Tệp có cả cột desk và cột unit/sector: mỗi tệp chỉ theo quầy "
            "(desk, month, count) hoặc theo đơn vị và lĩnh vực (unit, sector, month, count)."
        ),
        "missing_column": _("thiếu cột này."),
        "duplicate_column": _("cột này xuất hiện hai lần."),
        "required": _("ô trống."),
        "bad_month": _(
            "tháng “%(value)s” không đúng dạng YYYY-MM (ví dụ 2026-03).", value=issue.value
        ),
        "future_month": _("tháng “%(value)s” chưa đến.", value=issue.value),
        "not_integer": _("số lượng “%(value)s” không phải số nguyên.", value=issue.value),
        "negative": _("số lượng “%(value)s” là số âm.", value=issue.value),
        "too_large": _("số lượng “%(value)s” quá lớn.", value=issue.value),
        "duplicate_row": _(
            "trùng với dòng %(other)s (cùng mã và cùng tháng).", other=issue.other_row
        ),
        "bad_code": _("mã “%(value)s” không hợp lệ.", value=issue.value),
        "unknown_desk": _("không có quầy mã “%(value)s”.", value=issue.value),
        "desk_out_of_scope": _(
            "quầy “%(value)s” không thuộc phạm vi đơn vị của tài khoản này.", value=issue.value
        ),
        "unknown_unit": _("không có đơn vị mã “%(value)s”.", value=issue.value),
        "unit_out_of_scope": _(
            "đơn vị “%(value)s” không thuộc phạm vi của tài khoản này.", value=issue.value
        ),
        "unknown_sector": _("không có lĩnh vực mã “%(value)s”.", value=issue.value),
        "volume_out_of_scope": _(
            "số liệu tháng này của quầy “%(value)s” đã được nhập cho một đơn vị ngoài phạm "
            "vi của tài khoản này (quầy đã chuyển đơn vị).",
            value=issue.value,
        ),
    }.get(issue.code, issue.code)
    if issue.row is None:
        return text
    if issue.column:
        return _(
            "Dòng %(row)d, cột %(column)s: %(text)s", row=issue.row, column=issue.column, text=text
        )
    return _("Dòng %(row)d: %(text)s", row=issue.row, text=text)


def _require_import() -> None:
    access.require(g.user, "volume.import", g.user.unit_id)


@bp.get("/volumes")
def volumes():
    _require_import()
    return render_template("staff/volumes.html", form=VolumeUploadForm(formdata=None))


@bp.post("/volumes")
@csrf.exempt  # checked below, once the larger upload limit is in force
def volumes_upload():
    _require_import()
    request.max_content_length = volume_svc.MAX_UPLOAD_BYTES
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    form = VolumeUploadForm()
    if not form.validate_on_submit():
        return render_template("staff/volumes.html", form=form), INVALID
    storage = form.file.data
    # Read in memory; the client's file name is shown, never used as a path.
    data = storage.read(volume_svc.MAX_UPLOAD_BYTES + 1)
    filename = volume_svc.display_name(storage.filename)
    db = _db()
    parsed, plan = volume_svc.prepare(db, g.user, data, _today())
    token = None
    if plan.ok:
        token = volume_svc.stage(db, g.user, parsed, filename)
        db.commit()
    return _preview(plan, filename, token)


def _preview(plan: volume_svc.Plan, filename: str, token: str | None):
    messages = [_issue_message(i) for i in plan.issues]
    return render_template(
        "staff/volumes_preview.html",
        plan=plan,
        filename=filename,
        messages=messages[:200],
        more=max(0, len(messages) - 200),
        sample=plan.rows[:50],
        confirm_form=VolumeConfirmForm(formdata=None, token=token) if token else None,
    ), (200 if plan.ok else INVALID)


@bp.post("/volumes/confirm")
def volumes_confirm():
    _require_import()
    form = VolumeConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    db = _db()
    staged = volume_svc.take_staged(db, g.user, form.token.data)
    if staged is None:
        form = VolumeUploadForm(formdata=None)
        form.file.errors = [
            _("Bản xem trước đã hết hạn hoặc đã được xác nhận. Xin tải tệp lên lại.")
        ]
        return render_template("staff/volumes.html", form=form), 409
    parsed, filename = staged
    plan = volume_svc.check(db, g.user, parsed)
    if not plan.ok:
        db.rollback()
        return _preview(plan, filename, None)
    result = volume_svc.apply(db, g.user, plan, filename)
    db.commit()
    flash(
        _(
            "Đã nhập %(rows)d dòng: %(new)d dòng mới, %(replaced)d dòng thay thế số liệu đã có.",
            **result,
        )
    )
    return redirect(url_for("staff.volumes"))


@bp.get("/units/<int:unit_id>/volumes")
def unit_volumes(unit_id: int):
    unit = _unit(unit_id, "volume.view")
    year, status = _query_year(), 200
    if year is None:
        year, status = _today().year, 400
    table = volume_svc.monthly_table(_db(), g.user, unit, year)
    return render_template("staff/unit_volumes.html", unit=unit, table=table), status
