"""Every sentence a report prints: verdicts, labels, notes, the method, the target.

Each function takes the gettext function to use: ``flask_babel.gettext`` on
pages, ``plain`` (the Vietnamese source) in report files and on the command
line.  Nothing here imports Flask.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from analysis.planner import POWER
from analysis.verdict import MIN_DF, MIN_PSUS_PER_STRATUM, MIN_RESPONSES
from survey.messages.questionnaires import NAMES as FORM_NAMES
from survey.reports import fmt as f
from survey.reports.build import Report
from survey.reports.frame import NONE_CODE
from survey.reports.notes import Note

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
STATUSES = {
    "new": N_("Mới"),
    "in_progress": N_("Đang xử lý"),
    "answered": N_("Đã trả lời"),
    "closed": N_("Đóng"),
    "resolved": N_("Đã xử lý"),  # before case handling (migration 0013): in old audit entries
}
# Response.channel: how the answers came in (the "survey_channel" breakdown).
CHANNELS = {
    "qr": N_("Mã QR tại quầy"),
    "link": N_("Đường dẫn theo hồ sơ"),
    "kiosk": N_("Máy tính bảng tại quầy"),
    "import": N_("Nhập từ tệp"),
    "paper": N_("Phiếu giấy"),
}


def _label(messages: dict[str, str], code: str, default: str, _: Gettext) -> str:
    return _(messages[code]) if code in messages else default


def verdict_label(code: str | None, _: Gettext = plain) -> str:
    return _label(VERDICTS, code or "", "", _)


def kind_label(kind: str, _: Gettext = plain) -> str:
    return _label(KINDS, kind, kind, _)


def status_label(status: str, _: Gettext = plain) -> str:
    return _label(STATUSES, status, status, _)


def channel_label(code: str, _: Gettext = plain) -> str:
    return _label(CHANNELS, code, code, _)


def none_label(name: str, _: Gettext = plain) -> str:
    """Label of the ``_NONE`` value of a breakdown."""
    return _("Không thuộc nhóm") if name == "sector_group" else _("Không rõ lĩnh vực")


NOTES = {
    "no_volumes": N_(
        "Chưa có số lượng hồ sơ của các quầy trong kỳ: các phiếu được tính với trọng số "
        "như nhau (không gia quyền) và chưa tính được tỷ lệ phản hồi."
    ),
    "collapsed_months": N_(
        "Chưa có số lượng hồ sơ của %(n)d quầy-tháng có phiếu: %(cells)s. Số hồ sơ của "
        "các tháng này được lấy bằng bình quân các tháng đã có của cùng quầy; các "
        "quầy-tháng khác vẫn được gia quyền theo số hồ sơ của mình."
    ),
    "mean_weight_desks": N_(
        "Chưa có số lượng hồ sơ trong cả kỳ của %(n)d quầy: %(cells)s. Phiếu của các quầy "
        "này được tính với trọng số bình quân của các phiếu khác."
    ),
    "sector_domain": N_(
        "Khi chọn lĩnh vực hoặc nhóm lĩnh vực, trọng số vẫn là trọng số của cả báo cáo "
        "(mọi lĩnh vực) và chỉ số được tính trên các phiếu của lĩnh vực đã chọn, nên bằng "
        "đúng dòng của lĩnh vực đó trong báo cáo không lọc. Chưa tính được tỷ lệ phản hồi "
        "theo lĩnh vực."
    ),
    "absorbed_months": N_(
        "%(n)d quầy-tháng có hồ sơ nhưng không có phiếu: %(cells)s. Số hồ sơ của các "
        "tháng này được chia cho các tháng có phiếu của cùng quầy, theo tỷ lệ số hồ sơ."
    ),
    "unrepresented_desks": N_(
        "%(n)d quầy có hồ sơ nhưng không có phiếu nào trong kỳ: %(desks)s. Chỉ số không "
        "đại diện cho %(volume)s hồ sơ của các quầy này."
    ),
    "sector_margin": N_(
        "Trọng số còn được hiệu chỉnh theo cơ cấu số hồ sơ theo lĩnh vực của %(units)s: "
        "tổng số hồ sơ của mỗi đơn vị vẫn theo số hồ sơ của các quầy, chia cho các lĩnh "
        "vực theo tỷ lệ số hồ sơ từng lĩnh vực đã nhập; %(n)d phiếu không rõ lĩnh vực "
        "(hoặc thuộc lĩnh vực chưa có số hồ sơ) giữ trọng số theo quầy và tháng."
    ),
    "sector_margin_failed": N_(
        "Không hiệu chỉnh được trọng số theo số hồ sơ theo lĩnh vực của %(units)s (số hồ "
        "sơ theo lĩnh vực không phù hợp với số hồ sơ theo quầy và tháng), nên trọng số chỉ "
        "theo quầy và tháng."
    ),
    "picked_form": N_(
        "Chỉ tính các phiếu theo mẫu phiếu %(form)s đã chọn; %(n)d phiếu theo mẫu phiếu "
        "khác không được tính. Chọn “Tất cả các phiếu” để tính mọi phiếu."
    ),
    "forms_not_combined": N_(
        "Các mẫu phiếu %(forms)s không gộp được vì %(reason)s, nên chỉ tính mẫu phiếu có "
        "nhiều phiếu nhất (%(form)s); %(n)d phiếu theo mẫu phiếu khác không được tính."
    ),
}

# The method notes of ``analysis`` (``analysis.notes``), for the method section only:
# in plain Vietnamese, without the estimator's own vocabulary.
ANALYSIS_NOTES = {
    "lonely_psu": N_(
        "%(strata)d tầng mẫu (quầy, hoặc quầy trong một tháng khi có gia quyền) chỉ có phiếu "
        "trong một ngày: độ dao động của các tầng này được ước lượng bằng cách so với mức "
        "chung của toàn mẫu, nên khoảng tin cậy thận trọng hơn."
    ),
    "lonely_psu_bootstrap": N_(
        "%(strata)d tầng mẫu (quầy, hoặc quầy trong một tháng khi có gia quyền) chỉ có phiếu "
        "trong một ngày: phương pháp tái chọn mẫu không đo được độ dao động của các tầng này."
    ),
    "unused_volumes": N_(
        "Số lượng hồ sơ của %(n)d nhóm gia quyền không có phiếu nào không được tính vào "
        "tổng thể: %(cells)s."
    ),
    "trim_infeasible": N_(
        "Không thể giới hạn trọng số trong khoảng %(low)s–%(high)s (từ trung vị chia "
        "%(factor)s đến %(factor)s lần trung vị) mà vẫn khớp số lượng hồ sơ%(cells)s; "
        "trọng số được giữ nguyên, không cắt."
    ),
    "trim_not_converged": N_(
        "Việc giới hạn trọng số (hệ số %(factor)s) chưa khớp được số lượng hồ sơ sau "
        "%(sweeps)s vòng lặp; trọng số được giữ nguyên, không cắt."
    ),
    "trim_replicates": N_(
        "%(n)d trong %(replicates)d mẫu tái chọn không giới hạn được trọng số và giữ trọng "
        "số chưa cắt."
    ),
}

# Why an estimate is below the minimum design (``analysis.verdict.too_small``).
TOO_SMALL_TAGS = {
    "few_responses": N_("ít phiếu"),
    "few_psus": N_("ít ngày khảo sát"),
    "low_df": N_("ít ngày khảo sát"),
    "single_psu_no_se": N_("chỉ một ngày khảo sát"),
}
DIRECTIONS = {
    "to_confirm_pass": N_("Cần thêm khoảng %(n)s phiếu để khẳng định Đạt"),
    "to_confirm_fail": N_("Cần thêm khoảng %(n)s phiếu để khẳng định Không đạt"),
}


# A ranking row against the overall index (``analysis.compare``, Holm-adjusted).
VERSUS = {
    "higher": N_("Cao hơn rõ rệt"),
    "lower": N_("Thấp hơn rõ rệt"),
    "none": N_("Không khác biệt rõ"),
}
RANKING_NOTE = N_(
    "Thứ hạng theo tỷ lệ ước tính; chỉ các dòng “cao/thấp hơn rõ rệt” khác mức chung có ý "
    "nghĩa thống kê (đã hiệu chỉnh Holm cho nhiều so sánh)"
)


def versus_code(entry: dict) -> str | None:
    """ "higher", "lower" or "none" against the overall index; None below the minimum
    design (or in results older than the comparison)."""
    vs = entry.get("vs_overall")
    if vs is None:
        return None
    return vs["direction"] if vs["significant"] and vs["direction"] else "none"


def versus_label(entry: dict, _: Gettext = plain) -> str:
    """ "Cao hơn rõ rệt" / "Thấp hơn rõ rệt" / "Không khác biệt rõ", "" for none."""
    code = versus_code(entry)
    return _(VERSUS[code]) if code else ""


# Two values compared (``analysis.compare.pairs``): this month against the last,
# one unit against another.
PAIR_WORDS = {
    "higher": N_("Cao hơn rõ rệt: %(d)s điểm"),
    "lower": N_("Thấp hơn rõ rệt: %(d)s điểm"),
    "none": N_("Không khác biệt rõ (%(d)s điểm)"),
}


def points(difference: float, locale: str = "vi") -> str:
    """A difference of shares in percentage points with its sign: "+1,2", "−3,4"."""
    value = f.num(abs(difference) * 100, locale, 1)
    return ("+" if difference >= 0 else "−") + value


def pair_label(c: dict | None, locale: str = "vi", _: Gettext = plain) -> str:
    """ "Cao hơn rõ rệt: +5,2 điểm" / "Không khác biệt rõ (+1,2 điểm)"; "" for none."""
    if c is None:
        return ""
    code = c["direction"] if c["significant"] and c["direction"] else "none"
    return _(PAIR_WORDS[code], d=points(c["difference"], locale))


def pair_interval(c: dict | None, locale: str = "vi") -> str:
    """The interval of a difference in points: "−2,0 đến +4,4"."""
    if c is None:
        return ""
    return f"{points(c['ci_low'], locale)} đến {points(c['ci_high'], locale)}"


PAIRS_NOTE = N_(
    "So với tháng trước: chênh lệch giữa hai tháng (điểm phần trăm) và khoảng tin cậy 95% "
    "của chênh lệch, tính theo thiết kế mẫu (có xét đến việc hai tháng cùng các quầy); "
    "“rõ rệt” khi khoảng tin cậy không chứa 0. Tháng chưa đủ phiếu thì không so sánh."
)


def ranking_note(_: Gettext = plain) -> str:
    return _(RANKING_NOTE)


def analysis_note_text(note: dict, _: Gettext = plain) -> str | None:
    """A note of ``analysis`` (``{"code", "params"}``) in words; None for an unknown code
    (never a developer's code or an English sentence on a staff page)."""
    code, params = note.get("code"), dict(note.get("params") or {})
    if code not in ANALYSIS_NOTES:
        return None
    if code == "unused_volumes":
        shown = "; ".join(" ".join(str(v) for v in cell.values()) for cell in params["cells"])
        if params.get("more"):
            shown += " " + _("và %(n)d nhóm khác", n=params["more"])
        params["cells"] = shown
    if code.startswith("trim_"):  # staff pages are Vietnamese: 1,75 and 9,3
        for key in ("low", "high", "factor"):
            if key in params:
                whole = float(params[key]).is_integer()
                params[key] = f.num(params[key], "vi", 0 if whole else 2)
        if code == "trim_infeasible":
            # The cells whose volume their respondents cannot carry within the bounds.
            cells = [" ".join(str(v) for v in c["cell"].values()) for c in params["cells"]]
            params["cells"] = (": " + "; ".join(cells)) if cells else ""
    return _(ANALYSIS_NOTES[code], **params)


def adequate(stat: dict) -> bool:
    """Whether an estimate meets the minimum design (older results lack the flag)."""
    return stat.get("adequate", True)


def shown_interval(stat: dict) -> tuple[float | None, float | None]:
    """The interval to draw and print: none below the minimum design (it would be 0–100%)."""
    if not adequate(stat):
        return None, None
    return stat["ci_low"], stat["ci_high"]


def small_tag(stat: dict, _: Gettext = plain) -> str:
    """The short tag of an estimate below the minimum design ("" when it is not)."""
    reasons = stat.get("too_small") or []
    return _(TOO_SMALL_TAGS[reasons[0]]) if reasons else ""


def small_sample_text(n: int, days: int | None, locale: str = "vi", _: Gettext = plain) -> str:
    """Why nothing is concluded: "Kỳ báo cáo quá ngắn hoặc số phiếu quá ít … (12 phiếu, 3 ngày …)"."""
    if not n:
        return _("Chưa có phiếu nào trong kỳ báo cáo.")
    if days is None:
        return _(
            "Kỳ báo cáo quá ngắn hoặc số phiếu quá ít để kết luận (%(n)s phiếu).",
            n=f.num(n, locale),
        )
    return _(
        "Kỳ báo cáo quá ngắn hoặc số phiếu quá ít để kết luận (%(n)s phiếu, %(days)s ngày "
        "khảo sát).",
        n=f.num(n, locale),
        days=f.num(days, locale),
    )


def more_needed_text(stat: dict, locale: str = "vi", _: Gettext = plain) -> str | None:
    """ "Cần thêm khoảng 1.240 phiếu để khẳng định Đạt", only for a plausible count."""
    direction = stat.get("more_needed_direction")
    if not stat.get("more_needed") or direction not in DIRECTIONS or not adequate(stat):
        return None
    return _(DIRECTIONS[direction], n=f.num(stat["more_needed"], locale))


# A verdict in plain words, beside every badge (dashboard, PDF, DOCX, XLSX): the
# reason after the verdict's label ("Đạt — chắc chắn (95%) cao hơn chỉ tiêu 85%").
VERDICT_REASONS = {
    "dat": N_("chắc chắn (%(level)s) cao hơn chỉ tiêu %(target)s"),
    "khong_dat": N_("chắc chắn (%(level)s) thấp hơn chỉ tiêu %(target)s"),
    "chua_du_can_cu": N_("kết quả %(estimate)s có thể cao hoặc thấp hơn chỉ tiêu %(target)s"),
}
# The same in a table row, whose estimate and target stand in their own columns.
VERDICT_REASONS_SHORT = {
    "dat": N_("chắc chắn cao hơn chỉ tiêu"),
    "khong_dat": N_("chắc chắn thấp hơn chỉ tiêu"),
    "chua_du_can_cu": N_("có thể cao hoặc thấp hơn chỉ tiêu"),
}


def verdict_reason(
    stat: dict,
    locale: str = "vi",
    _: Gettext = plain,
    level: float = 0.95,
    short: bool = False,
    more: bool = True,
) -> str:
    """Why the verdict is what it is, in plain words; "" without a verdict.

    Below the minimum design only the reason nothing is concluded ("ít phiếu"):
    no interval and no count of further responses is promised."""
    code = stat.get("verdict")
    if code not in VERDICT_REASONS or stat.get("target") is None:
        return ""
    if not adequate(stat):
        return small_tag(stat, _) or _("ít phiếu")
    if short:
        text = _(VERDICT_REASONS_SHORT[code])
    else:
        text = _(
            VERDICT_REASONS[code],
            level=f.pct(level, locale, 0),
            target=target_percent(stat["target"], locale),
            estimate=f.pct(stat["estimate"], locale),
        )
    needed = more_needed_text(stat, locale, _) if more else None
    if code == "chua_du_can_cu" and needed:
        text += "; " + needed[0].lower() + needed[1:]  # "cần thêm khoảng N phiếu để khẳng định …"
    return text


def verdict_sentence(
    stat: dict, locale: str = "vi", _: Gettext = plain, level: float = 0.95, short: bool = False
) -> str:
    """ "Đạt — chắc chắn (95%) cao hơn chỉ tiêu 85%" and its kin; "" without a verdict."""
    reason = verdict_reason(stat, locale, _, level, short)
    return f"{verdict_label(stat.get('verdict'), _)} — {reason}" if reason else ""


def year_month_text(_: Gettext = plain) -> str:
    """Why a year can be decided while each of its months is not."""
    return _(
        "Vì sao cả kỳ có thể “Không đạt” (hoặc “Đạt”) trong khi từng tháng “Chưa đủ căn cứ”: "
        "mỗi tháng chỉ có một phần nhỏ số phiếu của cả kỳ, nên khoảng tin cậy của từng tháng "
        "rộng và thường chứa chỉ tiêu; gộp mọi tháng, khoảng tin cậy hẹp lại và có thể nằm "
        "trọn dưới (hoặc trên) chỉ tiêu. Hai kết luận không mâu thuẫn: tháng nào cũng chưa đủ "
        "phiếu để kết luận riêng, cả kỳ thì đủ."
    )


def year_month_applies(report: Report) -> bool:
    """The overall index is decided while some month is not (the explanation is due)."""
    decided = report.overall.get("verdict") in ("dat", "khong_dat")
    return decided and any(e["overall"].get("verdict") == "chua_du_can_cu" for e in report.months())


# Why two forms cannot be analysed together (``questionnaires.combine.REASONS``).
FORM_REASONS = {
    "scale": N_("thang đo khác nhau"),
    "aggregation": N_("cách tính chỉ số khác nhau"),
    "item_criterion": N_("một câu hỏi thuộc các tiêu chí khác nhau"),
    "weight": N_("trọng số của tiêu chí hoặc câu hỏi khác nhau"),
    "overall_item": N_("câu hỏi chung khác nhau"),
}


def month_words(month: str, _: Gettext = plain) -> str:
    """ "2026-03" -> "tháng 3/2026"."""
    year, num = month.split("-")
    return _("tháng %(m)d/%(y)s", m=int(num), y=year)


def cells_text(cells, _: Gettext = plain) -> str:
    """[(desk label, months)] grouped by months, so the common case (every desk lacks
    last month) reads as one list: "tháng 11/2026: Quầy A (Phường X), Quầy B (Xã Y)"."""
    by_months: dict[tuple[str, ...], list[str]] = {}
    for name, months in cells:
        by_months.setdefault(tuple(months), []).append(name)
    return "; ".join(
        f"{', '.join(month_words(m, _) for m in months)}: {', '.join(names)}"
        for months, names in by_months.items()
    )


def coverage_lines(report: Report, locale: str = "vi", _: Gettext = plain) -> list[str]:
    """How far the weighted responses reach, and how a sector filter is estimated."""
    lines = []
    cov = report.coverage
    if cov is not None and cov.share is not None:
        lines.append(
            _(
                "Phạm vi đại diện: %(share)s số hồ sơ (%(covered)s trên %(total)s hồ sơ) thuộc "
                "các quầy-tháng có phiếu. Tháng có hồ sơ mà không có phiếu của một quầy có "
                "phiếu ở tháng khác được chia cho các tháng có phiếu của quầy; quầy không có "
                "phiếu nào trong kỳ không được đại diện, nên chỉ số đại diện cho %(rep)s số "
                "hồ sơ.",
                share=f.pct(cov.share, locale),
                covered=f.num(cov.covered_volume, locale),
                total=f.num(cov.total_volume, locale),
                rep=f.pct(cov.represented_share, locale),
            )
        )
    if report.selection.sector is not None or report.selection.group is not None:
        lines.append(
            _(
                "Báo cáo theo lĩnh vực là một miền của cả báo cáo: trọng số được tính trên mọi "
                "phiếu của đơn vị và kỳ như trong báo cáo không lọc, chỉ số và sai số chỉ lấy "
                "các phiếu của lĩnh vực đã chọn, nên bằng đúng dòng của lĩnh vực đó trong báo "
                "cáo không lọc."
            )
        )
    if report.weighted and (report.selection.sector or report.selection.group):
        lines.append(
            _(
                "Số hồ sơ theo lĩnh vực của đơn vị được dùng làm một biên hiệu chỉnh của cả báo "
                "cáo, không dùng để tính lại trọng số riêng cho lĩnh vực."
            )
            if report.sector_margin is not None
            else _(
                "Số hồ sơ theo lĩnh vực không được dùng để tính trọng số: lĩnh vực được gia "
                "quyền theo số hồ sơ của quầy và tháng, như trong báo cáo không lọc."
            )
        )
    return lines


def note_text(note: Note, _: Gettext = plain) -> str:
    """A note in words; its ``params`` (``build`` sets them) fill the message."""
    if note.code not in NOTES:
        return note.code
    params = dict(note.params)
    if "cells" in params:
        params["cells"] = cells_text(params["cells"], _)
    if "reason" in params:
        params["reason"] = _label(FORM_REASONS, params["reason"], params["reason"], _)
    if "volume" in params:  # staff pages are Vietnamese: 9.646
        params["volume"] = f.num(params["volume"], "vi")
    for key in ("form", "forms"):  # "Phiếu rút gọn (phiên bản 1)", never short@1
        if key in params:
            params[key] = ", ".join(form_name(k.strip(), _) for k in str(params[key]).split(","))
    return _(NOTES[note.code], **params)


def form_name(key: str, _: Gettext = plain) -> str:
    """A form's key (``short@1``) as staff name it: "Phiếu rút gọn (phiên bản 1)"."""
    qid, _sep, version = key.partition("@")
    name = _(FORM_NAMES[qid]) if qid in FORM_NAMES else qid
    return _("%(name)s (phiên bản %(n)s)", name=name, n=version) if version else name


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
    if len(report.selection.forms) > 1:
        lines.append(
            _(
                "Phiếu đầy đủ và phiếu rút gọn dùng chung mã câu hỏi nên được tính chung: mỗi "
                "câu hỏi được tính trên mọi phiếu có câu hỏi đó, nên một phiếu rút gọn góp vào "
                "mỗi tiêu chí qua câu hỏi duy nhất của nó."
            )
        )
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
        if report.treated_cells:
            lines.append(
                _(
                    "Quầy-tháng chưa có số hồ sơ được gộp lại theo quầy, với số hồ sơ lấy bằng "
                    "bình quân các tháng đã có của quầy; phiếu của quầy chưa có số hồ sơ trong "
                    "cả kỳ được tính với trọng số bình quân. Các quầy-tháng khác vẫn được gia "
                    "quyền theo số hồ sơ của mình."
                )
            )
    else:
        lines.append(_("Các phiếu được tính với trọng số như nhau (không gia quyền)."))
    lines.extend(coverage_lines(report, locale, _))
    lines.append(
        _(
            "Khoảng tin cậy %(level)s được tính có xét đến thiết kế mẫu (%(strata)s, cụm là "
            "các phiếu của một quầy trong một ngày, phương pháp tuyến tính hóa Taylor, bậc tự "
            "do Satterthwaite) và qua phép biến đổi logit, nên luôn nằm trong khoảng 0–100%%.",
            level=f.pct(r["level"], locale, 0),
            strata=_("phân tầng theo quầy và tháng")
            if report.weighted
            else _("phân tầng theo quầy"),
        )
    )
    lines.append(
        _(
            "So với chỉ tiêu: “Đạt” khi cận dưới của khoảng tin cậy cao hơn chỉ tiêu; “Không "
            "đạt” khi cận trên thấp hơn chỉ tiêu; còn lại là “Chưa đủ căn cứ”."
        )
    )
    lines.append(more_needed_rule_text(r["level"], locale, _))
    if r["n_excluded"]:
        lines.append(
            _(
                "%(n)d phiếu bị gắn cờ nghi ngờ (ví dụ gửi dồn dập từ một thiết bị) được lưu "
                "nhưng không tính vào chỉ số.",
                n=r["n_excluded"],
            )
        )
    lines += representativeness_lines(report, locale, _)
    lines += minimum_design_lines(_)
    lines.append(ranking_method_text(r["level"], locale, _))
    for n in d["notes"]:
        text = analysis_note_text(n, _) if isinstance(n, dict) else None
        if text:
            lines.append(text)
    return lines


def representativeness_lines(report: Report, locale: str = "vi", _: Gettext = plain) -> list[str]:
    """What the interval does not cover: self-selection, the weighting's effect, missing margins."""
    rate = report.rate
    if rate is not None and rate.share is not None:
        lines = [
            _(
                "Tỷ lệ phản hồi %(rate)s (%(n)s phiếu / %(v)s hồ sơ): người trả lời tự chọn "
                "tham gia, không được chọn ngẫu nhiên, nên khoảng tin cậy chỉ phản ánh sai số "
                "do chọn mẫu, không bao gồm sai lệch do tự chọn tham gia.",
                rate=f.pct(rate.share, locale),
                n=f.num(rate.responses, locale),
                v=f.num(rate.volume, locale),
            )
        ]
    else:
        lines = [
            _(
                "Người trả lời tự chọn tham gia, không được chọn ngẫu nhiên, nên khoảng tin "
                "cậy chỉ phản ánh sai số do chọn mẫu, không bao gồm sai lệch do tự chọn tham gia."
            )
        ]
    s = report.sensitivity
    if s is not None and s.weighted is not None and s.difference is not None:
        points = f.num(s.difference * 100, locale, 1)
        if s.cells_only is not None:
            lines.append(
                _(
                    "Chỉ số chung: %(w)s (gia quyền theo số hồ sơ của quầy, tháng và lĩnh "
                    "vực); %(c)s nếu chỉ gia quyền theo quầy và tháng; %(u)s nếu không gia "
                    "quyền; chênh lệch lớn nhất %(d)s điểm phần trăm.",
                    w=f.pct(s.weighted, locale),
                    c=f.pct(s.cells_only, locale),
                    u=f.pct(s.unweighted, locale),
                    d=points,
                )
            )
        else:
            lines.append(
                _(
                    "Chỉ số chung: %(w)s (gia quyền theo số hồ sơ); %(u)s nếu không gia "
                    "quyền; chênh lệch %(d)s điểm phần trăm.",
                    w=f.pct(s.weighted, locale),
                    u=f.pct(s.unweighted, locale),
                    d=points,
                )
            )
        lines.append(
            _(
                "Chênh lệch này cho biết kết quả phụ thuộc vào cách gia quyền đến đâu; sai "
                "lệch do tự chọn tham gia thì không đo được từ dữ liệu khảo sát."
            )
        )
    lines.append(
        _(
            "Chưa hiệu chỉnh theo kênh trả lời (mã QR, đường liên kết, ki-ốt) và theo đặc "
            "điểm người trả lời (đối tượng, giới tính, nhóm tuổi) vì chưa đơn vị nào nhập "
            "cơ cấu của tổng thể theo các đặc điểm này."
        )
    )
    return lines


def ranking_method_text(level: float, locale: str = "vi", _: Gettext = plain) -> str:
    """How the rankings compare each unit, desk or sector with the overall index."""
    return _(
        "Trong các bảng xếp hạng, mỗi dòng được so với chỉ số chung của cả phạm vi báo cáo: "
        "chênh lệch giữa hai tỷ lệ và sai số chuẩn của chênh lệch được tính theo thiết kế "
        "mẫu (có xét đến việc dòng đó là một phần của mức chung). Vì mỗi bảng so sánh "
        "nhiều dòng cùng lúc, giá trị p được hiệu chỉnh theo phương pháp Holm, để khả năng "
        "có dù chỉ một dòng bị gọi sai là “cao/thấp hơn rõ rệt” trong cả bảng không quá "
        "%(alpha)s. Dòng chưa đủ số phiếu hoặc số ngày khảo sát thì không so sánh và "
        "không kết luận so với chỉ tiêu.",
        alpha=f.pct(1 - level, locale, 0),
    )


def minimum_design_lines(_: Gettext = plain) -> list[str]:
    """The minimum design below which nothing is concluded, and when "cần thêm" is given."""
    return [
        _(
            "Chỉ kết luận khi mẫu đủ lớn: có ít nhất %(n)d phiếu; ít nhất một nửa số quầy có phiếu "
            "trong ít nhất %(psu)d ngày, tức ít nhất %(psu)d đơn vị mẫu sơ cấp (quầy × ngày); "
            "và số đơn vị mẫu sơ cấp nhiều hơn số quầy ít nhất %(df)d (bậc tự do của thiết kế "
            "mẫu). Dưới mức đó (kỳ báo cáo quá "
            "ngắn hoặc quá ít phiếu), kết quả được ghi là “Chưa đủ căn cứ”, chỉ hiển thị tỷ lệ "
            "hài lòng ước tính (màu xám) cùng số phiếu, không hiển thị khoảng tin cậy và không "
            "ước tính số phiếu cần thêm.",
            n=MIN_RESPONSES,
            psu=MIN_PSUS_PER_STRATUM,
            df=MIN_DF,
        ),
        _(
            "Số phiếu cần thêm chỉ được nêu khi kỳ báo cáo chưa kết thúc và khi khả thi (tổng "
            "số phiếu không vượt quá số hồ sơ của kỳ), kèm hướng của nó: “để khẳng định Đạt” "
            "khi tỷ lệ ước tính cao hơn chỉ tiêu, “để khẳng định Không đạt” khi thấp hơn."
        ),
    ]


def more_needed_rule_text(level: float, locale: str = "vi", _: Gettext = plain) -> str:
    """What "cần thêm N phiếu" means: the planner's n (``analysis.planner``) at the
    current estimate and design effect, minus the responses already counted."""
    return _(
        "Số phiếu cần thêm được tính như khi lập kế hoạch cỡ mẫu, theo quy tắc kết luận: "
        "khoảng tin cậy %(level)s hai phía nằm trọn trên (hoặc dưới) chỉ tiêu; lực kiểm "
        "định %(power)s. Tức là với chừng ấy phiếu nữa, nếu tỷ lệ hài lòng thực bằng tỷ lệ "
        "ước tính hiện nay và hiệu ứng thiết kế giữ nguyên, khả năng kết luận được “Đạt” "
        "(hoặc “Không đạt”) là %(power)s.",
        level=f.pct(level, locale, 0),
        power=f.pct(POWER, locale, 0),
    )


def forms_text(report: Report, locale: str = "vi", _: Gettext = plain) -> str:
    """The forms a report covers: "Tất cả các phiếu (short@1, standard@1)" or one title and key."""
    sel = report.selection
    if len(sel.forms) > 1:
        forms = ", ".join(form_name(v.key, _) for v in sel.forms)
        return _("Tất cả các phiếu (%(forms)s)", forms=forms)
    title = report.questionnaire.title
    name = title.get(locale) or title.get("vi", "")
    size = _("%(n)d câu", n=len(report.questionnaire.all_item_codes()))
    if sel.picked:
        return _("%(name)s (%(key)s, mẫu phiếu đã chọn)", name=name, key=size)
    return f"{name} ({size})"


def target_text(report: Report, locale: str = "vi", _: Gettext = plain) -> str:
    t = report.targets.overall
    if t.threshold is None:
        return _("Chưa có chỉ tiêu năm %(year)d cho đơn vị này.", year=report.targets.year)
    return _(
        "Chỉ tiêu năm %(year)d: %(value)s. %(provenance)s",
        year=report.targets.year,
        value=target_percent(t.threshold, locale),
        provenance=target_provenance(t, locale, _),
    )


def target_lines(report: Report, locale: str = "vi", _: Gettext = plain) -> list[str]:
    """Every target the report judges against, each with where it comes from.

    The selection's own target first, then each sector group's (its own
    target, or the overall one it falls back to), then the units of the
    breakdown whose own target differs from the selection's.
    """
    t, sel = report.targets.overall, report.selection
    lines = []
    if t.threshold is not None:
        narrowed = sel.group is not None or sel.sector is not None
        lines.append(
            _(
                "%(scope)s: %(value)s — %(provenance)s",
                scope=_("Phạm vi đã chọn") if narrowed else _("Chung (mọi lĩnh vực)"),
                value=target_percent(t.threshold, locale),
                provenance=target_provenance(t, locale, _),
            )
        )
    for code, info in report.targets.groups.items():
        if info.threshold is None:
            continue
        lines.append(
            _(
                "%(group)s: %(value)s — %(provenance)s",
                group=report.label("sector_group", code),
                value=target_percent(info.threshold, locale),
                provenance=target_provenance(info, locale, _),
            )
        )
    for code, info in sorted(
        report.targets.units.items(), key=lambda kv: report.label("unit", kv[0])
    ):
        lines.append(
            _(
                "%(group)s: %(value)s — %(provenance)s",
                group=report.label("unit", code),
                value=target_percent(info.threshold, locale),
                provenance=target_provenance(info, locale, _),
            )
        )
    return lines


def target_percent(share: float, locale: str = "vi") -> str:
    """A target as typed: "85%", "85,5%" (no trailing zero)."""
    return f.pct(share, locale, 0 if abs(share * 100 - round(share * 100)) < 1e-6 else 1)


def target_provenance(t: Any, locale: str = "vi", _: Gettext = plain, public: bool = False) -> str:
    """Where a target comes from, in one line.

    ``t`` is a ``survey.reports.inputs.TargetInfo`` or a
    ``survey.services.org.targets.Provenance`` (the same fields): inherited
    from which unit and plan, or set at the unit, by whom, and how it compares
    with the target it would inherit. ``public`` (the citizens' board) names
    the unit instead of the staff member.
    """
    if t.inherited:
        if t.source:
            return _("Kế thừa từ %(unit)s — %(source)s", unit=t.unit_name, source=t.source)
        return _("Kế thừa từ %(unit)s", unit=t.unit_name)
    if public:
        line = _("Do %(unit)s đặt", unit=t.unit_name)
    elif t.set_by:
        line = _("Đặt tại đơn vị bởi %(name)s", name=t.set_by)
    else:
        line = _("Đặt tại đơn vị")
    if t.source:
        line += f" ({t.source})"
    if t.inherited_threshold is None:
        return line
    inherited = target_percent(t.inherited_threshold, locale)
    if t.threshold > t.inherited_threshold + 1e-9:
        return line + ", " + _("cao hơn chỉ tiêu kế thừa %(value)s", value=inherited)
    if t.threshold < t.inherited_threshold - 1e-9:
        if t.decided_by:
            return (
                line
                + ", "
                + _(
                    "thấp hơn chỉ tiêu kế thừa %(value)s, do %(unit)s quyết định",
                    value=inherited,
                    unit=t.decided_by,
                )
            )
        return line + ", " + _("thấp hơn chỉ tiêu kế thừa %(value)s", value=inherited)
    return line + ", " + _("bằng chỉ tiêu kế thừa %(value)s", value=inherited)


def group_name(report: Report, name: str, key: str, _: Gettext = plain) -> str:
    if key == NONE_CODE:
        return none_label(name, _)
    if name == "month":
        return f.month(date.fromisoformat(key + "-01"), "vi", short=True)
    if name == "survey_channel":
        return channel_label(key, _)
    return report.label(name, key)
