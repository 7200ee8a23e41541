"""``OrgError`` codes (survey.services.org): units, desks, sectors, targets.

One table for the unit, desk and sector pages: some codes (``bad_code``,
``unknown_group``) are raised by more than one service.
"""

from survey.messages import N_, Catalogue

WORDS = {
    "bad_code": N_("Mã gồm chữ cái không dấu, chữ số, '-' hoặc '_' (tối đa 32 ký tự)."),
    "unit_code_taken": N_("Đã có đơn vị dùng mã này."),
    "code_taken": N_("Mã này đã được dùng."),
    "same_unit": N_("Quầy đã thuộc đơn vị này."),
    "unknown_version": N_("Không có phiên bản phiếu này."),
    "unknown_group": N_("Không có nhóm lĩnh vực này."),
    "bad_year": N_("Năm không hợp lệ."),
    "bad_threshold": N_("Chỉ tiêu là phần trăm lớn hơn 0 và nhỏ hơn 100."),
}

catalogue = Catalogue(WORDS, default=N_("Giá trị không hợp lệ."))
text = catalogue.text
