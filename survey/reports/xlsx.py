"""The Excel report: one sheet per table, Vietnamese headers, real numbers with formats.

Shares are stored as numbers (0.853) formatted ``0.0%``, so Excel shows 85,3%
in a Vietnamese locale and formulas can use them.  Every text cell goes
through ``_cell``: characters an XLSX file cannot hold are dropped (one stored
comment must not break every export covering it), then ``neutralise`` (no
formula injection from comments or names).
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from survey.reports import inputs, texts
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
    "Sai số chuẩn",
    "Hiệu ứng thiết kế",
    "Chỉ tiêu",
    "Kết luận",
    "Giá trị p (một phía)",
    "Số phiếu cần thêm",
    "Số phiếu cần thêm để khẳng định",
    "Chưa đủ để kết luận",
]
STAT_FORMATS = [INT, PCT, PCT, PCT, "0.0000", DEC2, PCT0, None, "0.0000", INT, None, None]
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
        s["se"] if ok else None,
        # Items: against p (1 - p) / n; indices: against the SRS variance of their
        # score (analysis.intervals); older results have only "deff".
        (s["deff"] if s.get("deff") is not None else s.get("deff_composite")) if ok else None,
        s["target"],
        texts.verdict_label(s["verdict"]),
        s["p_value"] if ok else None,
        more,
        CONFIRMS.get(s.get("more_needed_direction") or "") if more else None,
        texts.small_tag(s) or None,
    ]


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
        ("Ngày lập", report.generated_at.date(), "dd/mm/yyyy"),
    ]
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
    _header(ws, head)
    entries = report.months() if name == "month" else report.ranked(name)
    rates = report.rates.get(name, {})
    first = 4 if name == "desk" else 3
    for e in entries:
        label = texts.group_name(report, name, e["key"])
        row = [e["key"], label]
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


def render(session: Session, report: Report) -> bytes:
    wb = Workbook()
    _summary(wb, report)
    _criteria(wb, report)
    _items(wb, report)
    for name in ("unit", "desk", "sector", "sector_group", "survey_channel", "month"):
        _breakdown(wb, report, name)
    _comments(wb, session, report)
    _method(wb, report)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
