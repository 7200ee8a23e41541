"""Account codes: ``AccountError.code`` (survey.services.users), for the users pages."""

from survey.messages import N_, Catalogue

WORDS = {
    "unknown_role": N_("Vai trò không hợp lệ."),
    "bad_username": N_("Tên đăng nhập phải có từ 1 đến 64 ký tự."),
    "username_taken": N_("Tên đăng nhập này đã có người dùng. Xin chọn tên khác."),
    "self": N_(
        "Không thể tự khóa, tự cấp lại mật khẩu hoặc tự đổi vai trò của chính mình: "
        "xin nhờ một người quản lý khác."
    ),
}

catalogue = Catalogue(WORDS)
text = catalogue.text
