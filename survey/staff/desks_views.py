"""Desks: create, rename, move, stop and restart, new code, questionnaire, sectors; QR posters."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask import session as cookie
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from wtforms import StringField
from wtforms.validators import DataRequired

from survey.config import settings
from survey.messages import org as org_words
from survey.messages import times
from survey.models import Response as SurveyResponse
from survey.public import kiosk as kiosk_cookie
from survey.services import access, kiosks
from survey.services import desks as desk_svc
from survey.services import questionnaires as qsvc
from survey.services.org import OrgError, assignment
from survey.services.org import desks as org_desks
from survey.services.org import sectors as org_sectors
from survey.services.org import units as org_units
from survey.staff import bp
from survey.staff.forms import (
    REQUIRED,
    ActionForm,
    AssignmentForm,
    DeskMoveForm,
    DeskNameForm,
    StaffForm,
    choices,
    max_length,
)
from survey.staff.plumbing import INVALID, found, org_message, unit_or_404, version_choices
from survey.web_db import get_session


class KioskForm(StaffForm):
    label = StringField(
        _l("Tên máy"),
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[DataRequired(REQUIRED), max_length(kiosks.LABEL_MAX)],
    )


def _duplicate_name(form: DeskNameForm, unit_id: int, desk_id: int | None = None) -> bool:
    """Two desks of one unit may not share a name (case and diacritics aside)."""
    if desk_svc.name_taken(get_session(), unit_id, form.name.data, desk_id):
        form.name.errors.append(
            _("Đơn vị đã có một quầy tên này (không phân biệt hoa thường, dấu). Xin chọn tên khác.")
        )
        return True
    return False


def _desk(desk_id: int, action: str = "desk.view"):
    return found(org_desks.get_desk(get_session(), g.user, desk_id, action))


@bp.route("/units/<int:unit_id>/desks/new", methods=["GET", "POST"])
def desk_create(unit_id: int):
    unit = unit_or_404(unit_id, "desk.manage")
    form = DeskNameForm()
    if form.validate_on_submit() and not _duplicate_name(form, unit.id):
        desk = org_desks.create_desk(get_session(), g.user, unit, name=form.name.data)
        flash(_("Đã tạo quầy %(name)s, mã %(code)s.", name=desk.name, code=desk.code))
        return redirect(url_for("staff.desk_detail", desk_id=desk.id))
    status = INVALID if request.method == "POST" else 200
    return render_template("staff/desk_new.html", unit=unit, form=form), status


def _move_choices(desk):
    return choices(
        (u.id, f"{u.code} – {u.name}")
        for u in org_units.managed_units(get_session(), g.user, "desk.manage")
        if u.id != desk.unit_id
    )


def _desk_page(desk, status: int = 200, sectors_error: str | None = None, **bound):
    db = get_session()
    forms: dict[str, Any] = {
        "rename_form": DeskNameForm(formdata=None, name=desk.name),
        "move_form": DeskMoveForm(formdata=None),
        "action_form": ActionForm(formdata=None),
        "assign_form": AssignmentForm(
            formdata=None, version=str(desk.questionnaire_version_id or "")
        ),
        "sectors_form": ActionForm(formdata=None),
        "kiosk_form": KioskForm(formdata=None),
    }
    forms.update(bound)
    forms["move_form"].unit.choices = _move_choices(desk)
    forms["assign_form"].version.choices = version_choices(db)
    responses = db.scalar(
        select(func.count()).select_from(SurveyResponse).where(SurveyResponse.desk_id == desk.id)
    )
    base_url = settings().BASE_URL
    return render_template(
        "staff/desk.html",
        desk=desk,
        url=desk_svc.survey_url(base_url, desk.code),
        history=org_desks.code_history(db, desk),
        served=qsvc.for_desk(db, desk),
        responses=responses or 0,
        all_sectors=org_sectors.list_sectors(db),
        sectors_error=sectors_error,
        kiosk_devices=kiosks.for_desk(db, desk),
        local=times.local,
        **forms,
    ), status


@bp.get("/desks/<int:desk_id>")
def desk_detail(desk_id: int):
    return _desk_page(_desk(desk_id))


@bp.post("/desks/<int:desk_id>/rename")
def desk_rename(desk_id: int):
    desk = _desk(desk_id, "desk.manage")
    form = DeskNameForm()
    if not form.validate_on_submit() or _duplicate_name(form, desk.unit_id, desk.id):
        return _desk_page(desk, INVALID, rename_form=form)
    org_desks.rename_desk(get_session(), g.user, desk, name=form.name.data)
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
    target = unit_or_404(int(form.unit.data), "desk.manage")
    try:
        org_desks.move_desk(get_session(), g.user, desk, target)
    except OrgError as exc:
        form.unit.errors.append(org_message(exc.code))
        return _desk_page(desk, INVALID, move_form=form)
    flash(_("Đã chuyển quầy sang %(unit)s.", unit=target.name))
    return redirect(url_for("staff.desk_detail", desk_id=desk.id))


def _desk_action(desk_id: int, change, message: str):
    desk = _desk(desk_id, "desk.manage")
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    change(get_session(), desk)
    flash(message)
    return redirect(url_for("staff.desk_detail", desk_id=desk.id))


def _confirm_desk(desk_id: int, *, title: str, consequence: str, button: str):
    """The page that asks before a destructive desk action (a GET of the action's URL)."""
    desk = _desk(desk_id, "desk.manage")
    return render_template(
        "staff/confirm.html",
        title=title,
        subject=f"{desk.name} – {desk.unit.name}",
        consequence=consequence,
        button=button,
        action=request.path,
        cancel=url_for("staff.desk_detail", desk_id=desk.id),
        form=ActionForm(formdata=None),
        warn=True,
    )


@bp.route("/desks/<int:desk_id>/deactivate", methods=["GET", "POST"])
def desk_deactivate(desk_id: int):
    if request.method == "GET":
        return _confirm_desk(
            desk_id,
            title=_("Ngừng quầy"),
            consequence=_(
                "Mã QR và áp phích của quầy vẫn giữ nguyên nhưng báo quầy không nhận đánh giá; "
                "máy tính bảng của quầy cũng ngừng nhận phiếu. Có thể mở lại quầy bất cứ lúc nào."
            ),
            button=_("Ngừng quầy"),
        )
    return _desk_action(
        desk_id,
        lambda db, desk: org_desks.set_desk_active(db, g.user, desk, False),
        _("Đã ngừng quầy: mã QR của quầy báo quầy không nhận đánh giá."),
    )


@bp.post("/desks/<int:desk_id>/reactivate")
def desk_reactivate(desk_id: int):
    return _desk_action(
        desk_id,
        lambda db, desk: org_desks.set_desk_active(db, g.user, desk, True),
        _("Đã mở lại quầy."),
    )


@bp.route("/desks/<int:desk_id>/regenerate", methods=["GET", "POST"])
def desk_regenerate(desk_id: int):
    if request.method == "GET":
        return _confirm_desk(
            desk_id,
            title=_("Cấp mã QR mới"),
            consequence=_(
                "Mọi áp phích đã in của quầy này sẽ ngừng hoạt động: mã cũ chỉ báo “Mã QR này "
                "đã được thay”. Cần in và dán áp phích mới ngay sau khi cấp mã."
            ),
            button=_("Cấp mã QR mới"),
        )
    return _desk_action(
        desk_id,
        lambda db, desk: org_desks.regenerate_code(db, g.user, desk),
        _("Đã cấp mã QR mới. Xin in và dán áp phích mới: mã cũ không còn dùng được."),
    )


@bp.post("/desks/<int:desk_id>/questionnaire")
def desk_assign(desk_id: int):
    desk = _desk(desk_id)
    access.require(g.user, "questionnaire.assign", desk.unit_id)
    form = AssignmentForm()
    form.version.choices = version_choices(get_session())
    if not form.validate_on_submit():
        return _desk_page(desk, INVALID, assign_form=form)
    assignment.assign_questionnaire(
        get_session(), g.user, desk, int(form.version.data) if form.version.data else None
    )
    flash(_("Đã lưu phiếu khảo sát áp dụng."))
    return redirect(url_for("staff.desk_detail", desk_id=desk.id))


@bp.post("/desks/<int:desk_id>/sectors")
def desk_sectors(desk_id: int):
    desk = _desk(desk_id, "desk.manage")
    form = ActionForm()
    if not form.validate_on_submit():
        return _desk_page(desk, INVALID, sectors_form=form)
    try:
        changed = org_desks.set_sectors(get_session(), g.user, desk, request.form.getlist("sector"))
    except OrgError as exc:
        return _desk_page(desk, INVALID, org_words.text(exc.code, value=exc.value))
    if not changed:
        flash(_("Lĩnh vực của quầy không thay đổi."))
    elif not desk.sectors:
        flash(_("Đã bỏ hết lĩnh vực của quầy: phiếu qua mã QR sẽ không ghi lĩnh vực."))
    elif len(desk.sectors) == 1:
        flash(
            _(
                "Đã lưu: mọi phiếu qua mã QR của quầy thuộc lĩnh vực %(name)s.",
                name=desk.sectors[0].name,
            )
        )
    else:
        flash(_("Đã lưu lĩnh vực của quầy: phiếu khảo sát sẽ hỏi người dân thuộc lĩnh vực nào."))
    return redirect(url_for("staff.desk_detail", desk_id=desk.id))


# --- shared tablets (kiosk mode, survey.services.kiosks) ----------------------
@bp.post("/desks/<int:desk_id>/kiosks")
def kiosk_register(desk_id: int):
    """Make THIS browser the desk's tablet: it will be handed to citizens, so the
    staff session on it ends and it lands on the desk's survey page."""
    desk = _desk(desk_id, "desk.manage")
    form = KioskForm()
    if not form.validate_on_submit():
        return _desk_page(desk, INVALID, kiosk_form=form)
    device, token = kiosks.register(get_session(), g.user, desk, form.label.data)
    # This browser only: the manager's sessions elsewhere go on.
    cookie.clear()
    # A path, not url_for: the citizen blueprint's endpoints are not this module's business.
    resp = redirect(desk_svc.survey_url("", desk.code))
    kiosk_cookie.set_cookie(resp, device.id, token)
    return resp


@bp.post("/kiosks/<int:device_id>/revoke")
def kiosk_revoke(device_id: int):
    device = found(kiosks.get_device(get_session(), g.user, device_id))
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    if kiosks.revoke(get_session(), g.user, device):
        flash(
            _(
                "Đã thu hồi máy tính bảng %(label)s: máy này hiển thị phiếu thông thường.",
                label=device.label,
            )
        )
    return redirect(url_for("staff.desk_detail", desk_id=device.desk_id))


# --- posters (rendering lives in survey.posters) -------------------------------
@bp.get("/units/<int:unit_id>/posters.pdf")
def unit_posters(unit_id: int):
    from survey.posters import SIZES, PosterError, posters_for_unit, render_posters

    unit = unit_or_404(unit_id, "poster.print")
    size = request.args.get("size", "a4")
    if size not in SIZES:
        abort(404)
    try:
        desks = posters_for_unit(get_session(), settings().BASE_URL, unit.code)
    except PosterError:
        flash(_("Đơn vị chưa có quầy nào đang hoạt động để in áp phích."))
        return redirect(url_for("staff.unit_detail", unit_id=unit.id))
    return Response(
        render_posters(desks, size),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="posters-{unit.code}-{size}.pdf"'},
    )


@bp.get("/desks/<int:desk_id>/poster.pdf")
def desk_poster(desk_id: int):
    """The poster of one desk (A4, A5 tent card or A6 stickers), as ``survey posters --desk``."""
    from survey.posters import SIZES, PosterError, posters_for_unit, render_posters

    desk = _desk(desk_id, "poster.print")
    size = request.args.get("size", "a4")
    if size not in SIZES:
        abort(404)
    try:
        desks = posters_for_unit(get_session(), settings().BASE_URL, desk.unit.code, desk.code)
    except PosterError:  # a stopped desk: its code leads to a closed page
        flash(_("Quầy đã ngừng: mở lại quầy trước khi in áp phích."))
        return redirect(url_for("staff.desk_detail", desk_id=desk.id))
    return Response(
        render_posters(desks, size),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="poster-{desk.code}-{size}.pdf"'},
    )


@bp.get("/desks/<int:desk_id>/qr.<any(png, svg):fmt>")
def desk_qr(desk_id: int, fmt: str):
    from survey.posters import qr_png, qr_svg

    desk = _desk(desk_id, "poster.print")
    url = desk_svc.survey_url(settings().BASE_URL, desk.code)
    if fmt == "png":
        return Response(qr_png(url, box_size=20), mimetype="image/png")
    return Response(qr_svg(url), mimetype="image/svg+xml")
