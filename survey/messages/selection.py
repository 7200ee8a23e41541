"""``SelectionError`` codes (survey.reports.selection): a report's unit, period and filters."""

from survey.messages import N_, Catalogue

WORDS = {
    "unknown_unit": N_("Không có đơn vị mã “%(value)s”."),
    "unit_required": N_("Xin chọn đơn vị."),
    "unknown_desk": N_("Không có quầy mã “%(value)s”."),
    "desk_outside_unit": N_("Quầy đã chọn không thuộc đơn vị đã chọn."),
    "unknown_sector": N_("Không có lĩnh vực mã “%(value)s”."),
    "unknown_group": N_("Không có nhóm lĩnh vực mã “%(value)s”."),
    "sector_outside_group": N_("Lĩnh vực đã chọn không thuộc nhóm lĩnh vực đã chọn."),
    "bad_date": N_("Ngày “%(value)s” không hợp lệ (dạng ngày/tháng/năm)."),
    "period_reversed": N_("Ngày bắt đầu phải trước ngày kết thúc."),
    "unknown_questionnaire": N_("Không có mẫu phiếu “%(value)s”."),
    "no_questionnaire": N_("Chưa có mẫu phiếu nào được phát hành."),
}

catalogue = Catalogue(WORDS, default=N_("Lựa chọn không hợp lệ."))
text = catalogue.text
