"""The Excel report: one sheet per table, Vietnamese headers, real numbers with formats.

Shares are stored as numbers (0.853) formatted ``0.0%``, so Excel shows 85,3%
in a Vietnamese locale and formulas can use them.  Every text cell goes
through ``_cell``: characters an XLSX file cannot hold are dropped (one stored
comment must not break every export covering it), then ``neutralise`` (no
formula injection from comments or names).
"""

from __future__ import annotations

import io
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from survey.reports import feedback_measures, inputs, texts
from survey.reports.build import Report
from survey.reports.csv_export import neutralise
from survey.reports.frame import NONE_CODE
from survey.text import clean_for_file

PCT = "0.0%"
PCT0 = "0%"
INT = "#,##0"
DEC2 = "0.00"
MAX_COMMENTS = 5000

SHEETS = {
    "summary": "Tổng hợp",
    "criteria": "Tiêu chí",
    "items": "Câu hỏi",
    "unit": "Đơn vị",
    "desk": "Quầy",
    "sector": "Lĩnh vực",
    "sector_group": "Nhóm lĩnh vực",
    "survey_channel": "Kênh đánh giá",
    "month": "Theo tháng",
    "comments": "Ý kiến",
    "pairs": "So sánh từng cặp",
    "details": "Chi tiết thống kê",
    "method": "Ghi chú phương pháp",
}
OVERALL_LABEL = "Chỉ số hài lòng chung"

_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DCE6F0")


def _cell(value):
    # Clean first: "\x01=cmd" must not become a formula once the control is gone.
    return neutralise(clean_for_file(value))


def _header(ws, names: list[str]) -> None:
    ws.append([_cell(n) for n in names])
    for cell in ws[ws.max_row]:
        cell.font = _BOLD
        cell.fill = _HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = f"A{ws.max_row + 1}"


def _append(ws, values: list, formats: dict[int, str] | None = None) -> None:
    ws.append([_cell(v) for v in values])
    for col, number_format in (formats or {}).items():
        ws.cell(ws.max_row, col).number_format = number_format


def _widths(ws, widths: list[int]) -> None:
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w


STAT_HEAD = [
    "Số phiếu",
    "Tỷ lệ hài lòng",
    "Cận dưới KTC",
    "Cận trên KTC",
    "Chỉ tiêu",
    "Kết luận",
    "Số phiếu cần thêm",
    "Số phiếu cần thêm để khẳng định",
    "Chưa đủ để kết luận",
    "Diễn giải kết luận",
]
STAT_FORMATS = [INT, PCT, PCT, PCT, PCT0, None, INT, None, None, None]
# The statisticians' columns of every estimate, on their own sheet (``_details``).
DETAILS_SHEET = SHEETS["details"]
DETAILS_HEAD = [
    "Bảng",
    "Mã",
    "Tên",
    "Số phiếu",
    "Tỷ lệ hài lòng",
    "Sai số chuẩn",
    "Bậc tự do",
    "Bậc tự do của khoảng tin cậy",
    "Giá trị p (một phía, so với chỉ tiêu)",
    "Hiệu ứng thiết kế",
    "Cỡ mẫu hiệu dụng",
]
DETAILS_FORMATS = [None, None, None, INT, PCT, "0.0000", INT, "0.0", "0.0000", DEC2, "#,##0.0"]
CONFIRMS = {"to_confirm_pass": "Đạt", "to_confirm_fail": "Không đạt"}


def _stat(s: dict, n: int | None = None) -> list:
    """The columns of STAT_HEAD; below the minimum design no interval, p or count."""
    ok = texts.adequate(s)
    more = s["more_needed"] if ok and s["more_needed"] else None
    return [
        s["n"] if n is None else n,
        s["estimate"],
        s["ci_low"] if ok else None,
        s["ci_high"] if ok else None,
        s["target"],
        texts.verdict_label(s["verdict"]),
        more,
        CONFIRMS.get(s.get("more_needed_direction") or "") if more else None,
        texts.small_tag(s) or None,
        texts.verdict_sentence(s) or None,  # the verdict in plain words
    ]


def _technical(s: dict, n: int | None = None) -> list:
    """The DETAILS_HEAD columns from "Số phiếu" on; below the minimum design none."""
    ok = texts.adequate(s)
    return [
        s["n"] if n is None else n,
        s["estimate"],
        s["se"] if ok else None,
        s.get("df") if ok else None,
        s.get("df_interval") if ok else None,
        s["p_value"] if ok else None,
        # Items: against p (1 - p) / n; indices: against the SRS variance of their
        # score (analysis.intervals); older results have only "deff".
        (s["deff"] if s.get("deff") is not None else s.get("deff_composite")) if ok else None,
        s.get("n_eff") if ok else None,
    ]


def _details(wb: Workbook, report: Report) -> None:
    """Every estimate of the other sheets with its SE, df, p-value, deff and n_eff."""
    ws = wb.create_sheet(DETAILS_SHEET)
    _header(ws, DETAILS_HEAD)
    formats = {i + 1: f for i, f in enumerate(DETAILS_FORMATS) if f}
    r = report.result
    rows = [(SHEETS["criteria"], "", OVERALL_LABEL, report.overall, None)]
    rows += [
        (SHEETS["criteria"], c["code"], c["name"].get("vi", ""), c, None) for c in r["criteria"]
    ]
    q = report.questionnaire
    item_texts = {it.code: it.text.get("vi", "") for it in q.items()}
    rows += [
        (SHEETS["items"], i["code"], item_texts.get(i["code"], ""), i, None) for i in r["items"]
    ]
    for name in ("unit", "desk", "sector", "sector_group", "survey_channel", "month"):
        entries = report.months() if name == "month" else report.ranked(name)
        for e in entries:
            label = texts.group_name(report, name, e["key"])
            rows.append((SHEETS[name], e["key"], label, e["overall"], e["n"]))
    for sheet, code, label, stat, n in rows:
        _append(ws, [sheet, code, label, *_technical(stat, n)], formats)
    _widths(ws, [16, 12, 44] + [12] * (len(DETAILS_HEAD) - 3))


def _finish(wb: Workbook) -> None:
    """Every table sheet: AutoFilter on its header row (frozen by ``_header``), and
    printed landscape, fitted to the page width, the header row on every page."""
    for ws in wb.worksheets:
        if not ws.freeze_panes or ws.max_row < 2:
            continue
        head = int(ws.freeze_panes[1:]) - 1
        last = get_column_letter(ws.max_column)
        ws.auto_filter.ref = f"A{head}:{last}{ws.max_row}"
        ws.print_title_rows = f"{head}:{head}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0  # as many pages down as it takes
        ws.sheet_properties.pageSetUpPr.fitToPage = True


def _stat_formats(first: int) -> dict[int, str]:
    return {first + i: fmt for i, fmt in enumerate(STAT_FORMATS) if fmt}


def _target_source(report: Report) -> str:
    """Where every target comes from, one per line (the cell wraps)."""
    if report.targets.overall.threshold is None:
        return texts.target_text(report)
    return "\n".join(texts.target_lines(report))


def _summary(wb: Workbook, report: Report) -> None:
    ws = wb.active
    ws.title = SHEETS["summary"]
    sel, r = report.selection, report.result
    o = r["overall"]
    ok, stat = texts.adequate(o), _stat(o)
    ws.append(["BÁO CÁO KẾT QUẢ KHẢO SÁT MỨC ĐỘ HÀI LÒNG"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([])
    _header(ws, ["Mục", "Giá trị"])
    rows: list[tuple[str, object, str | None]] = [
        ("Đơn vị", f"{sel.unit.name} ({sel.unit.code})", None),
        ("Từ ngày", sel.start, "dd/mm/yyyy"),
        ("Đến ngày", sel.end, "dd/mm/yyyy"),
        ("Quầy", f"{sel.desk.name} ({sel.desk.code})" if sel.desk else "Tất cả", None),
        ("Lĩnh vực", sel.sector.name if sel.sector else "Tất cả", None),
        ("Nhóm lĩnh vực", sel.group.name if sel.group else "Tất cả", None),
        ("Mẫu phiếu", texts.forms_text(report), None),
        (OVERALL_LABEL, o["estimate"], PCT),
        ("Cận dưới khoảng tin cậy", o["ci_low"] if ok else None, PCT),
        ("Cận trên khoảng tin cậy", o["ci_high"] if ok else None, PCT),
        ("Mức tin cậy", r["level"], PCT0),
        ("Chỉ tiêu", o["target"], PCT0),
        ("Nguồn chỉ tiêu", _target_source(report), None),
        ("Kết luận", texts.verdict_label(o["verdict"]), None),
        ("Diễn giải kết luận", texts.verdict_sentence(o, level=r["level"]), None),
        ("Số phiếu cần thêm để kết luận", stat[STAT_HEAD.index("Số phiếu cần thêm")], INT),
        (
            "Số phiếu cần thêm để khẳng định",
            stat[STAT_HEAD.index("Số phiếu cần thêm để khẳng định")],
            None,
        ),
        (
            "Chưa đủ để kết luận",
            None if ok else texts.small_sample_text(o["n"], r["design"].get("n_days")),
            None,
        ),
        ("Điểm trung bình (thang 1–5)", r["mean_score"]["estimate"], DEC2),
        ("Số phiếu tính vào chỉ số", r["n_responses"], INT),
        ("Số phiếu bị loại (gắn cờ nghi ngờ)", r["n_excluded"], INT),
        ("Số phiếu nhận được (mọi mẫu phiếu)", report.n_received, INT),
        ("Số phiếu theo mẫu phiếu khác (không tính)", sel.other_versions, INT),
        ("Số hồ sơ (theo quầy và tháng)", report.rate.volume if report.rate else None, INT),
        ("Tỷ lệ phản hồi", report.rate.share if report.rate else None, "0.00%"),
        (
            "Phạm vi đại diện (số hồ sơ của quầy-tháng có phiếu)",
            report.coverage.share if report.coverage else None,
            "0.0%",
        ),
        ("Gia quyền theo số hồ sơ", "Có" if report.weighted else "Không", None),
        ("Hiệu ứng thiết kế do trọng số (Kish)", r["design"]["kish_deff"], DEC2),
        ("Cỡ mẫu hiệu dụng", r["design"]["n_eff_kish"], "#,##0.0"),
        ("Ngày lập", report.generated_on, "dd/mm/yyyy"),
    ]
    if texts.year_month_applies(report):
        rows.append(("Kết luận theo tháng và cả kỳ", texts.year_month_text(), None))
    for label, value, number_format in rows:
        _append(ws, [label, value], {2: number_format} if number_format else None)
    _widths(ws, [44, 60])


def _criteria(wb: Workbook, report: Report) -> None:
    ws = wb.create_sheet(SHEETS["criteria"])
    _header(ws, ["Mã", "Tiêu chí", "Trọng số", *STAT_HEAD, "Điểm trung bình (1–5)"])
    rows = [("", OVERALL_LABEL, None, report.overall, report.result["mean_score"])]
    rows += [
        (c["code"], c["name"].get("vi", ""), c["weight"], c, c["mean_score"])
        for c in report.result["criteria"]
    ]
    for code, name, weight, s, mean in rows:
        formats = _stat_formats(4)
        formats[4 + len(STAT_HEAD)] = DEC2
        _append(ws, [code, name, weight, *_stat(s), mean["estimate"]], formats)
    _widths(ws, [8, 48, 9] + [13] * (len(STAT_HEAD) + 1))


def _items(wb: Workbook, report: Report) -> None:
    ws = wb.create_sheet(SHEETS["items"])
    q = report.questionnaire
    item_texts = {it.code: it.text.get("vi", "") for it in q.items()}
    _header(
        ws,
        [
            "Mã",
            "Câu hỏi",
            "Tiêu chí",
            "Không áp dụng",
            "Bỏ trống",
            *STAT_HEAD,
            "Điểm trung bình (1–5)",
        ],
    )
    rows = [
        (i["code"], item_texts.get(i["code"], ""), i["criterion"], i)
        for i in report.result["items"]
    ]
    oi = report.result.get("overall_item")
    if oi:
        rows.append(
            (oi["code"], q.overall_item.text.get("vi", "") if q.overall_item else "", "", oi)
        )
    for code, text, criterion, i in rows:
        formats = _stat_formats(6)
        formats[6 + len(STAT_HEAD)] = DEC2
        _append(
            ws,
            [
                code,
                text,
                criterion,
                i["n_na"],
                i["n_blank"],
                *_stat(i),
                i["mean_score"]["estimate"],
            ],
            formats,
        )
    _widths(ws, [8, 60, 9, 10, 9] + [13] * (len(STAT_HEAD) + 1))


# A ranking row against the overall index (analysis.compare; Holm within the sheet).
VERSUS_HEAD = [
    "So với chung",
    "Chênh lệch so với chung",
    "Sai số chuẩn của chênh lệch",
    "Giá trị p (hai phía, so với chung)",
    "Giá trị p đã hiệu chỉnh Holm",
]
VERSUS_FORMATS = [None, "+0.0%;-0.0%;0.0%", "0.0000", "0.0000", "0.0000"]


def _versus(e: dict) -> list:
    """The VERSUS_HEAD columns; empty below the minimum design."""
    vs = e.get("vs_overall")
    if vs is None:
        return [None] * len(VERSUS_HEAD)
    return [
        texts.versus_label(e),
        vs["difference"],
        vs["se"],
        vs["p_value"],
        vs["p_adjusted"],
    ]


# Two values compared (analysis.compare.pairs): a month against the one before, a
# unit against another; the difference in shares (0.012 = 1,2 điểm).
PAIR_HEAD = [
    "Chênh lệch",
    "Cận dưới KTC của chênh lệch",
    "Cận trên KTC của chênh lệch",
    "Giá trị p (hai phía)",
    "Khác biệt",
]
PAIR_FORMATS = ["+0.0%;-0.0%;0.0%", "+0.0%;-0.0%;0.0%", "+0.0%;-0.0%;0.0%", "0.0000", None]
PREVIOUS_HEAD = [f"So với tháng trước — {h}" for h in PAIR_HEAD]


def _pair(c: dict | None) -> list:
    if c is None:
        return [None] * len(PAIR_HEAD)
    return [c["difference"], c["ci_low"], c["ci_high"], c["p_value"], texts.pair_label(c)]


def _pairs(wb: Workbook, report: Report) -> None:
    """Every pair of units (and of sector groups): A against B, Holm over the pairs."""
    ws = wb.create_sheet(SHEETS["pairs"])
    _header(
        ws,
        [
            "Bảng",
            "Mã A",
            "A",
            "Mã B",
            "B",
            *PAIR_HEAD[:-1],
            "Giá trị p đã hiệu chỉnh Holm",
            "Khác biệt",
        ],
    )
    formats = {6 + i: f for i, f in enumerate(PAIR_FORMATS[:-1]) if f} | {10: "0.0000"}
    for name in ("unit", "sector_group"):
        entries = report.ranked(name)
        for i, e in enumerate(entries):
            for other in entries[i + 1 :]:
                c = (e.get("vs_others") or {}).get(other["key"])
                if c is None:
                    continue
                _append(
                    ws,
                    [
                        SHEETS[name],
                        e["key"],
                        texts.group_name(report, name, e["key"]),
                        other["key"],
                        texts.group_name(report, name, other["key"]),
                        *_pair(c)[:-1],
                        c["p_adjusted"],
                        texts.pair_label(c),
                    ],
                    formats,
                )
    _widths(ws, [14, 12, 30, 12, 30, 12, 12, 12, 12, 12, 30])


def _breakdown(wb: Workbook, report: Report, name: str) -> None:
    ws = wb.create_sheet(SHEETS[name])
    crit = [c.code for c in report.questionnaire.criteria]
    head = ["Mã", "Tên"]
    if name == "desk":
        head.append("Đơn vị hiện nay")
    if name == "month":
        head = ["Tháng", "Tên"]
    head += [*STAT_HEAD, "Số hồ sơ", "Tỷ lệ phản hồi", *[f"Tiêu chí {c}" for c in crit]]
    ranked = name != "month"
    if ranked:
        head += VERSUS_HEAD
    else:
        head += PREVIOUS_HEAD
    _header(ws, head)
    entries = report.months() if name == "month" else report.ranked(name)
    rates = report.rates.get(name, {})
    first = 4 if name == "desk" else 3
    for e in entries:
        label = texts.group_name(report, name, e["key"])
        # A month is a real date (its first day) shown mm/yyyy, so Excel sorts and filters it.
        key = date.fromisoformat(e["key"] + "-01") if name == "month" else e["key"]
        row = [key, label]
        if name == "desk":
            row.append(report.labels.desk_units.get(e["key"], ""))
        rate = rates.get(e["key"])
        row += [
            *_stat(e["overall"], e["n"]),
            rate.volume if rate else None,
            rate.share if rate else None,
            *[c["estimate"] for c in e["criteria"]],
        ]
        formats = _stat_formats(first)
        if name == "month":
            formats[1] = "mm/yyyy"
        after = first + len(STAT_HEAD)
        formats[after] = INT
        formats[after + 1] = "0.00%"
        for i in range(len(crit)):
            formats[after + 2 + i] = PCT
        if ranked:
            row += _versus(e)
            for i, fmt in enumerate(VERSUS_FORMATS):
                if fmt:
                    formats[after + 2 + len(crit) + i] = fmt
        else:
            row += _pair(e.get("vs_previous"))
            for i, fmt in enumerate(PAIR_FORMATS):
                if fmt:
                    formats[after + 2 + len(crit) + i] = fmt
        _append(ws, row, formats)
    _widths(ws, [12, 36] + ([22] if name == "desk" else []) + [12] * (len(head) - 2))


def _comments(wb: Workbook, session: Session, report: Report) -> None:
    ws = wb.create_sheet(SHEETS["comments"])
    _header(
        ws,
        ["Ngày", "Đơn vị", "Quầy", "Lĩnh vực", "Loại", "Trạng thái", "Nội dung", "Phiếu bị gắn cờ"],
    )
    rows, total = inputs.comments(session, report.selection, limit=MAX_COMMENTS)
    for c in rows:
        _append(
            ws,
            [
                c.day,
                c.unit,
                report.labels.desks.get(c.desk) or c.desk,
                report.labels.sectors.get(c.sector) or ("" if c.sector == NONE_CODE else c.sector),
                texts.kind_label(c.kind),
                texts.status_label(c.status),
                c.text,
                "có" if c.flagged else "",
            ],
            {1: "dd/mm/yyyy"},
        )
        ws.cell(ws.max_row, 7).alignment = Alignment(wrap_text=True, vertical="top")
    if total > len(rows):
        _append(ws, [None, f"Chỉ liệt kê {len(rows)} ý kiến mới nhất trong tổng số {total}."])
    _widths(ws, [12, 16, 28, 18, 16, 12, 80, 10])


def _method(wb: Workbook, report: Report) -> None:
    ws = wb.create_sheet(SHEETS["method"])
    _header(ws, ["Ghi chú"])
    for line in texts.method_lines(report):
        _append(ws, [line])
    for note in report.notes:
        _append(ws, [texts.note_text(note)])
    d = report.result["design"]
    _append(
        ws,
        [
            f"Thiết kế mẫu: {d['n_strata']} tầng "
            f"({'quầy × tháng' if report.weighted else 'quầy'}), {d['n_psu']} đơn vị mẫu "
            f"sơ cấp (quầy × ngày), bậc tự do của thiết kế {d['df']} (số đơn vị mẫu sơ cấp "
            "trừ số tầng); khoảng tin cậy dùng bậc tự do Satterthwaite của từng ước lượng."
        ],
    )
    for row in ws.iter_rows(min_row=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    _widths(ws, [120])


FEEDBACK_SHEET = "Xử lý ý kiến"


def _feedback_handling(wb: Workbook, session: Session, report: Report) -> None:
    """The sixth criterion from the handling data: per unit and month, beside the
    PH items' satisfaction (the "Câu hỏi" sheet)."""
    ws = wb.create_sheet(FEEDBACK_SHEET)
    _header(
        ws,
        [
            "Tháng",
            "Đơn vị",
            "Ý kiến nhận được",
            "Đã trả lời",
            "Đến hạn hoặc đã trả lời",
            "Trả lời đúng hạn",
            "Tỷ lệ trả lời đúng hạn",
            "Thời gian xử lý trung vị (ngày)",
        ],
    )
    for row in feedback_measures.rows(session, report):
        m = row.measure
        _append(
            ws,
            [
                row.month,
                row.unit,
                m.received,
                m.answered,
                m.due,
                m.on_time,
                m.share_on_time,
                m.median_days,
            ],
            {3: INT, 4: INT, 5: INT, 6: INT, 7: PCT, 8: DEC2},
        )
    _append(
        ws,
        [
            None,
            "Tỷ lệ đúng hạn: trong các ý kiến đã trả lời hoặc đã quá hạn, phần được trả lời "
            "công khai không muộn hơn hạn (ngày làm việc theo cài đặt). Thời gian xử lý: từ "
            "lúc nhận đến câu trả lời công khai đầu tiên.",
        ],
    )
    _widths(ws, [10, 36, 12, 12, 14, 12, 12, 14])


FEEDBACK_HEAD = [
    "Mã theo dõi",
    "Số",
    "Nhận lúc",
    "Đơn vị",
    "Quầy",
    "Loại",
    "Trạng thái",
    "Cần chú ý",
    "Hạn trả lời",
    "Trả lời lúc",
    "Số ngày xử lý",
    "Đúng hạn",
    "Đóng lúc",
    "Lý do đóng",
    "Người xử lý",
    "Nội dung",
    "Trả lời công khai",
]


def feedback_items(rows: list[dict]) -> bytes:
    """The inbox export (services.feedback.export_rows): one row per case with its
    handling times. Never a contact or an internal note: they are not in ``rows``."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Ý kiến"
    _header(ws, FEEDBACK_HEAD)

    def naive(moment):
        return moment.replace(tzinfo=None) if moment is not None else None

    for r in rows:
        item = r["item"]
        _append(
            ws,
            [
                item.tracking_code or "",
                item.id,
                naive(r["received"]),
                item.unit_name,
                f"{item.desk_name} ({item.desk_code})",
                texts.kind_label(item.kind),
                texts.status_label(item.status),
                "có" if item.attention else "",
                item.due_on,
                naive(r["replied"]),
                r["handling_days"],
                {True: "đúng hạn", False: "trễ hạn"}.get(
                    r["on_time"], "quá hạn" if item.overdue else ""
                ),
                naive(r["closed"]),
                r["close_reason"] or "",
                item.assignee or "",
                item.text,
                r["reply"] or "",
            ],
            {
                3: "dd/mm/yyyy hh:mm",
                9: "dd/mm/yyyy",
                10: "dd/mm/yyyy hh:mm",
                11: DEC2,
                13: "dd/mm/yyyy hh:mm",
            },
        )
    _widths(ws, [14, 8, 16, 24, 24, 14, 12, 8, 12, 16, 10, 10, 16, 24, 16, 60, 60])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def render(session: Session, report: Report) -> bytes:
    wb = Workbook()
    _summary(wb, report)
    _criteria(wb, report)
    _items(wb, report)
    for name in ("unit", "desk", "sector", "sector_group", "survey_channel", "month"):
        _breakdown(wb, report, name)
    _comments(wb, session, report)
    _feedback_handling(wb, session, report)
    _pairs(wb, report)
    _details(wb, report)
    _method(wb, report)
    _finish(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
