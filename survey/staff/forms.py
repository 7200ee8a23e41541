"""Staff forms (Flask-WTF: every POST carries a CSRF token).

WTForms ships no Vietnamese catalogue, so every message a user can see is
given here explicitly (select fields included).  Every form derives from
``StaffForm``, whose text fields refuse control characters (survey/text.py).
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, PasswordField, SelectField, StringField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, StopValidation

from survey.messages import org as org_words
from survey.services.auth import MIN_PASSWORD_LENGTH
from survey.services.org import OrgError
from survey.services.org.targets import MAX_YEAR, MIN_YEAR, parse_percent
from survey.text import has_control_chars

REQUIRED = _l("Xin nhập thông tin này.")
CODE_RULE = Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$",
    message=_l("Mã gồm chữ cái không dấu, chữ số, '-' hoặc '_' (tối đa 32 ký tự)."),
)


def max_length(n: int) -> Length:
    return Length(max=n, message=_l("Tối đa %(max)d ký tự."))


def choices(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs; values are strings."""
    return [SelectChoice(str(value), label) for value, label in pairs]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def plain_text(form, field) -> None:
    """Refuse what no stored text may hold: names end up in every Excel and PDF export."""
    if isinstance(field.data, str) and has_control_chars(field.data):
        # The label is ours, never request data.
        raise StopValidation(_("%(field)s chứa ký tự không hợp lệ.", field=str(field.label.text)))


class StaffForm(FlaskForm):
    """The base of every staff form: each text field checks ``plain_text`` first.

    Passwords are exempt: they are only hashed, never stored or shown as text.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self:
            if isinstance(field, StringField) and not isinstance(field, PasswordField):
                # A new list per bound field: the declared one is shared by every instance.
                field.validators = [plain_text, *field.validators]


class Select(SelectField):
    """A select whose value must be one of its options, with a Vietnamese message."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("validate_choice", True)
        super().__init__(label, validators, **kwargs)

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(_l("Xin chọn một mục trong danh sách.")) from None


class LoginForm(StaffForm):
    username = StringField(
        _l("Tên đăng nhập"), filters=[_strip], validators=[DataRequired(REQUIRED), max_length(64)]
    )
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(REQUIRED), max_length(256)])


class PasswordChangeForm(StaffForm):
    current = PasswordField(
        _l("Mật khẩu hiện tại"), validators=[DataRequired(REQUIRED), max_length(256)]
    )
    new = PasswordField(
        _l("Mật khẩu mới"),
        validators=[
            DataRequired(REQUIRED),
            Length(
                min=MIN_PASSWORD_LENGTH,
                message=_l("Mật khẩu mới phải có ít nhất %(min)d ký tự."),
            ),
            max_length(256),
        ],
    )
    confirm = PasswordField(
        _l("Nhập lại mật khẩu mới"),
        validators=[
            DataRequired(REQUIRED),
            EqualTo("new", message=_l("Hai lần nhập mật khẩu mới không khớp.")),
        ],
    )


class ActionForm(StaffForm):
    """A button that changes something: only the CSRF token."""


class UnitForm(StaffForm):
    code = StringField(
        _l("Mã đơn vị"), filters=[_strip], validators=[DataRequired(REQUIRED), CODE_RULE]
    )
    name = StringField(
        _l("Tên đơn vị"), filters=[_strip], validators=[DataRequired(REQUIRED), max_length(200)]
    )
    kind = Select(
        _l("Loại"),
        choices=choices(
            [
                ("ward", _l("Phường")),
                ("commune", _l("Xã")),
                ("province", _l("Tỉnh/Thành phố")),
                ("department", _l("Sở, ban, ngành")),
                ("centre", _l("Trung tâm")),
                ("office", _l("Văn phòng")),
                ("unit", _l("Đơn vị khác")),
            ]
        ),
        default="ward",
    )


class DeskNameForm(StaffForm):
    name = StringField(
        _l("Tên quầy"), filters=[_strip], validators=[DataRequired(REQUIRED), max_length(200)]
    )


class DeskMoveForm(StaffForm):
    # Options: the units the user manages (set by the view); the value is a unit id.
    unit = Select(_l("Chuyển sang đơn vị"))


class AssignmentForm(StaffForm):
    # "" inherits from the unit above; otherwise a published version id.
    version = Select(_l("Phiếu khảo sát"))


class SectorGroupForm(StaffForm):
    code = StringField(
        _l("Mã nhóm"), filters=[_strip], validators=[DataRequired(REQUIRED), CODE_RULE]
    )
    name = StringField(
        _l("Tên nhóm"), filters=[_strip], validators=[DataRequired(REQUIRED), max_length(200)]
    )
    name_en = StringField(
        _l("Tên tiếng Anh"), filters=[_strip], validators=[Optional(), max_length(200)]
    )


class SectorForm(StaffForm):
    code = StringField(
        _l("Mã lĩnh vực"), filters=[_strip], validators=[DataRequired(REQUIRED), CODE_RULE]
    )
    name = StringField(
        _l("Tên lĩnh vực"), filters=[_strip], validators=[DataRequired(REQUIRED), max_length(200)]
    )
    name_en = StringField(
        _l("Tên tiếng Anh"), filters=[_strip], validators=[Optional(), max_length(200)]
    )
    group = Select(_l("Nhóm lĩnh vực"))


class TargetForm(StaffForm):
    year = StringField(
        _l("Năm"), filters=[_strip], validators=[DataRequired(_l("Xin nhập năm, ví dụ 2026."))]
    )
    group = Select(_l("Áp dụng cho"))
    threshold = StringField(
        _l("Chỉ tiêu (%)"),
        filters=[_strip],
        validators=[DataRequired(_l("Xin nhập chỉ tiêu, ví dụ 85 hoặc 85,5."))],
    )
    source = StringField(
        _l("Căn cứ (kế hoạch, quyết định)"),
        filters=[_strip],
        validators=[Optional(), max_length(300)],
    )

    def validate_year(self, field):
        text = str(field.data or "")
        if not (text.isdigit() and MIN_YEAR <= int(text) <= MAX_YEAR):
            raise ValidationError(
                _l("Năm không hợp lệ: từ %(min)d đến %(max)d.", min=MIN_YEAR, max=MAX_YEAR)
            )
        self.year_value = int(text)

    def validate_threshold(self, field):
        try:
            self.share = parse_percent(field.data or "")
        except OrgError as exc:  # the service's rule, in the catalogue's words
            raise ValidationError(org_words.text(exc.code)) from None


class VolumeUploadForm(StaffForm):
    file = FileField(
        _l("Tệp số lượng hồ sơ (CSV hoặc XLSX)"),
        validators=[FileRequired(_l("Xin chọn tệp CSV hoặc XLSX."))],
    )


class VolumeConfirmForm(StaffForm):
    token = HiddenField(validators=[DataRequired()])
