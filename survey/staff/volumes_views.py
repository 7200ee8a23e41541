"""Transaction volumes: upload a file, preview it, confirm it; a unit's monthly table."""

from __future__ import annotations

from dataclasses import replace

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from survey.extensions import csrf
from survey.messages import volumes as volume_words
from survey.services import access
from survey.services import volumes as volume_svc
from survey.services.volumes import template as volume_template
from survey.staff import bp
from survey.staff.forms import ActionForm as VolumeGridForm
from survey.staff.forms import VolumeConfirmForm, VolumeUploadForm
from survey.staff.plumbing import INVALID, query_year, today, unit_or_404
from survey.web_db import get_session


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
    db = get_session()
    parsed, plan = volume_svc.prepare(db, g.user, data, today())
    token = volume_svc.stage(db, g.user, parsed, filename) if plan.ok else None
    return _preview(plan, filename, token)


LAYOUT_NAMES = {
    volume_svc.DESK: _l("theo quầy (Mã quầy, Tháng, Số hồ sơ)"),
    volume_svc.UNIT_SECTOR: _l("theo đơn vị và lĩnh vực (Mã đơn vị, Mã lĩnh vực, Tháng, Số hồ sơ)"),
}
COLUMN_NAMES = {
    "desk": _l("Mã quầy"),
    "month": _l("Tháng"),
    "count": _l("Số hồ sơ"),
    "unit": _l("Mã đơn vị"),
    "sector": _l("Mã lĩnh vực"),
}


def _layout_hint(plan: volume_svc.Plan) -> str | None:
    """When the headers fit neither layout: the closest one, and what it lacks."""
    missing = [i.column for i in plan.issues if i.code == "missing_column" and i.column]
    if not missing or plan.kind is None:
        return None
    return _(
        "Dòng tiêu đề gần nhất với dạng %(layout)s; còn thiếu cột: %(missing)s.",
        layout=str(LAYOUT_NAMES[plan.kind]),
        missing=", ".join(str(COLUMN_NAMES.get(c, c)) for c in missing),
    )


def _preview(plan: volume_svc.Plan, filename: str, token: str | None):
    # Columns named as the file heads them ("cột Tháng"), when it does.
    messages = [
        volume_words.describe(replace(i, column=plan.headers.get(i.column or "", i.column)))
        for i in plan.issues
    ]
    hint = _layout_hint(plan)
    if hint:
        messages.insert(0, hint)
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
    db = get_session()
    staged = volume_svc.take_staged(db, g.user, form.token.data)
    if staged is None:
        form = VolumeUploadForm(formdata=None)
        form.file.errors = [
            _("Bản xem trước đã hết hạn hoặc đã được xác nhận. Xin tải tệp lên lại.")
        ]
        return render_template("staff/volumes.html", form=form), 409
    parsed, filename = staged
    plan = volume_svc.check(db, g.user, parsed)
    if not plan.ok:  # a 422: the staged upload is kept (the transaction rolls back)
        return _preview(plan, filename, None)
    result = volume_svc.apply(db, g.user, plan, filename)
    flash(
        _(
            "Đã nhập %(rows)d dòng: %(new)d dòng mới, %(replaced)d dòng thay thế số liệu đã có.",
            **result,
        )
    )
    return redirect(url_for("staff.volumes"))


@bp.get("/units/<int:unit_id>/volumes/template.<any(csv, xlsx):fmt>")
def volumes_template(unit_id: int, fmt: str):
    """The file to fill in: the unit's active desks × the last 12 months, stored counts in."""
    unit = unit_or_404(unit_id, "volume.import")
    rows = volume_template.template_rows(get_session(), g.user, unit, today())
    if fmt == "csv":
        body, mimetype = volume_template.template_csv(rows), "text/csv"
    else:
        body = volume_template.template_xlsx(rows)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="so-ho-so-{unit.code}.{fmt}"'},
    )


def _grid(unit, posted=None):
    """The manual entry grid: the unit's active desks × the last 12 months.

    ``posted``: the values typed (kept when the grid is refused), else the stored counts.
    """
    if not access.can(g.user, "volume.import", unit.id):
        return None
    rows = volume_template.template_rows(get_session(), g.user, unit, today())
    months = volume_template.last_months(today())
    desks: dict[str, dict] = {}
    for code, name, month, count in rows:
        desk = desks.setdefault(code, {"code": code, "name": name, "cells": []})
        key = f"c-{code}-{month[3:]}-{month[:2]}"
        stored = "" if count is None else str(count)
        value = posted.get(key, "") if posted is not None else stored
        desk["cells"].append({"name": key, "value": value, "stored": stored})
    return {"months": months, "desks": list(desks.values())}


@bp.get("/units/<int:unit_id>/volumes")
def unit_volumes(unit_id: int):
    unit = unit_or_404(unit_id, "volume.view")
    year, status = query_year(), 200
    if year is None:
        year, status = today().year, 400
    return _volumes_page(unit, year, status)


def _volumes_page(unit, year: int, status: int = 200, posted=None, grid_errors=()):
    table = volume_svc.monthly_table(get_session(), g.user, unit, year)
    return render_template(
        "staff/unit_volumes.html",
        unit=unit,
        table=table,
        grid=_grid(unit, posted),
        grid_errors=list(grid_errors),
        grid_form=VolumeGridForm(formdata=None),
        can_import=access.can(g.user, "volume.import", unit.id),
    ), status


@bp.post("/units/<int:unit_id>/volumes")
def volumes_grid(unit_id: int):
    """Save the grid: the changed cells only, all or nothing, as a file import would."""
    unit = unit_or_404(unit_id, "volume.import")
    if not VolumeGridForm().validate_on_submit():
        abort(400)
    grid = _grid(unit)
    cells, labels = [], {}
    for desk in grid["desks"]:
        for cell, month in zip(desk["cells"], grid["months"], strict=True):
            typed = (request.form.get(cell["name"]) or "").strip()[:40]
            if typed == cell["stored"] or not typed:
                continue  # unchanged, or not entered (a stored count is never erased here)
            cells.append((desk["code"], month, typed))
            labels[len(cells)] = f"{desk['name']}, {month:%m/%Y}"
    if not cells:
        flash(_("Không có ô nào thay đổi."))
        return redirect(url_for("staff.unit_volumes", unit_id=unit.id))
    db = get_session()
    plan = volume_svc.check(db, g.user, volume_svc.parse_grid(cells, today()))
    if not plan.ok:
        errors = [
            f"{labels.get(i.row, '')}: {volume_words.text(i.code, value=i.value)}"
            for i in plan.issues
        ]
        return _volumes_page(unit, today().year, INVALID, request.form, errors)
    result = volume_svc.apply(db, g.user, plan, _("bảng nhập tay"))
    flash(
        _(
            "Đã lưu %(rows)d ô: %(new)d ô mới, %(replaced)d ô sửa số liệu đã có.",
            **result,
        )
    )
    return redirect(url_for("staff.unit_volumes", unit_id=unit.id))
