"""Check a submitted survey form against its questionnaire (pure: no database).

Returns the cleaned answers, or errors keyed by field name so the page can show
each message at its question. Messages are lazy gettext strings (Vietnamese
source, English catalogue).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from questionnaires.model import NA, Questionnaire
from survey.models.response import encode_answers
from survey.text import has_control_chars

MAX_COMMENT = 2000
COMMENT_KINDS = ("comment", "suggestion", "complaint")
# The sector question of a desk serving several sectors.  Known even when the
# question is not asked, so a form opened before staff changed the desk's
# sectors is still accepted.  "Không rõ" (templates/public/survey.html) is a
# value no sector code can take: codes are upper case.
SECTOR_FIELD = "sector"
SECTOR_UNKNOWN = "unknown"
# Fields the page itself adds; anything else unknown is refused.
# "lang": the language switch inside the form (survey.i18n), never an answer.
FORM_FIELDS = {"csrf_token", "sid", "comment", "comment_kind", "website", "lang", SECTOR_FIELD}
HONEYPOT = "website"


@dataclass
class CheckedForm:
    answers: dict[str, int | None] = field(default_factory=dict)  # None = N/A
    packed: str = ""  # the answers as stored (``encode_answers``)
    demographics: dict[str, str] = field(default_factory=dict)
    comment: str = ""
    comment_kind: str = "comment"
    sector: str | None = None  # the sector the citizen chose; None: not asked or "Không rõ"
    honeypot: bool = False
    # A phone number or e-mail for a reply, given with consent (late comment only).
    contact: str | None = None
    errors: dict[str, object] = field(default_factory=dict)  # field -> message
    form_errors: list[object] = field(default_factory=list)  # not tied to a question

    @property
    def ok(self) -> bool:
        return not self.errors and not self.form_errors


def _single(form, name: str) -> str | None:
    values = form.getlist(name)
    if not values:
        return None
    return values[0] if len(values) == 1 else "\x00multiple"


def _check_comment(form, out: CheckedForm, default_kind: str) -> None:
    comment = _single(form, "comment") or ""
    comment = unicodedata.normalize("NFC", comment.replace("\r\n", "\n")).strip()
    # Control characters are refused, not stripped: they only come from crafted
    # posts, and one stored would break every Excel export covering it.
    if has_control_chars(comment):
        out.errors["comment"] = _l("Ý kiến chứa ký tự không hợp lệ.")
    elif len(comment) > MAX_COMMENT:
        out.errors["comment"] = _l(
            "Ý kiến quá dài (%(n)s ký tự); tối đa %(max)s ký tự.", n=len(comment), max=MAX_COMMENT
        )
    out.comment = comment
    kind = _single(form, "comment_kind") or default_kind
    if kind not in COMMENT_KINDS:
        out.errors["comment_kind"] = _l("Loại ý kiến không hợp lệ.")
    out.comment_kind = kind


def check_late_comment(form) -> CheckedForm:
    """The suggestion/complaint form of the thanks page: text is required there."""
    out = CheckedForm()
    _check_comment(form, out, default_kind="suggestion")
    if not out.comment and "comment" not in out.errors:
        out.errors["comment"] = _l("Xin nhập nội dung (tối đa 2.000 ký tự).")
    _check_contact(form, out)
    return out


def check_contact(form) -> CheckedForm:
    """The thanks page's contact form, after a comment given on the survey form:
    a contact is required there (with consent)."""
    out = CheckedForm()
    _check_contact(form, out)
    if out.contact is None and "contact" not in out.errors:
        out.errors["contact"] = _l("Xin nhập số điện thoại hoặc e-mail.")
    return out


MAX_CONTACT = 254
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9]{9,15}")


def _check_contact(form, out: CheckedForm) -> None:
    """The optional contact for a reply: a phone number or an e-mail, kept only
    with the consent box ticked (its text states the purpose and retention)."""
    raw = unicodedata.normalize("NFC", _single(form, "contact") or "").strip()
    if not raw:
        return
    if _single(form, "consent") != "yes":
        out.errors["contact"] = _l(
            "Xin đánh dấu ô đồng ý nếu muốn để lại số điện thoại hoặc e-mail, "
            "hoặc xóa thông tin liên hệ."
        )
        return
    phone = re.sub(r"[ .()-]", "", raw)
    if len(raw) <= MAX_CONTACT and not has_control_chars(raw):
        if _PHONE.fullmatch(phone):
            out.contact = phone
            return
        if _EMAIL.fullmatch(raw):
            out.contact = raw
            return
    out.errors["contact"] = _l(
        "Số điện thoại hoặc e-mail không đúng (ví dụ: 0912 345 678 hoặc ten@example.vn)."
    )


def _check_sector(form, out: CheckedForm, sectors: Collection[str]) -> None:
    """The sector question: optional (skipped counts as "Không rõ"), but an
    answer must be one of the sectors it offered."""
    raw = _single(form, SECTOR_FIELD)
    if not sectors or raw in (None, "", SECTOR_UNKNOWN):
        return
    if raw in sectors:
        out.sector = raw
    else:
        out.errors[SECTOR_FIELD] = _l(
            "Câu “Ông/Bà vừa làm thủ tục thuộc lĩnh vực nào?”: lựa chọn không hợp lệ. "
            "Xin chọn một lĩnh vực trong danh sách hoặc “Không rõ”."
        )


def check_form(form, q: Questionnaire, sectors: Collection[str] = ()) -> CheckedForm:
    """``form`` is a MultiDict of the POST body; ``sectors`` the codes the sector
    question offered (empty: it was not asked, and any answer to it is ignored)."""
    out = CheckedForm()
    _check_sector(form, out, sectors)
    items = q.items() + ([q.overall_item] if q.overall_item else [])
    demographic_codes = {d.code: d for d in q.demographics}
    known = FORM_FIELDS | {it.code for it in items} | set(demographic_codes)

    unknown = sorted(k for k in form.keys() if k not in known)
    if unknown:
        # Never echo the names: they are request data, and a lazy string's
        # text counts as safe HTML in templates.
        out.form_errors.append(_l("Phiếu có trường không hợp lệ."))

    allowed_values = {str(v) for v in q.scale.values}
    for item in items:
        raw = _single(form, item.code)
        if raw is None or raw == "":
            if item.required:
                out.errors[item.code] = _l("Xin chọn một mức đánh giá cho câu này.")
            continue
        if raw == NA and item.allow_na:
            out.answers[item.code] = None
        elif raw in allowed_values:
            out.answers[item.code] = int(raw)
        else:
            out.errors[item.code] = _l(
                "Câu trả lời không hợp lệ: chỉ chọn từ 1 đến 5%(na)s.",
                na=_l(" hoặc “Không áp dụng”") if item.allow_na else "",
            )

    for code, question in demographic_codes.items():
        raw = _single(form, code)
        if raw in (None, ""):
            continue  # demographics are optional
        if raw not in {c.code for c in question.choices}:
            out.errors[code] = _l("Lựa chọn không hợp lệ.")
        else:
            out.demographics[code] = raw

    _check_comment(form, out, default_kind="comment")
    out.packed = encode_answers(q.all_item_codes(), out.answers)
    out.honeypot = bool((_single(form, HONEYPOT) or "").strip())
    return out
