"""Poster wording (Vietnamese; posters face citizens, so no locale switch)."""

TITLE = "ĐÁNH GIÁ MỨC ĐỘ HÀI LÒNG"
STEPS = [
    "1. Mở camera điện thoại hoặc Zalo, quét mã QR",
    "2. Chọn mức độ hài lòng cho từng câu (khoảng 1 phút)",
    "3. Bấm Gửi đánh giá",
]
PRIVACY = "Phiếu khảo sát ẩn danh: không hỏi họ tên, số điện thoại."


def display_url(url: str) -> str:
    """The URL as printed for typing: browsers add https:// themselves, not http://."""
    return url.removeprefix("https://")
