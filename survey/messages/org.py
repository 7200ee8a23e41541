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
    "unknown_sector": N_("Lĩnh vực: không có lĩnh vực mã %(value)s."),
    "bad_year": N_("Năm không hợp lệ."),
    # Targets (survey.services.org.targets): typed as percentages, 50 <= x < 100.
    "threshold_not_percent": N_("Chỉ tiêu là một số phần trăm, ví dụ 85 hoặc 85,5."),
    "threshold_as_share": N_("Nhập chỉ tiêu theo phần trăm, ví dụ 85"),
    "threshold_too_low": N_("Chỉ tiêu không được thấp hơn %(min)s%%."),
    "threshold_too_high": N_(
        "Chỉ tiêu phải nhỏ hơn %(max)s%%: với chỉ tiêu %(max)s%% không bao giờ kết luận được “Đạt”."
    ),
    # %(inherited)s is a formatted percentage, %(unit)s the unit it comes from.
    "below_inherited": N_(
        "Chỉ tiêu không được thấp hơn chỉ tiêu kế thừa %(inherited)s của %(unit)s. Chỉ quản "
        "trị viên hoặc cán bộ quản lý đơn vị cấp trên mới được đặt chỉ tiêu thấp hơn."
    ),
}

catalogue = Catalogue(
    WORDS,
    default=N_("Giá trị không hợp lệ."),
    params={
        "threshold_too_low": {"min": "50"},
        "threshold_too_high": {"max": "100"},
        "below_inherited": {"inherited": "", "unit": ""},
    },
)
text = catalogue.text
