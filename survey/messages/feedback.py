"""``FilterError.field`` (survey.services.feedback): the inbox filter that is wrong."""

from survey.messages import N_, Catalogue

WORDS = {
    "status": N_("Trạng thái không hợp lệ."),
    "kind": N_("Loại ý kiến không hợp lệ."),
    "from": N_("Ngày “từ” không đúng dạng YYYY-MM-DD."),
    "to": N_("Ngày “đến” không đúng dạng YYYY-MM-DD hoặc trước ngày “từ”."),
    "page": N_("Số trang không hợp lệ."),
}

catalogue = Catalogue(WORDS)  # every field the parser can refuse is here
text = catalogue.text
