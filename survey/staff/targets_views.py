"""A unit's yearly targets: the ones it sets, and the ones it inherits."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from survey.messages import org as org_words
from survey.models import SectorGroup
from survey.reports.texts import target_provenance
from survey.services import units
from survey.services.org import OrgError
from survey.services.org import sectors as org_sectors
from survey.services.org import targets as org_targets
from survey.staff import bp
from survey.staff.forms import ActionForm, TargetForm, choices
from survey.staff.plumbing import INVALID, found, percent, query_year, today, unit_or_404
from survey.web_db import get_session


def _group_choices(db):
    return choices(
        [("", _("Chung (mọi lĩnh vực)"))]
        + [(grp.id, grp.name) for grp in org_sectors.list_groups(db)]
    )


def _targets_page(unit, form: TargetForm, status: int = 200):
    db = get_session()
    year = query_year()
    if year is None:
        year, status = today().year, 400
    groups = org_sectors.list_groups(db)
    effective = []
    for grp in [None, *groups]:
        target = org_targets.effective_target(db, unit, year, grp.id if grp else None)
        line = ""
        if target is not None:
            line = target_provenance(org_targets.provenance(db, target, unit), "vi", _)
        effective.append((grp, target, line))
    return render_template(
        "staff/targets.html",
        unit=unit,
        targets=org_targets.targets_of_unit(db, g.user, unit),
        groups={grp.id: grp for grp in groups},
        effective=effective,
        year=year,
        form=form,
        action_form=ActionForm(formdata=None),
        units_by_id={u.id: u for u in units.ancestors(unit)},
    ), status


@bp.route("/units/<int:unit_id>/targets", methods=["GET", "POST"])
def targets(unit_id: int):
    db = get_session()
    if request.method == "GET":
        unit = unit_or_404(unit_id, "target.view")
        form = TargetForm(formdata=None, year=str(today().year))
        form.group.choices = _group_choices(db)
        return _targets_page(unit, form)
    unit = unit_or_404(unit_id, "target.manage")
    form = TargetForm()
    form.group.choices = _group_choices(db)
    if not form.validate_on_submit():
        return _targets_page(unit, form, INVALID)
    try:
        _target, created = org_targets.set_target(
            db,
            g.user,
            unit,
            year=form.year_value,
            threshold=form.share,
            sector_group_id=int(form.group.data) if form.group.data else None,
            source=form.source.data or "",
        )
    except org_targets.BelowInherited as exc:
        # A unit may raise what it inherits, never lower it (nothing was written).
        inherited_from = exc.from_unit.name if exc.from_unit else ""
        form.threshold.errors.append(
            org_words.text(
                exc.code, inherited=percent(exc.inherited.threshold), unit=inherited_from
            )
        )
        return _targets_page(unit, form, INVALID)
    except OrgError as exc:
        field = getattr(form, exc.field, form.threshold)
        field.errors.append(org_words.text(exc.code, value=exc.value))
        return _targets_page(unit, form, INVALID)
    flash(_("Đã thêm chỉ tiêu.") if created else _("Đã cập nhật chỉ tiêu."))
    return redirect(url_for("staff.targets", unit_id=unit.id))


@bp.route("/targets/<int:target_id>/delete", methods=["GET", "POST"])
def target_delete(target_id: int):
    db = get_session()
    target = found(org_targets.get_target(db, g.user, target_id, "target.manage"))
    if request.method == "GET":  # ask first (no JavaScript): the POST below deletes
        grp = db.get(SectorGroup, target.sector_group_id) if target.sector_group_id else None
        group = grp.name if grp is not None else _("Chung (mọi lĩnh vực)")
        return render_template(
            "staff/confirm.html",
            title=_("Xóa chỉ tiêu"),
            subject=_(
                "Chỉ tiêu năm %(year)d, %(group)s: %(value)s",
                year=target.year,
                group=group,
                value=percent(target.threshold),
            ),
            consequence=_(
                "Đơn vị và các đơn vị trực thuộc sẽ được đánh giá theo chỉ tiêu kế thừa từ cấp "
                "trên (nếu có); kết quả “Đạt/Không đạt” của năm này có thể thay đổi."
            ),
            button=_("Xóa chỉ tiêu"),
            action=request.path,
            cancel=url_for("staff.targets", unit_id=target.unit_id, year=target.year),
            form=ActionForm(formdata=None),
            warn=True,
        )
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    unit_id = target.unit_id
    org_targets.delete_target(db, g.user, target)
    flash(_("Đã xóa chỉ tiêu."))
    return redirect(url_for("staff.targets", unit_id=unit_id))
