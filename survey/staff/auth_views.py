"""Signing in (throttled per address and per account), signing out, changing the password."""

from __future__ import annotations

import math
import time

from flask import (
    Response,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as cookie
from flask_babel import gettext as _

from survey.extensions import limiter
from survey.messages import password as password_words
from survey.services import auth
from survey.staff import bp
from survey.staff.forms import ActionForm, LoginForm, PasswordChangeForm
from survey.staff.plumbing import INVALID, safe_next
from survey.web_db import get_session, keep_on_refusal


def _login_account_key() -> str:
    """The account being tried, so guessing one password from many addresses is slow too."""
    return "login-account:" + (request.form.get("username") or "").strip().lower()[:64]


def _login_refused(response: Response) -> bool:
    return response.status_code == INVALID


def _wait_text(seconds: int) -> str:
    """How long to wait, in the staff register: seconds under two minutes, else minutes."""
    if seconds < 120:
        return _("%(n)d giây", n=seconds)
    return _("%(n)d phút", n=math.ceil(seconds / 60))


def _seconds_left(limit) -> int:
    return max(1, math.ceil(limit.reset_at - time.time()))


def _throttled_page(seconds: int, message: str) -> Response:
    auth.record_failed_sign_in(
        get_session(), request.form.get("username") or "", request.remote_addr, reason="throttled"
    )
    keep_on_refusal()  # the 429 is answered, and the refusal stays in the audit log
    form = LoginForm()
    form.form_errors.append(message)
    page = render_template("staff/login.html", form=form, next=safe_next(request.args.get("next")))
    return make_response(page, 429, {"Retry-After": str(seconds)})


def _login_throttled(limit) -> Response:
    seconds = _seconds_left(limit)
    return _throttled_page(
        seconds,
        _(
            "Tài khoản này tạm thời không đăng nhập được vì đã nhập sai mật khẩu nhiều lần. "
            "Xin thử lại sau %(wait)s, hoặc nhờ người quản lý cấp lại mật khẩu.",
            wait=_wait_text(seconds),
        ),
    )


def _address_throttled(limit) -> Response:
    seconds = _seconds_left(limit)
    return _throttled_page(
        seconds,
        _(
            "Có quá nhiều lần đăng nhập từ máy hoặc mạng này. Xin thử lại sau %(wait)s.",
            wait=_wait_text(seconds),
        ),
    )


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"], on_breach=_address_throttled)
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
    db = get_session()
    user = auth.authenticate(db, form.username.data, form.password.data)
    if user is None:
        auth.record_failed_sign_in(db, form.username.data, request.remote_addr)
        keep_on_refusal()  # answered 422, but the refusal stays in the audit log
        form.form_errors.append(_("Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đã bị khóa."))
        return render_template("staff/login.html", form=form, next=next_url), INVALID
    auth.sign_in(cookie, user)
    if user.must_change_password:
        return redirect(url_for("staff.password"))
    return redirect(next_url or url_for("staff.dashboard"))


@bp.post("/logout")
def logout():
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    auth.sign_out(cookie, g.user)
    flash(_("Đã đăng xuất trên mọi thiết bị."))
    return redirect(url_for("staff.login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            auth.change_password(get_session(), g.user, form.current.data, form.new.data, cookie)
        except auth.PasswordError as exc:
            getattr(form, exc.field).errors.append(password_words.text(exc.code))
        else:
            flash(_("Đã đổi mật khẩu."))
            return redirect(url_for("staff.dashboard"))
    status = INVALID if request.method == "POST" else 200
    return render_template("staff/password.html", form=form), status
