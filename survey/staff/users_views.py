"""Staff accounts in the browser: list, create, change role or unit, reset, disable, enable.

Admins manage every account; a unit manager those of its subtree, never an
admin's and never its own (survey.services.users does the checks).  A one-time
password is rendered in the answer to the POST that made it, never flashed or
stored: it is seen once.  Disabling and resetting go through a confirmation
page (GET of the same URL), so no JavaScript is needed to ask "are you sure?".
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Regexp

from survey.messages import users as user_words
from survey.services import users as user_svc
from survey.services.org import units as org_units
from survey.staff import bp
from survey.staff.forms import REQUIRED, ActionForm, Select, StaffForm, choices, max_length
from survey.staff.plumbing import INVALID, found, role_label
from survey.web_db import get_session

USERNAME_RULE = Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
    message=_l("Tên đăng nhập gồm chữ cái không dấu, chữ số, '.', '-' hoặc '_' (tối đa 64 ký tự)."),
)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class AccountForm(StaffForm):
    role = Select(_l("Vai trò"))
    unit = Select(_l("Đơn vị"))


class NewAccountForm(AccountForm):
    full_name = StringField(
        _l("Họ và tên"), filters=[_strip], validators=[DataRequired(REQUIRED), max_length(200)]
    )
    username = StringField(
        _l("Tên đăng nhập"), filters=[_strip], validators=[DataRequired(REQUIRED), USERNAME_RULE]
    )


def _fill(form: AccountForm) -> AccountForm:
    form.role.choices = choices((r, role_label(r)) for r in user_svc.assignable_roles(g.user))
    form.unit.choices = choices(
        (u.id, f"{u.name} ({u.code})")
        for u in org_units.managed_units(get_session(), g.user, "unit.view")
    )
    return form


def _account(user_id: int):
    return found(user_svc.get_account(get_session(), g.user, user_id))


def _check_reach() -> None:
    """A posted role or unit beyond the user's reach is a 403, not a form error."""
    unit = request.form.get("unit", "")
    user_svc.check_reach(
        get_session(),
        g.user,
        role=request.form.get("role"),
        unit_id=int(unit) if unit.isdigit() and len(unit) < 10 else None,
    )


def _refusal(form: AccountForm, exc: user_svc.AccountError) -> None:
    field = getattr(form, exc.field, None)
    message = user_words.text(exc.code)
    if field is None:
        form.form_errors.append(message)
    else:
        field.errors.append(message)


@bp.get("/users")
def users():
    user_svc.require_manager(g.user)
    db = get_session()
    role = request.args.get("role", "")
    role = role if role in user_svc.ROLES else ""
    unit_id = request.args.get("unit", type=int)
    state = request.args.get("active", "")
    active = {"1": True, "0": False}.get(state)
    query = (request.args.get("q") or "")[:100]
    managed = org_units.managed_units(db, g.user, "unit.view")
    rows = user_svc.list_users(
        db,
        g.user,
        query=query,
        role=role,
        unit_id=unit_id if unit_id in {u.id for u in managed} else None,
        active=active,
    )
    return render_template(
        "staff/users.html",
        rows=rows,
        roles=user_svc.assignable_roles(g.user) if g.user.role != "admin" else user_svc.ROLES,
        units=managed,
        q=query,
        role=role,
        unit_id=unit_id,
        state=state,
    )


@bp.route("/users/new", methods=["GET", "POST"])
def user_create():
    user_svc.require_manager(g.user)
    if request.method == "POST":
        _check_reach()
    form = _fill(NewAccountForm(role="desk_staff"))  # the least rights unless chosen
    if form.validate_on_submit():
        try:
            account, password = user_svc.create_account(
                get_session(),
                g.user,
                username=form.username.data,
                full_name=form.full_name.data,
                role=form.role.data,
                unit_id=int(form.unit.data),
            )
        except user_svc.AccountError as exc:
            _refusal(form, exc)
        else:
            # Shown in this answer only: no flash, no redirect, so it is not kept anywhere.
            return render_template(
                "staff/users_password.html", account=account, password=password, created=True
            )
    status = INVALID if request.method == "POST" else 200
    return render_template("staff/users_new.html", form=form), status


def _detail(account, form: AccountForm | None = None, status: int = 200):
    if form is None:
        form = AccountForm(formdata=None, role=account.role, unit=str(account.unit_id))
    _fill(form)
    return render_template(
        "staff/users_detail.html",
        account=account,
        form=form,
        action_form=ActionForm(formdata=None),
        is_self=account.id == g.user.id,
    ), status


@bp.get("/users/<int:user_id>")
def user_detail(user_id: int):
    return _detail(_account(user_id))


@bp.post("/users/<int:user_id>")
def user_update(user_id: int):
    account = _account(user_id)
    _check_reach()
    form = _fill(AccountForm())
    if not form.validate_on_submit():
        return _detail(account, form, INVALID)
    try:
        changed = user_svc.update_account(
            get_session(), g.user, account, role=form.role.data, unit_id=int(form.unit.data)
        )
    except user_svc.AccountError as exc:
        _refusal(form, exc)
        return _detail(account, form, INVALID)
    flash(_("Đã lưu vai trò và đơn vị.") if changed else _("Không có gì thay đổi."))
    return redirect(url_for("staff.user_detail", user_id=account.id))


def _confirm(account, *, title: str, consequence: str, button: str, cancel_to: str):
    return render_template(
        "staff/confirm.html",
        title=title,
        subject=f"{account.full_name or account.username} ({account.username})",
        consequence=consequence,
        button=button,
        action=request.path,
        cancel=cancel_to,
        form=ActionForm(formdata=None),
        warn=True,
    )


def _self_refused(account) -> bool:
    if account.id == g.user.id:
        flash(user_words.text("self"))
        return True
    return False


def _before_acting(account, back: str, **confirm):
    """The response that stops an action on ``account``, else None: one's own
    account, the confirmation page (GET), or a POST without a valid form."""
    if _self_refused(account):
        return redirect(back)
    if request.method == "GET":
        return _confirm(account, cancel_to=back, **confirm)
    if not ActionForm().validate_on_submit():
        abort(400)
    return None


@bp.route("/users/<int:user_id>/disable", methods=["GET", "POST"])
def user_disable(user_id: int):
    account = _account(user_id)
    back = url_for("staff.user_detail", user_id=account.id)
    stop = _before_acting(
        account,
        back,
        title=_("Khóa tài khoản"),
        consequence=_(
            "Người này sẽ bị đăng xuất ngay trên mọi thiết bị và không đăng nhập được nữa "
            "cho đến khi tài khoản được mở lại. Dữ liệu và nhật ký của họ vẫn giữ nguyên."
        ),
        button=_("Khóa tài khoản"),
    )
    if stop is not None:
        return stop
    if user_svc.set_account_active(get_session(), g.user, account, False):
        flash(_("Đã khóa tài khoản %(name)s.", name=account.full_name or account.username))
    return redirect(back)


@bp.post("/users/<int:user_id>/enable")
def user_enable(user_id: int):
    account = _account(user_id)
    back = url_for("staff.user_detail", user_id=account.id)
    if _self_refused(account):
        return redirect(back)
    if not ActionForm().validate_on_submit():
        abort(400)
    if user_svc.set_account_active(get_session(), g.user, account, True):
        flash(_("Đã mở lại tài khoản %(name)s.", name=account.full_name or account.username))
    return redirect(back)


@bp.route("/users/<int:user_id>/reset", methods=["GET", "POST"])
def user_reset(user_id: int):
    account = _account(user_id)
    back = url_for("staff.user_detail", user_id=account.id)
    stop = _before_acting(
        account,
        back,
        title=_("Cấp lại mật khẩu"),
        consequence=_(
            "Mật khẩu hiện tại ngừng dùng được và người này bị đăng xuất trên mọi thiết bị. "
            "Mật khẩu dùng một lần mới chỉ hiện một lần; họ phải đổi nó khi đăng nhập."
        ),
        button=_("Cấp lại mật khẩu"),
    )
    if stop is not None:
        return stop
    password = user_svc.reset_account_password(get_session(), g.user, account)
    return render_template(
        "staff/users_password.html", account=account, password=password, created=False
    )
