"""Results dashboard and report exports under /staff/reports (the staff blueprint).

Views parse the query string and render; the selection is checked against
the user's scope in ``reports.selection.resolve`` (``results.view`` for the
dashboard, ``results.export`` for files), so a unit, desk or job of another
subtree is a 403 (or 404) however the URL is written.

Large exports never hold a request open: the response file (CSV) streams
chunk by chunk, and a JSON, Excel or PDF report of more than
``REPORTS_INLINE_MAX_RESPONSES`` responses is built by a background job with
a status page; so is a dashboard that reads more than
``REPORTS_DASHBOARD_MAX_RESPONSES`` responses from the live tables or more than
``REPORTS_DASHBOARD_MAX_CELLS`` cells from the closed months' summaries
(``survey worker`` runs them, docs/jobs.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

from flask import (
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from survey import clock, config
from survey.messages import selection as selection_words
from survey.models import Desk, Unit
from survey.reports import csv_export, dashboard, export, jobs, rollup, selection
from survey.reports.build import build_for, whole_design
from survey.reports.selection import SelectionError
from survey.services import access, units
from survey.services.org import sectors as org_sectors
from survey.services.org import units as org_units
from survey.staff import bp
from survey.staff.forms import ActionForm
from survey.web_db import get_db, get_session

FIELDS = ("unit", "from", "to", "desk", "sector", "group", "q")
FORMATS = ("json", "xlsx", "pdf", "docx")


def _today():
    return clock.local_today(config.settings().TIMEZONE)


def _locale() -> str:
    return str(get_locale() or "vi")


def _raw(source) -> dict[str, str]:
    """The selection fields as sent (first value of each, trimmed and bounded)."""
    return {k: (source.get(k) or "").strip()[:64] for k in FIELDS}


def _values(raw: dict[str, str]) -> dict:
    """Keyword arguments for ``build`` / ``selection.resolve``."""
    return {
        "unit": raw["unit"] or None,
        "start": selection.parse_day(raw["from"], "from"),
        "end": selection.parse_day(raw["to"], "to"),
        "desk": raw["desk"] or None,
        "sector": raw["sector"] or None,
        "group": raw["group"] or None,
        "questionnaire": raw["q"] or None,
    }


def _choices(db, unit_ids: frozenset[int] | set[int] | None) -> dict:
    tree = org_units.unit_tree(db, g.user)
    desks = []
    if unit_ids:
        desks = list(
            db.execute(
                select(Desk.code, Desk.name, Unit.code)
                .join(Unit, Desk.unit_id == Unit.id)
                .where(Desk.unit_id.in_(sorted(unit_ids)))
                .order_by(Unit.code, Desk.name)
            )
        )
    return {
        "tree": tree,
        "desks": desks,
        "sectors": org_sectors.list_sectors(db),
        "groups": org_sectors.list_groups(db),
    }


def _error_page(raw: dict[str, str], message: str, status: int = 400):
    db = get_session()
    home = db.get(Unit, g.user.unit_id) if g.user.unit_id else None
    ids = units.subtree_ids(db, home.id) if home else set()
    return render_template(
        "reports/dashboard.html",
        raw=raw,
        error=message,
        model=None,
        report=None,
        versions=[],
        **_choices(db, ids),
    ), status


@bp.get("/reports")
def reports():
    raw = _raw(request.args)
    db = get_session()
    try:
        values = _values(raw)
        sel = selection.resolve(db, g.user, today=_today(), **values)
    except SelectionError as exc:
        return _error_page(raw, selection_words.text(exc.code, value=exc.value))
    # The responses the report will read: counted by resolve already, unless a
    # sector or group is estimated as a domain of its whole unit's design.
    whole = sel.sector is None and sel.group is None
    total = sel.n_received if whole else selection.count_responses(db, whole_design(sel))
    # Closed months come from their summaries: their cells count, not their responses.
    stored, cells = rollup.summarised(db, sel, rollup.covered_months(db, sel))
    settings = config.settings()
    if (
        max(total - stored, 0) > settings.REPORTS_DASHBOARD_MAX_RESPONSES
        or cells > settings.REPORTS_DASHBOARD_MAX_CELLS
    ):
        # Too large to build within the web server's timeout: the worker builds
        # it behind a progress page (the same job again if just asked for).
        app = current_app._get_current_object()
        params = jobs.encode_params(values, _today(), _locale())
        job = jobs.reusable_dashboard(app, g.user.id, params) or jobs.start(
            app,
            user_id=g.user.id,
            kind="dashboard",
            fmt="html",
            values=values,
            today=_today(),
            total=total,
            filename=_("Bảng kết quả"),
            locale=_locale(),
        )
        return redirect(url_for("staff.report_job", token=job.token), code=303)
    report = build_for(db, sel)
    codes = sorted({c.unit for c in report.treated_cells if c.unit})
    return _dashboard_page(sel, dashboard.dashboard(report, _locale(), _), report, codes)


def _dashboard_page(sel, model: dict, report, codes: list[str]):
    """The dashboard of ``sel`` from its formatted ``model`` (built here or by a job)."""
    db = get_session()
    args = sel.args()
    # Units of the desks weighted without their own volume: their volume pages are linked.
    volume_units = (
        {
            code: uid
            for code, uid in db.execute(select(Unit.code, Unit.id).where(Unit.code.in_(codes)))
        }
        if codes
        else {}
    )
    return render_template(
        "reports/dashboard.html",
        raw={k: args.get(k, "") for k in FIELDS},
        error=None,
        report=report,
        model=model,
        versions=[(v.key, n) for v, n in sel.versions],
        volume_units=volume_units,
        args=args,
        can_export=access.can(g.user, "results.export", sel.unit.id),
        **_choices(db, sel.unit_ids),
    )


def _export_selection(raw: dict[str, str]):
    return selection.resolve(
        get_session(), g.user, today=_today(), action="results.export", **_values(raw)
    )


def _attachment(payload: bytes, fmt: str, name: str) -> Response:
    return Response(
        payload,
        mimetype=export.MIMETYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/reports/export.<any(json, xlsx, pdf, docx):fmt>")
def report_export(fmt: str):
    raw = _raw(request.args)
    db = get_session()
    try:
        sel = _export_selection(raw)
    except SelectionError as exc:
        return _error_page(raw, selection_words.text(exc.code, value=exc.value))
    total = selection.count_responses(db, sel)
    limit = config.settings().REPORTS_INLINE_MAX_RESPONSES
    if total > limit:
        return render_template(
            "reports/job_start.html",
            fmt=fmt,
            total=total,
            args=sel.args(),
            form=ActionForm(formdata=None),
        )
    report = build_for(db, sel)
    return _attachment(export.render(db, report, fmt), fmt, export.filename(sel, fmt))


@bp.post("/reports/jobs")
def report_job_start():
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    fmt = request.form.get("fmt", "")
    if fmt not in FORMATS:
        abort(400)
    raw = _raw(request.form)
    try:
        values = _values(raw)
        sel = _export_selection(raw)
    except SelectionError as exc:
        return _error_page(raw, selection_words.text(exc.code, value=exc.value))
    job = jobs.start(
        current_app._get_current_object(),
        user_id=g.user.id,
        fmt=fmt,
        values=values,
        today=_today(),
        total=selection.count_responses(get_session(), sel),
        filename=export.filename(sel, fmt),
        locale=_locale(),
    )
    return redirect(url_for("staff.report_job", token=job.token), code=303)


@bp.get("/reports/jobs/<token>")
def report_job(token: str):
    app = current_app._get_current_object()
    job = jobs.get(app, token, g.user.id)
    if job is None:
        abort(404)
    if job.kind == "dashboard" and job.status == "done":
        return _job_dashboard(app, job)
    resp = Response(render_template("reports/job.html", job=job))
    if job.status in ("queued", "running"):
        resp.headers["Refresh"] = "2"
    return resp


def _job_dashboard(app, job):
    """A dashboard the worker built: the selection checked again, the stored figures shown."""
    values, today, _locale_asked = jobs.decode_params(job.params)
    try:
        sel = selection.resolve(get_session(), g.user, today=today, **values)
    except SelectionError as exc:
        return _error_page(_raw({}), selection_words.text(exc.code, value=exc.value))
    stored = jobs.dashboard_result(jobs.get(app, job.token, g.user.id, with_result=True))
    report = SimpleNamespace(selection=sel, weighted=stored["weighted"])
    return _dashboard_page(sel, stored["model"], report, stored["volume_units"])


@bp.get("/reports/jobs/<token>/file")
def report_job_file(token: str):
    app = current_app._get_current_object()
    job = jobs.get(app, token, g.user.id, with_result=True)
    if job is None or job.status != "done" or job.kind != "export":
        abort(404)
    return _attachment(job.result or b"", job.fmt, job.filename)


@bp.get("/reports/data.csv")
def report_csv():
    raw = _raw(request.args)
    try:
        sel = _export_selection(raw)
    except SelectionError as exc:
        return _error_page(raw, selection_words.text(exc.code, value=exc.value))
    # Streamed: the rows are read and sent chunk by chunk, whatever the size.
    return Response(
        _csv_body(get_db(), sel, _dialect()),
        mimetype=export.MIMETYPES["csv"],
        headers={"Content-Disposition": f'attachment; filename="{export.filename(sel, "csv")}"'},
    )


def _dialect() -> str:
    """``?dialect=vn``: ``;`` and decimal commas, for Excel set to Vietnamese."""
    return "vn" if request.args.get("dialect") == "vn" else "rfc"


def _csv_body(database, sel, dialect: str = "rfc") -> Iterator[str]:
    """The CSV rows, read in a session of their own.

    The request's session is closed as soon as the view returns, before the
    server reads the body; one opened here is closed when the download ends
    or is cut off (the server closes the generator), so no connection is left
    checked out.
    """
    with database.session() as session:
        yield from csv_export.rows(session, sel, dialect=dialect)


@bp.get("/reports/codebook.csv")
def report_codebook():
    raw = _raw(request.args)
    try:
        sel = _export_selection(raw)
    except SelectionError as exc:
        return _error_page(raw, selection_words.text(exc.code, value=exc.value))
    name = export.filename(sel, "csv", "-codebook")
    return Response(
        csv_export.codebook(get_session(), sel, dialect=_dialect()),
        mimetype=export.MIMETYPES["csv"],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
