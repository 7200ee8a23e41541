"""Verdicts in plain words beside every badge: dashboard, PDF, DOCX and XLSX."""

from __future__ import annotations

import re
from html import unescape

import pytest
from openpyxl import load_workbook

from survey.reports import texts
from survey.reports.xlsx import SHEETS
from tests.support import PERIOD, pdf_text, run_report


def stat(verdict, estimate=0.841, target=0.85, **extra):
    return {
        "verdict": verdict,
        "estimate": estimate,
        "target": target,
        "ci_low": estimate - 0.02,
        "ci_high": estimate + 0.02,
        "more_needed": None,
        "more_needed_direction": None,
        **extra,
    }


@pytest.mark.parametrize(
    ("s", "long", "short"),
    [
        (
            stat("dat", 0.90),
            "Đạt — chắc chắn (95%) cao hơn chỉ tiêu 85%",
            "Đạt — chắc chắn cao hơn chỉ tiêu",
        ),
        (
            stat("khong_dat", 0.80),
            "Không đạt — chắc chắn (95%) thấp hơn chỉ tiêu 85%",
            "Không đạt — chắc chắn thấp hơn chỉ tiêu",
        ),
        (
            stat("chua_du_can_cu", more_needed=1240, more_needed_direction="to_confirm_fail"),
            "Chưa đủ căn cứ — kết quả 84,1% có thể cao hoặc thấp hơn chỉ tiêu 85%; "
            "cần thêm khoảng 1.240 phiếu để khẳng định Không đạt",
            "Chưa đủ căn cứ — có thể cao hoặc thấp hơn chỉ tiêu; "
            "cần thêm khoảng 1.240 phiếu để khẳng định Không đạt",
        ),
        (
            stat("chua_du_can_cu"),
            "Chưa đủ căn cứ — kết quả 84,1% có thể cao hoặc thấp hơn chỉ tiêu 85%",
            "Chưa đủ căn cứ — có thể cao hoặc thấp hơn chỉ tiêu",
        ),
        # Below the minimum design: why nothing is concluded, no count promised.
        (
            stat(
                "chua_du_can_cu",
                adequate=False,
                too_small=["few_responses"],
                more_needed=50,
                more_needed_direction="to_confirm_pass",
            ),
            "Chưa đủ căn cứ — ít phiếu",
            "Chưa đủ căn cứ — ít phiếu",
        ),
        (stat(None, target=None), "", ""),
    ],
)
def test_verdict_sentences(s, long, short):
    assert texts.verdict_sentence(s) == long
    assert texts.verdict_sentence(s, short=True) == short


def visible(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_dashboard_gives_a_reason_beside_every_badge_and_explains_year_vs_month(analyst):
    html = analyst.get("/staff/reports").get_data(as_text=True)
    cells = re.findall(r'<span class="badge v-(\w+)">[^<]*</span>(.{0,200})', html, re.S)
    assert len(cells) > 10
    words = {
        "dat": "chắc chắn",
        "khong_dat": "chắc chắn",
        "chua_du_can_cu": "có thể cao hoặc thấp hơn chỉ tiêu",
    }
    for code, after in cells:
        small = "ít phiếu" in after or "ít ngày" in after or "một ngày" in after
        assert words[code] in after or small, (code, after)
    text = visible(html)
    # Cam Ranh's year is "Không đạt" while some months are "Chưa đủ căn cứ".
    assert "Không đạt — chắc chắn (95%) thấp hơn chỉ tiêu 87%" in text
    assert "Vì sao cả kỳ có thể “Không đạt”" in text


def test_small_sample_headline_is_greyed_with_its_tag(analyst):
    html = analyst.get("/staff/reports?from=2026-10-01&to=2026-10-03").get_data(as_text=True)
    assert 'class="index small"' in html
    assert re.search(r'<p class="ci">n = [\d.]+ <span class="tag">ít (phiếu|ngày khảo sát)', html)


def test_files_carry_the_reasons(demo_db_url, tmp_path):
    args = ("--unit", "KH-CAMRANH", *PERIOD)
    pdf = tmp_path / "r.pdf"
    assert run_report(demo_db_url, *args, "--format", "pdf", "-o", str(pdf)).exit_code == 0
    text = " ".join(pdf_text(pdf).split())
    assert "Kết luận: Không đạt — chắc chắn (95%) thấp hơn chỉ tiêu 87%." in text
    assert "Vì sao cả kỳ có thể “Không đạt”" in text
    assert "chắc chắn cao hơn chỉ tiêu" in text  # a table row
    book = tmp_path / "r.xlsx"
    assert run_report(demo_db_url, *args, "--format", "xlsx", "-o", str(book)).exit_code == 0
    wb = load_workbook(book)
    summary = {r[0].value: r[1].value for r in wb[SHEETS["summary"]].iter_rows(min_row=3)}
    assert summary["Diễn giải kết luận"] == "Không đạt — chắc chắn (95%) thấp hơn chỉ tiêu 87%"
    assert summary["Kết luận theo tháng và cả kỳ"].startswith("Vì sao cả kỳ")
    months = wb[SHEETS["month"]]
    head = [c.value for c in months[1]]
    col = head.index("Diễn giải kết luận")
    verdicts = head.index("Kết luận")
    for row in months.iter_rows(min_row=2):
        assert row[col].value.startswith(row[verdicts].value + " — ")
