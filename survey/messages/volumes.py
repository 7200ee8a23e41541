"""``Issue`` codes (survey.services.volumes): a volumes file and its rows.

``describe(issue)`` words a whole issue: its code, prefixed with its row and
column when it has them.
"""

from flask_babel import gettext as _

from survey.messages import N_, Catalogue
from survey.services.volumes.files import MAX_ROWS, MAX_XLSX_UNPACKED, Issue

WORDS = {
    "empty": N_("Tệp rỗng."),
    "encoding": N_("Tệp CSV không ở mã UTF-8. Xin lưu lại tệp với mã hóa UTF-8."),
    "unreadable": N_("Không đọc được tệp. Xin tải lên tệp CSV (UTF-8) hoặc XLSX."),
    "encrypted": N_("Tệp XLSX có đặt mật khẩu. Xin lưu lại tệp không đặt mật khẩu."),
    "xls_or_encrypted": N_(
        "Tệp là bảng tính Excel 97–2003 (.xls) hoặc bảng tính có đặt mật khẩu. "
        "Xin lưu lại thành tệp .xlsx không đặt mật khẩu, hoặc thành tệp CSV."
    ),
    "xlsx_too_large": N_(
        "Tệp XLSX khi giải nén quá lớn (tối đa %(max)d MiB) hoặc được nén bất thường. "
        "Xin xóa các cột không cần, chia thành nhiều tệp hoặc lưu thành tệp CSV."
    ),
    "too_many_rows": N_("Tệp có quá %(max)d dòng; xin chia thành nhiều tệp."),
    "no_rows": N_("Tệp không có dòng số liệu nào."),
    "ambiguous_columns": N_(
        "Tệp có cả cột desk và cột unit/sector: mỗi tệp chỉ theo quầy "
        "(desk, month, count) hoặc theo đơn vị và lĩnh vực (unit, sector, month, count)."
    ),
    "missing_column": N_("thiếu cột này."),
    "duplicate_column": N_("cột này xuất hiện hai lần."),
    "required": N_("ô trống."),
    "bad_month": N_(
        "tháng “%(value)s” không đúng dạng MM/YYYY hoặc YYYY-MM (ví dụ 03/2026 hoặc 2026-03)."
    ),
    "future_month": N_("tháng “%(value)s” chưa đến."),
    "not_integer": N_("số lượng “%(value)s” không phải số nguyên."),
    "negative": N_("số lượng “%(value)s” là số âm."),
    "too_large": N_("số lượng “%(value)s” quá lớn."),
    "duplicate_row": N_("trùng với dòng %(other)s (cùng mã và cùng tháng)."),
    "bad_code": N_("mã “%(value)s” không hợp lệ."),
    "unknown_desk": N_("không có quầy mã “%(value)s”."),
    "desk_out_of_scope": N_("quầy “%(value)s” không thuộc phạm vi đơn vị của tài khoản này."),
    "unknown_unit": N_("không có đơn vị mã “%(value)s”."),
    "unit_out_of_scope": N_("đơn vị “%(value)s” không thuộc phạm vi của tài khoản này."),
    "unknown_sector": N_("không có lĩnh vực mã “%(value)s”."),
    "volume_out_of_scope": N_(
        "số liệu tháng này của quầy “%(value)s” đã được nhập cho một đơn vị ngoài phạm "
        "vi của tài khoản này (quầy đã chuyển đơn vị)."
    ),
}

catalogue = Catalogue(
    WORDS,
    params={
        "xlsx_too_large": {"max": MAX_XLSX_UNPACKED // 2**20},
        "too_many_rows": {"max": MAX_ROWS},
    },
)
text = catalogue.text


def describe(issue: Issue) -> str:
    """The issue in the current language: "Dòng 3, cột desk: không có quầy mã “X”."."""
    words = (
        catalogue.text(issue.code, value=issue.value, other=issue.other_row)
        if issue.code in catalogue.words
        else issue.code
    )
    if issue.row is None:
        return words
    if issue.column:
        return _(
            "Dòng %(row)d, cột %(column)s: %(text)s", row=issue.row, column=issue.column, text=words
        )
    return _("Dòng %(row)d: %(text)s", row=issue.row, text=words)
