"""Citizen pages: parse the request, call services, render. No logic here."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import (
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as session_cookie
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import ValidationError, generate_csrf, validate_csrf

from survey import clock, i18n, keys
from survey.config import settings
from survey.extensions import csrf, limiter
from survey.i18n import LOCALES
from survey.public import bp, form_errors, kiosk, limits, open_forms, page_cache
from survey.services import feedback, kiosks, links, public_desks, submission
from survey.services.form_check import (
    MAX_COMMENT,
    MAX_CONTACT,
    CheckedForm,
    check_contact,
    check_form,
    check_late_comment,
)
from survey.web_db import get_session


def _desk_or_page(code: str):
    """The active desk for a poster code, or the response to send instead."""
    found = public_desks.lookup(get_session(), code)
    if found.desk is None:
        if found.replaced:
            return None, (render_template("errors/replaced.html"), 410)
        abort(404)
    if not found.desk.active:
        return None, (render_template("public/inactive.html", desk=found.desk), 410)
    return found.desk, None


def _asked_sectors(desk, link: links.Claims | None):
    """The sectors the page asks about: a QR code of a desk serving several.

    A desk with one sector needs no question, and a case link says its own."""
    return desk.sectors if link is None and len(desk.sectors) > 1 else ()


def _sector_id(desk, checked: CheckedForm, link: links.Claims | None) -> int | None:
    """The response's sector: the link's, else the desk's only one, else the answer
    to the sector question (None: "Không rõ", or a desk without sectors)."""
    if link is not None and link.sector is not None:
        return links.sector_id(get_session(), link.sector)
    if len(desk.sectors) == 1:
        return desk.sectors[0].id
    return next((s.id for s in desk.sectors if s.code == checked.sector), None)


def _render_form(
    desk,
    q,
    *,
    sid,
    action,
    values=None,
    checked=None,
    status=200,
    sectors=(),
    wait=None,
    channel="qr",
):
    errors = checked.errors if checked else {}
    resp = make_response(
        render_template(
            "public/survey.html",
            desk=desk,
            action=action,
            q=q,
            sectors=sectors,
            lang=g.lang,
            other_lang="en" if g.lang == "vi" else "vi",
            sid=sid,
            values=values or {},
            errors=errors,
            summary=form_errors.summary(q, errors, values or {}),
            form_errors=checked.form_errors if checked else [],
            wait=wait,
            channel=channel,
        ),
        status,
    )
    # A form fetched by GET is never restored from the browser's cache: after a
    # submission, Back asks the server again and gets "đã gửi lúc …".  A form
    # sent back by a POST (errors, the language switch) may be kept for Back:
    # no-store there would make Back from the thanks page ask "Confirm Form
    # Resubmission"; sending that copy again gets "đã gửi lúc …", never thanks.
    resp.headers["Cache-Control"] = "no-store" if request.method == "GET" else "private, no-cache"
    if limits.device_id() is None:  # none yet, or not one of ours: a signed one
        resp.set_cookie(
            limits.DEVICE_COOKIE,
            submission.issue_device_id(settings().SECRET_KEY),
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return resp


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/s/<code>")
def survey_page(code: str):
    desk, page = _desk_or_page(code)
    if page:
        return page
    return _show_form(desk, url_for("public.survey_submit", code=desk.code), None)


def _keys() -> list[str]:
    return keys.verification_keys(settings())


def _entry_key(desk, link: links.Claims | None) -> str:
    return desk.code if link is None else open_forms.link_key(link.case_hash)


def _new_sid(desk, link: links.Claims | None = None) -> str:
    sid = submission.issue_submission_id(
        settings().SECRET_KEY, open_forms.binding(session_cookie, create=True)
    )
    open_forms.remember(session_cookie, _entry_key(desk, link), sid, done=False)
    return sid


def _show_form(desk, action: str, link: links.Claims | None):
    if desk.questionnaire is None:
        abort(503)
    key = _entry_key(desk, link)
    if link is None and request.args.get("moi"):
        # A new evaluation: a fresh id, then the plain desk URL, so that the
        # history never holds a URL that mints ids (Back after sending it must
        # find "đã gửi", not another blank form).
        _new_sid(desk)
        lang = request.args.get("lang")
        return redirect(
            url_for("public.survey_page", code=desk.code, lang=lang if lang in LOCALES else None),
            303,
        )
    entry = open_forms.current(session_cookie, key)
    tablet = link is None and kiosk.current(desk) is not None
    if entry is not None and entry["done"]:
        if not tablet:
            return _already_sent(desk, _local(datetime.fromtimestamp(entry["at"], ZoneInfo("UTC"))))
        entry = None  # a desk's tablet: the next citizen gets a fresh form
    if entry is not None:
        try:  # an id from before a key rotation, or older than its lifetime, is replaced
            submission.verify_submission_id(
                _keys(), entry["sid"], open_forms.binding(session_cookie)
            )
        except submission.SubmissionIdError:
            entry = None
    sid = _new_sid(desk, link) if entry is None else entry["sid"]
    return _render_form(
        desk,
        desk.questionnaire,
        sid=sid,
        action=action,
        sectors=_asked_sectors(desk, link),
        channel="link" if link is not None else "kiosk" if tablet else "qr",
    )


def _local(moment: datetime) -> datetime:
    """An instant (aware, or naive UTC as stored) in the unit's time zone."""
    if moment.tzinfo is None:
        return clock.local_time(moment, settings().TIMEZONE)
    return moment.astimezone(ZoneInfo(settings().TIMEZONE))


def _already_sent(desk, at: datetime | None, *, link: bool = False, status: int = 200):
    """The desk's page once this browser's evaluation is stored: when it was sent,
    and one button for a new one. Never a form whose answers would be dropped."""
    today = clock.local_today(settings().TIMEZONE)
    resp = make_response(
        render_template(
            "public/submitted.html",
            desk=desk,
            at=at,
            today=today,
            link=link,
            other_lang="en" if g.lang == "vi" else "vi",
        ),
        status,
    )
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _sent_before(desk, stored, link: links.Claims | None = None):
    return _already_sent(
        desk,
        _local(stored.submitted_at) if stored.submitted_at else None,
        link=link is not None,
    )


def _in_language(lang: str, render):
    """``render()`` in ``lang``, remembered for the next pages as ?lang= would be."""
    g.lang = lang
    with force_locale(lang):
        resp = render()
    i18n.remember(resp, lang, current_app.config["SESSION_COOKIE_SECURE"])
    return resp


def _cross_site() -> bool:
    """Whether the POST came from another site's page (as far as the browser tells)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site:
        return fetch_site == "cross-site"
    origin = request.headers.get("Origin")
    return origin is not None and (origin == "null" or urlsplit(origin).netloc != request.host)


def _survey_limited(limit):
    """A survey POST over a limit: nothing is stored, and instead of a bare 429
    page the form comes back with every answer kept and the wait in seconds."""
    args = request.view_args or {}
    link = None
    if request.endpoint == "public.link_submit":
        link, desk, page = _link_or_page(args.get("token", ""))
        action = url_for("public.link_submit", token=args.get("token", ""))
    else:
        desk, page = _desk_or_page(args.get("code", ""))
        action = url_for("public.survey_submit", code=desk.code) if desk else ""
    if page:
        return make_response(page)
    q = desk.questionnaire
    if q is None:
        return None
    seconds, message = limits.wait(limit)
    try:  # the form's own id when it is this browser's: a retry stays one answer
        sid = submission.verify_submission_id(
            _keys(), request.form.get("sid"), open_forms.binding(session_cookie)
        )
    except submission.SubmissionIdError:
        sid = _new_sid(desk, link)
    else:
        stored = submission.find_by_submission_id(get_session(), sid)
        if stored is not None and stored.desk_id == desk.id:  # stored before: say so
            return _sent_before(desk, stored, link)
    keep = not _cross_site()  # as in _stale_form: another site's answers are not kept
    sectors = _asked_sectors(desk, link)
    checked = check_form(request.form, q, [s.code for s in sectors]) if keep else CheckedForm()
    checked.form_errors.insert(0, message)
    resp = _render_form(
        desk,
        q,
        sid=sid,
        action=action,
        values=request.form if keep else None,
        checked=checked,
        status=429,
        sectors=sectors,
        wait=message,
        channel="qr" if link is None else "link",
    )
    resp.headers["Retry-After"] = str(seconds)
    return resp


def _comment_limited(limit):
    """A late comment over a limit: the thanks page again with the text kept."""
    desk, page = _desk_or_page((request.view_args or {}).get("code", ""))
    if page:
        return make_response(page)
    try:
        sid = submission.verify_submission_id(
            _keys(), request.form.get("sid"), open_forms.binding(session_cookie)
        )
    except submission.SubmissionIdError:
        return None  # not this browser's answer: the plain 429 page, as a 400 would be
    stored = submission.find_by_submission_id(get_session(), sid)
    if stored is None or stored.desk_id != desk.id:
        return None  # only a stored answer is thanked for
    seconds, message = limits.wait(limit)
    page = _thanks_page(
        desk,
        sid,
        comment_error=message,
        comment=(request.form.get("comment") or "")[:MAX_COMMENT],
        comment_kind=request.form.get("comment_kind"),
        **_typed_contact(),
    )
    return make_response(page, 429, {"Retry-After": str(seconds)})


@bp.post("/s/<code>")
@csrf.exempt  # checked in _submit, so a failure re-renders the form with the answers kept
@limiter.limit(limits.client_limits, key_func=limits.client_key, on_breach=_survey_limited)
@limiter.limit(limits.network_limits, key_func=limits.network_key, on_breach=_survey_limited)
@limiter.limit("120 per minute", key_func=limits.desk_key, on_breach=_survey_limited)
def survey_submit(code: str):
    desk, page = _desk_or_page(code)
    if page:
        return page
    return _submit(desk, url_for("public.survey_submit", code=desk.code))


def _submit(desk, action: str, link: links.Claims | None = None):
    """Validate and store one submission; shared by desk QR codes and case links."""
    session = get_session()
    secret = settings().SECRET_KEY
    q = desk.questionnaire
    if q is None:
        abort(503)
    try:
        sid = submission.verify_submission_id(
            _keys(), request.form.get("sid"), open_forms.binding(session_cookie)
        )
    except (submission.SubmissionIdUnbound, submission.SubmissionIdExpired) as exc:
        return _stale_form(
            desk,
            q,
            action,
            expired=isinstance(exc, submission.SubmissionIdExpired),
            sectors=_asked_sectors(desk, link),
            link=link,
        )
    except submission.SubmissionIdError:
        abort(400)
    sectors = _asked_sectors(desk, link)
    tablet = kiosk.current(desk) if link is None else None  # the desk's shared tablet
    channel = "link" if link is not None else "kiosk" if tablet is not None else "qr"
    if request.form.get("lang") in LOCALES:
        # The language switch inside the form: the same form in the other
        # language, every answer kept, nothing checked or stored.
        return _in_language(
            request.form["lang"],
            lambda: _render_form(
                desk,
                q,
                sid=sid,
                action=action,
                values=request.form,
                sectors=sectors,
                channel=channel,
            ),
        )
    checked = check_form(request.form, q, [s.code for s in sectors])
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        checked.form_errors.insert(
            0, _l("Phiên làm việc đã hết hạn. Câu trả lời vẫn được giữ, xin bấm Gửi lại.")
        )
    if not checked.ok:
        # A replay of an acknowledged submission (e.g. a retry after the
        # session expired) still gets its thanks page; valid replays are
        # recognised by the insert itself, so the common path skips this query.
        stored = submission.find_by_submission_id(session, sid)
        if stored is not None:
            return _sent_before(desk, stored, link)
        return _render_form(
            desk,
            q,
            sid=sid,
            action=action,
            values=request.form,
            checked=checked,
            status=400,
            sectors=sectors,
            channel=channel,
        )
    ctx = submission.Context(
        desk_id=desk.id,
        unit_id=desk.unit_id,
        questionnaire_version_id=desk.version_id,
        submission_id=sid,
        locale=g.lang,
        client_ip=request.remote_addr,
        device_id=limits.device_id(),
        sector_id=_sector_id(desk, checked, link),
    )
    if link is not None:
        ctx.channel = "link"
        ctx.procedure_code = link.procedure
        ctx.case_hash = link.case_hash
        if links.answered_elsewhere(session, link):  # through a link from before a rotation
            return render_template("public/case_done.html", desk=desk), 409
    if tablet is not None:  # the desk's shared tablet: a queue of citizens, one device
        ctx.channel = "kiosk"
        ctx.daily_cap = False
        kiosks.touch(session, tablet)
    try:
        result = submission.store(
            session,
            ctx,
            checked,
            secret,
            settings().TIMEZONE,
            settings().BURST_PER_NETWORK,
            settings().FEEDBACK_DUE_WORKING_DAYS,
        )
    except submission.CaseAlreadyAnswered:
        return render_template("public/case_done.html", desk=desk), 409
    if not result.created:  # this id was stored before: say when, thank for nothing new
        stored = submission.find_by_submission_id(session, sid)
        return _sent_before(desk, stored, link)
    open_forms.remember(session_cookie, _entry_key(desk, link), sid, done=True)
    open_forms.thank_for(session_cookie, desk.code, sid)
    # Post/redirect/get: Back and Forward never ask to resend the form.
    return redirect(url_for("public.thanks", code=desk.code), 303)


def _stale_form(desk, q, action: str, *, expired: bool, sectors=(), link=None):
    """A submission id this browser was not given, or too old: nothing is stored.

    An answer that was stored already (e.g. the session cookie was lost after
    sending) still gets its thanks page.  Otherwise the form comes back with a
    fresh id; the answers are kept for the citizen to send again, unless the
    POST came from another site, whose answers are not the citizen's.
    """
    posted = request.form.get("sid")
    stored = submission.find_by_submission_id(get_session(), posted)
    if stored is not None and stored.desk_id == desk.id:
        return _sent_before(desk, stored, link)
    keep = not _cross_site()
    checked = check_form(request.form, q, [s.code for s in sectors]) if keep else CheckedForm()
    if expired:
        message = _l("Phiếu đã mở quá 24 giờ. Câu trả lời vẫn được giữ, xin bấm Gửi lại.")
    elif keep:
        message = _l("Phiên làm việc đã hết hạn. Câu trả lời vẫn được giữ, xin bấm Gửi lại.")
    else:
        message = _l("Phiên làm việc đã hết hạn. Xin chọn lại các câu trả lời và bấm Gửi.")
    checked.form_errors.insert(0, message)
    return _render_form(
        desk,
        q,
        sid=_new_sid(desk, link),
        action=action,
        values=request.form if keep else None,
        checked=checked,
        status=400,
        sectors=sectors,
        channel="qr" if link is None else "link",
    )


def _bad_link(exc: links.BadToken):
    status = 400 if exc.reason == "tampered" else 410
    return render_template("public/bad_link.html", reason=exc.reason), status


def _link_or_page(token: str):
    """Claims and active desk of a case link, or the page to show instead."""
    try:
        claims = links.read_token(_keys(), token)
    except links.BadToken as exc:
        return None, None, _bad_link(exc)
    desk, page = _desk_or_page(claims.desk)
    if desk is not None:  # answered at home: the standard form, not the desk's short one
        desk = links.desk_for_link(get_session(), desk)
    return claims, desk, page


@bp.get("/l/<token>")
def link_page(token: str):
    claims, desk, page = _link_or_page(token)
    if page:
        return page
    if links.case_answered(get_session(), claims):
        return render_template("public/case_done.html", desk=desk), 409
    return _show_form(desk, url_for("public.link_submit", token=token), claims)


@bp.post("/l/<token>")
@csrf.exempt  # checked in _submit
@limiter.limit(limits.client_limits, key_func=limits.client_key, on_breach=_survey_limited)
@limiter.limit(limits.network_limits, key_func=limits.network_key, on_breach=_survey_limited)
def link_submit(token: str):
    # The case is checked by the unique case hash when storing, after the
    # submission id, so a replay of this link's own answer still gets thanks.
    claims, desk, page = _link_or_page(token)
    if page:
        return page
    return _submit(desk, url_for("public.link_submit", token=token), link=claims)


def _typed_contact() -> dict:
    """The contact and consent as typed, to show them again with the form."""
    return {
        "contact": (request.form.get("contact") or "")[:MAX_CONTACT],
        "consent": request.form.get("consent") == "yes",
    }


def _thanks_page(desk, sid: str, **typed) -> str:
    """The thanks page with what was typed in its comment form (not cached)."""
    typed.setdefault("has_comment", False)
    return render_template(
        "public/thanks.html",
        desk=desk,
        sid=sid,
        other_lang="en" if g.lang == "vi" else "vi",
        contact_days=settings().FEEDBACK_CONTACT_DAYS,
        **typed,
    )


# A desk's tablet returns to a fresh form this long after the thanks page.
KIOSK_RESET_SECONDS = 10


@bp.get("/s/<code>/cam-on")
def thanks(code: str):
    """The GET end of post/redirect/get: thanks for the submission this browser
    just stored at this desk, and nothing else."""
    desk, page = _desk_or_page(code)
    if page:
        return page
    sid = open_forms.thanked(session_cookie, desk.code)
    stored = submission.find_by_submission_id(get_session(), sid) if sid else None
    if stored is None or stored.desk_id != desk.id:
        return redirect(url_for("public.survey_page", code=desk.code), 303)
    tablet = kiosk.current(desk) is not None
    holes = {"sid": sid, "csrf_token": generate_csrf()}
    has_contact = False
    if stored.has_comment:  # its tracking code, for /y-kien/<code>
        holes["tracking"] = feedback.open_case(
            get_session(), stored.id, settings().TIMEZONE, settings().FEEDBACK_DUE_WORKING_DAYS
        )
        has_contact = feedback.has_contact(get_session(), stored.id)
    # Rendered once per desk, language and variant: it ends every submission.
    html = page_cache.render(
        "public/thanks.html",
        (desk.code, desk.unit.code, desk.unit.name, stored.has_comment, tablet, has_contact),
        holes,
        desk=desk,
        has_comment=stored.has_comment,
        other_lang="en" if g.lang == "vi" else "vi",
        tablet=tablet,
        reset_seconds=KIOSK_RESET_SECONDS,
        contact_days=settings().FEEDBACK_CONTACT_DAYS,
        has_contact=has_contact,
    )
    resp = make_response(html)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/s/<code>/y-kien")
@limiter.limit(limits.client_limits, key_func=limits.client_key, on_breach=_comment_limited)
@limiter.limit(limits.network_limits, key_func=limits.network_key, on_breach=_comment_limited)
def late_comment(code: str):
    """A suggestion or complaint added from the thanks page."""
    desk, page = _desk_or_page(code)
    if page:
        return page
    session = get_session()
    try:
        sid = submission.verify_submission_id(
            _keys(), request.form.get("sid"), open_forms.binding(session_cookie)
        )
    except submission.SubmissionIdError:  # only the browser that answered may add to it
        abort(400)
    stored = submission.find_by_submission_id(session, sid)
    if stored is None or stored.desk_id != desk.id:
        abort(404)
    if request.form.get("lang") in LOCALES:  # the switch inside the form keeps the text
        return _in_language(
            request.form["lang"],
            lambda: make_response(
                _thanks_page(
                    desk,
                    sid,
                    comment=(request.form.get("comment") or "")[:MAX_COMMENT],
                    comment_kind=request.form.get("comment_kind"),
                    comment_error=None,
                    **_typed_contact(),
                )
            ),
        )
    if request.form.get("contact_only") == "1" and stored.has_comment:
        # A contact for the comment given on the survey form (its tracking code is shown).
        checked = check_contact(request.form)
        if not checked.ok:
            return _thanks_page(
                desk,
                sid,
                has_comment=True,
                tracking=feedback.code_of_response(session, stored.id),
                contact_error=checked.errors["contact"],
                **_typed_contact(),
            ), 400
        feedback.add_contact(session, stored.id, checked.contact)
        open_forms.thank_for(session_cookie, desk.code, sid)
        return redirect(url_for("public.thanks", code=desk.code), 303)
    checked = check_late_comment(request.form)
    if not checked.ok:
        errors = checked.errors
        return _thanks_page(
            desk,
            sid,
            comment_error=errors.get("comment") or errors.get("comment_kind"),
            contact_error=errors.get("contact"),
            comment=checked.comment[:MAX_COMMENT],
            comment_kind=request.form.get("comment_kind"),
            **_typed_contact(),
        ), 400
    added = submission.add_comment(
        session,
        stored.id,
        checked.comment,
        checked.comment_kind,
        settings().TIMEZONE,
        settings().FEEDBACK_DUE_WORKING_DAYS,
    )
    if added and checked.contact:
        feedback.add_contact(session, stored.id, checked.contact)
    open_forms.thank_for(session_cookie, desk.code, sid)
    return redirect(url_for("public.thanks", code=desk.code), 303)


@bp.get("/privacy")
def privacy():
    # ?d=<desk code>: reached from a desk's form, so name its unit and link back.
    code = request.args.get("d", "")
    desk = public_desks.lookup(get_session(), code).desk if code else None
    return render_template(
        "public/privacy.html",
        desk=desk,
        controller=settings().DATA_CONTROLLER,
        contact=settings().PRIVACY_CONTACT,
        contact_days=settings().FEEDBACK_CONTACT_DAYS,
    )
