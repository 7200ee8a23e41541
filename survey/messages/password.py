"""Password codes: ``PasswordError.code`` (survey.services.auth) and
``PasswordProblem.code`` (survey.services.users), from ``auth.password_problem``."""

from survey.messages import N_, Catalogue
from survey.services.auth import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

WORDS = {
    "wrong_current": N_("Mật khẩu hiện tại không đúng."),
    "too_short": N_("Mật khẩu mới phải có ít nhất %(min)d ký tự."),
    "too_long": N_("Mật khẩu mới dài quá %(max)d ký tự."),
    "guessable": N_(
        "Mật khẩu này quá dễ đoán (mật khẩu phổ biến, chuỗi lặp lại hoặc theo thứ tự "
        "bàn phím). Xin chọn một cụm từ dài hơn mà người khác khó đoán."
    ),
    "unchanged": N_("Mật khẩu mới phải khác mật khẩu hiện tại."),
    "is_username": N_("Mật khẩu không được trùng tên đăng nhập."),
}

catalogue = Catalogue(
    WORDS,
    default=N_("Mật khẩu không hợp lệ."),
    params={"too_short": {"min": MIN_PASSWORD_LENGTH}, "too_long": {"max": MAX_PASSWORD_LENGTH}},
)
text = catalogue.text
