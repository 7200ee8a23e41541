"""``FilterError.field`` and ``CaseError.code`` (survey.services.feedback): the
inbox filter that is wrong, or why a case change was refused."""

from survey.messages import N_, Catalogue

WORDS = {
    "status": N_("Trạng thái không hợp lệ."),
    "kind": N_("Loại ý kiến không hợp lệ."),
    "from": N_("Ngày “từ” không đúng dạng YYYY-MM-DD."),
    "to": N_("Ngày “đến” không đúng dạng YYYY-MM-DD hoặc trước ngày “từ”."),
    "page": N_("Số trang không hợp lệ."),
    "desk": N_("Mã quầy không hợp lệ."),
    "overdue": N_("Bộ lọc “quá hạn” không hợp lệ."),
    "q": N_("Từ khóa tìm kiếm quá dài hoặc có ký tự không hợp lệ."),
    # CaseError
    "reply_needed": N_("Cần nhập câu trả lời công khai trước khi chuyển sang “Đã trả lời”."),
    "close_needs": N_("Muốn đóng ý kiến, cần có câu trả lời công khai hoặc ghi lý do đóng."),
    "too_long": N_("Nội dung quá dài (tối đa 2000 ký tự)."),
    "reply_empty": N_("Câu trả lời công khai không được để trống."),
    "note_empty": N_("Ghi chú nội bộ không được để trống."),
    "assignee": N_("Người được giao không thuộc đơn vị hoặc không có quyền xử lý ý kiến."),
}

catalogue = Catalogue(WORDS)  # every field the parser can refuse is here
text = catalogue.text
