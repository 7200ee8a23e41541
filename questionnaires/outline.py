"""Readable plain-text outline of a questionnaire, for officers reviewing a file."""

from __future__ import annotations

from .model import Item, Questionnaire
from .serialize import content_hash

# The CLI runs outside Flask, so these few labels live here rather than in the
# web app's gettext catalogues.
_LABELS = {
    "vi": {
        "scale": "Thang đo",
        "aggregation": "Cách tổng hợp",
        "top_two_box": "tỷ lệ hài lòng (chọn mức {n} trở lên)",
        "mean": "điểm trung bình",
        "weight": "trọng số",
        "na": "có thể chọn Không áp dụng",
        "after_result": "hỏi khi đã có kết quả (tại quầy: chọn sẵn Không áp dụng)",
        "optional": "không bắt buộc",
        "overall": "Câu hỏi chung (báo cáo riêng, không tính vào chỉ số tổng hợp)",
        "demographics": "Thông tin người trả lời (không bắt buộc)",
        "comment": "Góp ý",
        "hash": "Mã băm nội dung",
    },
    "en": {
        "scale": "Scale",
        "aggregation": "Aggregation",
        "top_two_box": "share satisfied (answering {n} or above)",
        "mean": "mean score",
        "weight": "weight",
        "na": "N/A allowed",
        "after_result": "asked once the result is known (at the desk: N/A pre-selected)",
        "optional": "optional",
        "overall": "Overall item (reported alone, not part of the composite index)",
        "demographics": "About the respondent (optional)",
        "comment": "Comment",
        "hash": "Content hash",
    },
}


def _number(x: float) -> str:
    return f"{x:g}"


def _item_line(item: Item, lang: str, labels: dict[str, str]) -> str:
    notes = []
    if item.weight != 1.0:
        notes.append(f"{labels['weight']} {_number(item.weight)}")
    if item.allow_na:
        notes.append(labels["na"])
    if item.after_result:
        notes.append(labels["after_result"])
    if not item.required:
        notes.append(labels["optional"])
    suffix = f"  [{'; '.join(notes)}]" if notes else ""
    return f"{item.code:<6}{item.text[lang]}{suffix}"


def render_outline(q: Questionnaire, lang: str = "vi") -> str:
    labels = _LABELS[lang]
    scale = " · ".join(f"{p.value} {p.label[lang]}" for p in q.scale.points)
    aggregation = labels[q.aggregation].format(n=q.scale.satisfied_min)
    lines = [
        f"{q.title[lang]} ({q.key})",
        f"{labels['scale']}: {scale} · NA {q.scale.na_label[lang]}",
        f"{labels['aggregation']}: {aggregation}",
        "",
    ]
    for number, criterion in enumerate(q.criteria, start=1):
        lines.append(
            f"{number}. {criterion.code} – {criterion.name[lang]} "
            f"({labels['weight']} {_number(criterion.weight)})"
        )
        lines.extend(f"   {_item_line(it, lang, labels)}" for it in criterion.items)
    if q.overall_item is not None:
        lines += ["", labels["overall"], f"   {_item_line(q.overall_item, lang, labels)}"]
    if q.demographics:
        lines += ["", labels["demographics"]]
        for d in q.demographics:
            choices = " | ".join(ch.label[lang] for ch in d.choices)
            lines.append(f"   {d.code}: {d.label[lang]}: {choices}")
    if q.comment_prompt:
        lines += ["", f"{labels['comment']}: {q.comment_prompt[lang]}"]
    lines += ["", f"{labels['hash']}: {content_hash(q)}"]
    return "\n".join(lines)
