"""The dashboard, the unit tree, a unit's page, new units, a unit's questionnaire."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from survey.models import Unit
from survey.services import access, units
from survey.services import questionnaires as qsvc
from survey.services.org import OrgError, assignment
from survey.services.org import desks as org_desks
from survey.services.org import units as org_units
from survey.staff import bp
from survey.staff.forms import AssignmentForm, UnitForm
from survey.staff.plumbing import INVALID, org_message, unit_or_404, version_choices
from survey.web_db import get_session


@bp.get("/")
def dashboard():
    from survey.staff import home as home_page

    home = get_session().get(Unit, g.user.unit_id)
    work = home_page.work(get_session(), g.user, home)
    return render_template("staff/dashboard.html", home=home, work=work)


@bp.get("/units")
def unit_list():
    tree = org_units.unit_tree(get_session(), g.user)
    return render_template("staff/units.html", tree=tree)


def _unit_page(unit, status: int = 200, assign_form: AssignmentForm | None = None):
    db = get_session()
    if assign_form is None:
        assign_form = AssignmentForm(
            formdata=None, version=str(unit.questionnaire_version_id or "")
        )
    assign_form.version.choices = version_choices(db)
    chain = [u for u in reversed(units.ancestors(unit)) if access.can(g.user, "unit.view", u.id)]
    # The nearest unit (itself first) with an assignment; none: the default form (qsvc.DEFAULT_FORMS).
    inherited = next(
        (u for u in units.ancestors(unit) if u.questionnaire_version_id is not None), None
    )
    versions = {v.id: v for v in assignment.published_versions(db)}
    return render_template(
        "staff/unit.html",
        unit=unit,
        chain=chain,
        children=sorted(unit.children, key=lambda u: u.code),
        desks=org_desks.desks_of_unit(db, g.user, unit),
        assign_form=assign_form,
        served=(
            versions.get(inherited.questionnaire_version_id) if inherited else qsvc.default(db)
        ),
        inherited=inherited,
    ), status


@bp.get("/units/<int:unit_id>")
def unit_detail(unit_id: int):
    return _unit_page(unit_or_404(unit_id))


@bp.route("/units/<int:unit_id>/new", methods=["GET", "POST"])
def unit_create(unit_id: int):
    parent = unit_or_404(unit_id, "unit.create")
    form = UnitForm()
    if form.validate_on_submit():
        try:
            unit = org_units.create_unit(
                get_session(),
                g.user,
                parent,
                code=form.code.data,
                name=form.name.data,
                kind=form.kind.data,
            )
        except OrgError as exc:
            getattr(form, exc.field).errors.append(org_message(exc.code))
        else:
            flash(_("Đã tạo đơn vị %(name)s.", name=unit.name))
            return redirect(url_for("staff.unit_detail", unit_id=unit.id))
    status = INVALID if request.method == "POST" else 200
    return render_template("staff/unit_new.html", parent=parent, form=form), status


@bp.post("/units/<int:unit_id>/questionnaire")
def unit_assign(unit_id: int):
    unit = unit_or_404(unit_id, "unit.view")
    access.require(g.user, "questionnaire.assign", unit.id)
    form = AssignmentForm()
    form.version.choices = version_choices(get_session())
    if not form.validate_on_submit():
        return _unit_page(unit, INVALID, form)
    version_id = int(form.version.data) if form.version.data else None
    assignment.assign_questionnaire(get_session(), g.user, unit, version_id)
    flash(_("Đã lưu phiếu khảo sát áp dụng."))
    return redirect(url_for("staff.unit_detail", unit_id=unit.id))
