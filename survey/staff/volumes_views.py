"""Transaction volumes: upload a file, preview it, confirm it; a unit's monthly table."""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from survey.extensions import csrf
from survey.messages import volumes as volume_words
from survey.services import access
from survey.services import volumes as volume_svc
from survey.staff import bp
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


def _preview(plan: volume_svc.Plan, filename: str, token: str | None):
    messages = [volume_words.describe(i) for i in plan.issues]
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


@bp.get("/units/<int:unit_id>/volumes")
def unit_volumes(unit_id: int):
    unit = unit_or_404(unit_id, "volume.view")
    year, status = query_year(), 200
    if year is None:
        year, status = today().year, 400
    table = volume_svc.monthly_table(get_session(), g.user, unit, year)
    return render_template("staff/unit_volumes.html", unit=unit, table=table), status
