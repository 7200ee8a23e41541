"""Audit events in words: the one home of the labels of audit actions and fields.

Services record codes (``target.update``, ``desk.set_sectors``) and JSON
snapshots; the audit page, and any other page that shows an event, words them
here: ``action_label("target.update")`` is "Sửa chỉ tiêu", and
``changes(event)`` turns the snapshots into lines like "Chỉ tiêu: 85% → 87%".
An action without a label shows a generic one, never the code (a test scans
the staff pages for codes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import flask_babel

from survey.messages import N_

ACTIONS = {
    "user.create": N_("Tạo tài khoản"),
    "user.enable": N_("Mở lại tài khoản"),
    "user.disable": N_("Khóa tài khoản"),
    "user.update": N_("Sửa vai trò, đơn vị của tài khoản"),
    "user.password_reset": N_("Cấp lại mật khẩu"),
    "user.password_change": N_("Đổi mật khẩu"),
    "user.login_failed": N_("Đăng nhập sai"),
    "unit.create": N_("Tạo đơn vị"),
    "unit.assign_questionnaire": N_("Chọn phiếu khảo sát cho đơn vị"),
    "desk.create": N_("Tạo quầy"),
    "desk.rename": N_("Đổi tên quầy"),
    "desk.move": N_("Chuyển quầy sang đơn vị khác"),
    "desk.deactivate": N_("Ngừng quầy"),
    "desk.reactivate": N_("Mở lại quầy"),
    "desk.regenerate_code": N_("Cấp mã QR mới cho quầy"),
    "desk.set_sectors": N_("Sửa lĩnh vực của quầy"),
    "desk.assign_questionnaire": N_("Chọn phiếu khảo sát cho quầy"),
    "kiosk.register": N_("Đăng ký máy tính bảng tại quầy"),
    "kiosk.revoke": N_("Thu hồi máy tính bảng tại quầy"),
    "target.create": N_("Thêm chỉ tiêu"),
    "target.update": N_("Sửa chỉ tiêu"),
    "target.delete": N_("Xóa chỉ tiêu"),
    "sector.create": N_("Thêm lĩnh vực"),
    "sector.update": N_("Sửa lĩnh vực"),
    "sector_group.create": N_("Thêm nhóm lĩnh vực"),
    "sector_group.update": N_("Sửa nhóm lĩnh vực"),
    "volume.import": N_("Nhập số lượng hồ sơ"),
    "responses.import": N_("Nhập phiếu khảo sát từ tệp"),
    "feedback.status": N_("Đổi trạng thái ý kiến người dân"),
    "results.export": N_("Xuất kết quả khảo sát"),
    "apikey.create": N_("Cấp khóa API"),
    "apikey.revoke": N_("Thu hồi khóa API"),
    "link.revoke": N_("Thu hồi đường dẫn khảo sát"),
    "feedback.reply": N_("Trả lời công khai ý kiến người dân"),
    "feedback.assign": N_("Giao xử lý ý kiến người dân"),
    "feedback.note": N_("Thêm ghi chú nội bộ cho ý kiến"),
    "feedback.kind": N_("Phân loại lại ý kiến người dân"),
    "feedback.setting": N_("Đổi cài đặt ý kiến điểm thấp"),
}
OTHER_ACTION = N_("Thay đổi khác")

ENTITIES = {
    "user": N_("Tài khoản"),
    "unit": N_("Đơn vị"),
    "desk": N_("Quầy"),
    "kiosk": N_("Máy tính bảng"),
    "target": N_("Chỉ tiêu"),
    "sector": N_("Lĩnh vực"),
    "sector_group": N_("Nhóm lĩnh vực"),
    "volume": N_("Số lượng hồ sơ"),
    "comment": N_("Ý kiến"),
    "report": N_("Báo cáo"),
    "api_key": N_("Khóa API"),
    "link": N_("Đường dẫn khảo sát"),
}

FIELDS = {
    "username": N_("Tên đăng nhập"),
    "full_name": N_("Họ và tên"),
    "role": N_("Vai trò"),
    "unit": N_("Đơn vị"),
    "active": N_("Đang hoạt động"),
    "must_change_password": N_("Phải đổi mật khẩu"),
    "address": N_("Địa chỉ IP"),
    "account": N_("Tài khoản"),
    "reason": N_("Lý do"),
    "code": N_("Mã"),
    "name": N_("Tên"),
    "name_en": N_("Tên tiếng Anh"),
    "kind": N_("Loại"),
    "parent": N_("Đơn vị cấp trên"),
    "questionnaire": N_("Phiếu khảo sát"),
    "sectors": N_("Lĩnh vực"),
    "group": N_("Nhóm lĩnh vực"),
    "sector_group": N_("Nhóm lĩnh vực"),
    "year": N_("Năm"),
    "threshold": N_("Chỉ tiêu"),
    "source": N_("Căn cứ"),
    "set_by": N_("Người đặt"),
    "inherited": N_("Chỉ tiêu kế thừa"),
    "inherited_from": N_("Kế thừa từ"),
    "desk": N_("Quầy"),
    "label": N_("Tên"),
    "revoked": N_("Đã thu hồi"),
    "revoked_at": N_("Thu hồi lúc"),
    "status": N_("Trạng thái"),
    "file": N_("Tệp"),
    "rows": N_("Số dòng"),
    "new": N_("Dòng mới"),
    "replaced": N_("Dòng thay thế"),
    "months": N_("Các tháng"),
    "replaced_values": N_("Giá trị thay thế"),
    "format": N_("Định dạng"),
    "period": N_("Kỳ báo cáo"),
    "reply": N_("Trả lời công khai"),
    "assignee": N_("Người xử lý"),
    "note": N_("Ghi chú"),
    "close_reason": N_("Lý do đóng"),
    "low_score_alert": N_("Điểm thấp mở ý kiến cần chú ý"),
}

# Coded values shown in words (roles, the reasons of a refused sign-in, comment statuses).
VALUES = {
    "admin": N_("Quản trị hệ thống"),
    "unit_manager": N_("Quản lý đơn vị"),
    "desk_staff": N_("Cán bộ một cửa"),
    "analyst": N_("Phân tích số liệu"),
    "wrong_password": N_("sai mật khẩu"),
    "throttled": N_("bị tạm chặn vì nhập sai nhiều lần"),
    "known": N_("có tồn tại"),
    "unknown": N_("không tồn tại"),
    "new": N_("Mới"),
    "in_progress": N_("Đang xử lý"),
    "resolved": N_("Đã xử lý"),
    "dismissed": N_("Không cần xử lý"),
    "answered": N_("Đã trả lời"),
    "closed": N_("Đóng"),
    "comment": N_("Ý kiến"),
    "suggestion": N_("Kiến nghị, góp ý"),
    "complaint": N_("Phản ánh"),
}
# Fields whose value is a share (0.85) shown as a percentage.
SHARE_FIELDS = frozenset({"threshold", "inherited"})
# Fields whose value is a coded word (above): others are shown as they are.
CODED_FIELDS = frozenset({"role", "reason", "account", "status", "kind"})


def _t(msgid: str) -> str:
    return str(flask_babel.gettext(msgid))


def action_label(action: str) -> str:
    return _t(ACTIONS.get(action, OTHER_ACTION))


def entity_label(entity: str) -> str:
    return _t(ENTITIES[entity]) if entity in ENTITIES else ""


def field_label(key: str) -> str:
    return _t(FIELDS[key]) if key in FIELDS else key.replace("_", " ")


def value_text(key: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _t(N_("Có")) if value else _t(N_("Không"))
    if key in SHARE_FIELDS and isinstance(value, int | float):
        return flask_babel.format_decimal(value * 100, format="#,##0.##") + "%"
    if key == "questionnaire" and isinstance(value, str):
        from survey.messages.questionnaires import key_label

        return key_label(value)
    if key in CODED_FIELDS and isinstance(value, str) and value in VALUES:
        return _t(VALUES[value])
    if isinstance(value, list):
        return ", ".join(value_text(key, v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {value_text(k, v)}" for k, v in value.items())
    return str(value)


@dataclass(frozen=True)
class Change:
    """One line of an event: a field's label, its old value (None: none shown) and new one."""

    field: str
    old: str | None
    new: str


def _load(text: str | None) -> Any:
    return json.loads(text) if text else {}


def changes(before: str | None, after: str | None) -> list[Change]:
    """The fields that differ (all of them for a creation or deletion), worded."""
    old, new = _load(before), _load(after)
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [Change("", value_text("", old) if old else None, value_text("", new))]
    lines = []
    for key in sorted(set(old) | set(new)):
        if old and new and old.get(key) == new.get(key):
            continue
        label = field_label(key)
        if not new:  # deleted: what it was
            lines.append(Change(label, None, value_text(key, old.get(key))))
        else:
            shown_old = value_text(key, old.get(key)) if old else None
            lines.append(Change(label, shown_old, value_text(key, new.get(key))))
    return lines


def summary(action: str, before: str | None, after: str | None) -> str:
    """One sentence: "Sửa chỉ tiêu: 85% → 87%" (the first change that has both sides)."""
    label = action_label(action)
    for change in changes(before, after):
        if change.old is not None:
            return f"{label}: {change.old} → {change.new}"
    return label
