"""Every sentence a report prints: verdicts, labels, notes, the method, the target.

Each function takes the gettext function to use: ``flask_babel.gettext`` on
pages, ``plain`` (the Vietnamese source) in report files and on the command
line.  Nothing here imports Flask.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from survey.reports import fmt as f
from survey.reports.build import SMALL_N, Note, Report
from survey.reports.frame import NONE_CODE

Gettext = Callable[..., str]


def plain(message: str, **params: Any) -> str:
    """The Vietnamese source text (report files are Vietnamese documents)."""
    return message % params if params else message


def N_(message: str) -> str:
    """Marks a message for the catalogue; it is translated where it is shown."""
    return message


VERDICTS = {"dat": N_("Đạt"), "khong_dat": N_("Không đạt"), "chua_du_can_cu": N_("Chưa đủ căn cứ")}
KINDS = {
    "comment": N_("Ý kiến"),
    "suggestion": N_("Kiến nghị, góp ý"),
    "complaint": N_("Phản ánh"),
}
STATUSES = {"new": N_("Mới"), "in_progress": N_("Đang xử lý"), "resolved": N_("Đã xử lý")}


def _label(messages: dict[str, str], code: str, default: str, _: Gettext) -> str:
    return _(messages[code]) if code in messages else default


def verdict_label(code: str | None, _: Gettext = plain) -> str:
    return _label(VERDICTS, code or "", "", _)


def kind_label(kind: str, _: Gettext = plain) -> str:
    return _label(KINDS, kind, kind, _)


def status_label(status: str, _: Gettext = plain) -> str:
    return _label(STATUSES, status, status, _)


def none_label(name: str, _: Gettext = plain) -> str:
    """Label of the ``_NONE`` value of a breakdown."""
    return _("Không thuộc nhóm") if name == "sector_group" else _("Không rõ lĩnh vực")


NOTES = {
    "no_volumes": N_(
        "Chưa có số lượng hồ sơ của các quầy trong kỳ: các phiếu được tính với trọng số "
        "như nhau (không gia quyền) và chưa tính được tỷ lệ phản hồi."
    ),
    "missing_volumes": N_(
        "Chưa có số lượng hồ sơ của %(n)d quầy-tháng có phiếu (ví dụ: %(examples)s): các "
        "phiếu được tính với trọng số như nhau (không gia quyền). Nhập đủ số lượng hồ sơ "
        "để chỉ số được gia quyền."
    ),
    "sector_weights": N_(
        "Số lượng hồ sơ chỉ có theo quầy (mọi lĩnh vực), nên khi chọn lĩnh vực, trọng số "
        "vẫn theo tổng số hồ sơ của quầy và không tính tỷ lệ phản hồi."
    ),
    "other_versions": N_(
        "%(n)d phiếu trả lời theo mẫu phiếu khác không được tính; chọn mẫu phiếu trong bộ "
        "lọc để xem kết quả của mẫu đó."
    ),
    "analysis": N_("Ghi chú kỹ thuật: %(text)s"),
}


def note_text(note: Note, _: Gettext = plain) -> str:
    """A note in words; its ``params`` (``build`` sets them) fill the message."""
    if note.code not in NOTES:
        return note.code
    return _(NOTES[note.code], **note.params)


def method_lines(report: Report, locale: str = "vi", _: Gettext = plain) -> list[str]:
    """The method in plain words: weights, index, interval, verdicts."""
    r, d = report.result, report.result["design"]
    lines = [
        _(
            "Tỷ lệ hài lòng của mỗi câu hỏi là tỷ lệ người trả lời chọn mức 4 (Hài lòng) hoặc "
            "5 (Rất hài lòng) trong số người trả lời câu hỏi đó; câu trả lời “Không áp dụng” "
            "không được tính. Chỉ số của mỗi tiêu chí là trung bình các câu hỏi của tiêu chí; "
            "chỉ số hài lòng chung là trung bình có trọng số của các tiêu chí."
        )
    ]
    if report.weighted:
        lines.append(
            _(
                "Mỗi phiếu có trọng số bằng số hồ sơ của quầy trong tháng chia cho số phiếu của "
                "quầy trong tháng đó (hậu phân tầng theo quầy và tháng), để quầy nhiều hồ sơ "
                "có ảnh hưởng tương xứng. Hiệu ứng thiết kế do trọng số là %(deff)s; cỡ mẫu "
                "hiệu dụng khoảng %(neff)s phiếu.",
                deff=f.num(d["kish_deff"], locale, 2),
                neff=f.num(d["n_eff_kish"], locale),
            )
        )
    else:
        lines.append(_("Các phiếu được tính với trọng số như nhau (không gia quyền)."))
    lines.append(
        _(
            "Khoảng tin cậy %(level)s được tính có xét đến thiết kế mẫu (phân tầng theo quầy, "
            "cụm là các phiếu của một quầy trong một ngày, phương pháp tuyến tính hóa Taylor) "
            "và qua phép biến đổi logit, nên luôn nằm trong khoảng 0–100%%.",
            level=f.pct(r["level"], locale, 0),
        )
    )
    lines.append(
        _(
            "So với chỉ tiêu: “Đạt” khi cận dưới của khoảng tin cậy cao hơn chỉ tiêu; “Không "
            "đạt” khi cận trên thấp hơn chỉ tiêu; còn lại là “Chưa đủ căn cứ”, kèm số phiếu "
            "ước tính cần thêm để kết luận nếu kết quả giữ nguyên."
        )
    )
    if r["n_excluded"]:
        lines.append(
            _(
                "%(n)d phiếu bị gắn cờ nghi ngờ (ví dụ gửi dồn dập từ một thiết bị) được lưu "
                "nhưng không tính vào chỉ số.",
                n=r["n_excluded"],
            )
        )
    lines.append(
        _(
            "Kết quả có dưới %(n)d phiếu được đánh dấu “ít phiếu”: khoảng tin cậy rộng, cần "
            "thận trọng khi so sánh.",
            n=SMALL_N,
        )
    )
    return lines


def target_text(report: Report, locale: str = "vi", _: Gettext = plain) -> str:
    t = report.targets.overall
    if t.threshold is None:
        return _("Chưa có chỉ tiêu năm %(year)d cho đơn vị này.", year=report.targets.year)
    return _(
        "Chỉ tiêu năm %(year)d: %(value)s (%(source)s)",
        year=report.targets.year,
        value=f.pct(t.threshold, locale, 0),
        source=t.source or t.unit_code,
    )


def group_name(report: Report, name: str, key: str, _: Gettext = plain) -> str:
    if key == NONE_CODE:
        return none_label(name, _)
    if name == "month":
        return f.month(date.fromisoformat(key + "-01"), "vi", short=True)
    return report.label(name, key)
