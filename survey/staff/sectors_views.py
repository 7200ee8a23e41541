"""Sectors and sector groups (admins): the lists, new ones, names and groups."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from survey.models import Sector, SectorGroup
from survey.services import access
from survey.services.org import OrgError
from survey.services.org import sectors as org_sectors
from survey.staff import bp
from survey.staff.forms import SectorForm, SectorGroupForm, choices
from survey.staff.plumbing import INVALID, found, org_message
from survey.web_db import get_session


def _sectors_page(status: int = 200, sector_form=None, group_form=None):
    db = get_session()
    if sector_form is None:
        sector_form = SectorForm(formdata=None)
    sector_form.group.choices = _sector_group_choices(db)
    return render_template(
        "staff/sectors.html",
        sectors=org_sectors.list_sectors(db),
        groups=org_sectors.list_groups(db),
        sector_form=sector_form,
        group_form=group_form or SectorGroupForm(formdata=None),
    ), status


def _sector_group_choices(db):
    return choices(
        [("", _("Không thuộc nhóm"))]
        + [(grp.id, f"{grp.code} – {grp.name}") for grp in org_sectors.list_groups(db)]
    )


@bp.get("/sectors")
def sectors():
    access.require(g.user, "sector.manage")
    return _sectors_page()


@bp.post("/sectors")
def sector_create():
    access.require(g.user, "sector.manage")
    db = get_session()
    form = SectorForm()
    form.group.choices = _sector_group_choices(db)
    if form.validate_on_submit():
        try:
            org_sectors.create_sector(
                db,
                g.user,
                code=form.code.data,
                name=form.name.data,
                name_en=form.name_en.data or "",
                group_id=int(form.group.data) if form.group.data else None,
            )
        except OrgError as exc:
            getattr(form, {"group": "group"}.get(exc.field, "code")).errors.append(
                org_message(exc.code)
            )
        else:
            flash(_("Đã thêm lĩnh vực."))
            return redirect(url_for("staff.sectors"))
    return _sectors_page(INVALID, sector_form=form)


@bp.route("/sectors/<int:sector_id>", methods=["GET", "POST"])
def sector_edit(sector_id: int):
    access.require(g.user, "sector.manage")
    db = get_session()
    sector = found(db.get(Sector, sector_id))
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
            org_sectors.update_sector(
                db,
                g.user,
                sector,
                name=form.name.data,
                name_en=form.name_en.data or "",
                group_id=int(form.group.data) if form.group.data else None,
            )
            flash(_("Đã lưu lĩnh vực."))
            return redirect(url_for("staff.sectors"))
    status = INVALID if request.method == "POST" else 200
    return render_template("staff/sector_edit.html", sector=sector, form=form), status


@bp.post("/sector-groups")
def group_create():
    access.require(g.user, "sector.manage")
    form = SectorGroupForm()
    if form.validate_on_submit():
        try:
            org_sectors.create_group(
                get_session(),
                g.user,
                code=form.code.data,
                name=form.name.data,
                name_en=form.name_en.data or "",
            )
        except OrgError as exc:
            form.code.errors.append(org_message(exc.code))
        else:
            flash(_("Đã thêm nhóm lĩnh vực."))
            return redirect(url_for("staff.sectors"))
    return _sectors_page(INVALID, group_form=form)


@bp.route("/sector-groups/<int:group_id>", methods=["GET", "POST"])
def group_edit(group_id: int):
    access.require(g.user, "sector.manage")
    db = get_session()
    group = found(db.get(SectorGroup, group_id))
    if request.method == "GET":
        form = SectorGroupForm(
            formdata=None, code=group.code, name=group.name, name_en=group.name_en
        )
    else:
        form = SectorGroupForm()
        form.code.data = group.code
        if form.validate_on_submit():
            org_sectors.update_group(
                db, g.user, group, name=form.name.data, name_en=form.name_en.data or ""
            )
            flash(_("Đã lưu nhóm lĩnh vực."))
            return redirect(url_for("staff.sectors"))
    status = INVALID if request.method == "POST" else 200
    return render_template("staff/group_edit.html", group=group, form=form), status
