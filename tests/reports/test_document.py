"""The report as an administrative document (NĐ 30/2020/NĐ-CP): PDF and DOCX.

Both carry the header (issuing agency, Quốc hiệu, Tiêu ngữ, số, place and
date), the closing (nơi nhận, signature block) and the numbers of the JSON;
no text on any PDF page overprints another.
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import date, datetime
from html import unescape

import pytest
from click.testing import CliRunner
from docx import Document
from docx.shared import Pt

from survey import clock
from survey.cli import cli
from survey.reports import charts, pdf
from survey.reports import fmt as f
from tests.support import PERIOD, TEST_SECRET, pdf_text, plant_comment, run_report

CAMRANH = ("--unit", "KH-CAMRANH", *PERIOD)


def _report(url, tmp_path, fmt_, *args, env=None):
    out = tmp_path / f"r.{fmt_}"
    base = {"SURVEY_DATABASE_URL": url, "SURVEY_SECRET_KEY": TEST_SECRET, "SURVEY_ENV": "testing"}
    result = CliRunner().invoke(
        cli,
        ["report", *args, "--format", fmt_, "-o", str(out)],
        env={**base, **(env or {})},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return out


def _docx_text(path) -> str:
    doc = Document(path)
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


def test_pdf_and_docx_carry_the_administrative_format_and_the_json_overall(demo_db_url, tmp_path):
    doc = json.loads(_report(demo_db_url, tmp_path, "json", *CAMRANH).read_text("utf-8"))
    o = doc["overall"]
    shown, interval = f.pct(o["estimate"]), f.interval(o["ci_low"], o["ci_high"])
    pdf_path = _report(demo_db_url, tmp_path, "pdf", *CAMRANH)
    docx_path = _report(demo_db_url, tmp_path, "docx", *CAMRANH)
    # The document is dated in Vietnam time: after 17:00 UTC that is the next day.
    stamp = datetime.fromisoformat(doc["report"]["generated_at"].removesuffix("Z"))
    made = clock.local_day(stamp, "Asia/Ho_Chi_Minh")
    for text in (pdf_text(pdf_path), _docx_text(docx_path)):
        flat = " ".join(text.split())
        # Header: parent agency above the issuing unit, national name and motto.
        assert "TỈNH KHÁNH HÒA" in flat and "PHƯỜNG CAM RANH" in flat
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in flat
        assert "Độc lập - Tự do - Hạnh phúc" in flat
        assert re.search(r"Số:\s+/BC-", text)
        assert f"Cam Ranh, ngày {made.day:02d} tháng" in flat
        assert "BÁO CÁO Kết quả khảo sát mức độ hài lòng" in flat
        # Closing: recipients and the signature block.
        assert "Nơi nhận:" in flat and "- Lưu: VT" in flat
        assert "THỦ TRƯỞNG CƠ QUAN" in flat and "[Họ và tên người ký]" in flat
        # The numbers of the JSON, and the verdict in words.
        assert f"Chỉ số hài lòng chung: {shown}" in flat
        assert interval in flat
        assert (
            f"Kết luận: Không đạt — chắc chắn (95%) thấp hơn chỉ tiêu {f.pct(o['target'], 'vi', 0)}"
            in flat
        )
    # The DOCX verdict table row of the overall index holds the JSON's figures.
    word = Document(docx_path)
    [row] = [
        [c.text for c in r.cells]
        for t in word.tables
        for r in t.rows
        if r.cells[0].text == "Chỉ số hài lòng chung"
    ]
    assert row[1:5] == [f.num(o["n"]), shown, interval, f.pct(o["target"], "vi", 0)]
    # Fonts and margins of the decree.
    section = word.sections[0]
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert [round(m.mm, 1) for m in margins] == [20, 20, 30, 15]  # stored in twips
    normal = word.styles["Normal"].font
    assert normal.name == "Times New Roman" and normal.size == Pt(13)
    raw = pdf_path.read_bytes()
    assert b"LiberationSerif" in raw


def _words(path) -> list[list[tuple[float, float, float, float, str]]]:
    html = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    pattern = re.compile(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
    )
    return [
        [
            (float(a), float(b), float(c), float(d), unescape(t))
            for a, b, c, d, t in pattern.findall(page)
        ]
        for page in html.split("<page ")[1:]
    ]


def overlapping(words, tol: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of words whose boxes share more than ``tol`` points in both directions."""
    out = []
    ws = sorted(words, key=lambda w: w[1])
    for i, a in enumerate(ws):
        for b in ws[i + 1 :]:
            if b[1] >= a[3] - tol:
                break
            if min(a[2], b[2]) - max(a[0], b[0]) > tol and min(a[3], b[3]) - max(a[1], b[1]) > tol:
                out.append((a[4], b[4]))
    return out


def test_overlap_check_sees_overprinted_text():
    a = (10.0, 10.0, 60.0, 20.0, "31/10/2026")
    assert overlapping([a, (55.0, 11.0, 80.0, 21.0, "Trang")]) == [("31/10/2026", "Trang")]
    assert overlapping([a, (61.0, 10.0, 80.0, 20.0, "Trang"), (10.0, 20.0, 40.0, 30.0, "x")]) == []


@pytest.mark.parametrize("unit", ["KH", "KH-TTHCC"])  # the province; a long unit name
def test_no_text_overlaps_on_any_pdf_page_and_all_within_the_margins(demo_db_url, tmp_path, unit):
    path = _report(demo_db_url, tmp_path, "pdf", "--unit", unit, *PERIOD)
    pages = _words(path)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "p")], check=True)
    assert len(list(tmp_path.glob("p-*.png"))) == len(pages) > 2
    mm = 72 / 25.4
    for number, words in enumerate(pages, start=1):
        assert overlapping(words) == [], f"page {number}"
        body = [w for w in words if not (w[4].isdigit() and w[1] < 20 * mm)]
        assert min(w[0] for w in body) >= 30 * mm - 0.5, f"left margin, page {number}"
        assert max(w[2] for w in body) <= (210 - 15) * mm + 0.5, f"right margin, page {number}"
        assert min(w[1] for w in body) >= 20 * mm - 3, f"top margin, page {number}"
        assert max(w[3] for w in body) <= (297 - 20) * mm + 0.5, f"bottom margin, page {number}"
        if number > 1:  # the page number, centred in the top margin
            [n] = [w for w in words if w[1] < 20 * mm]
            assert n[4] == str(number) and abs((n[0] + n[2]) / 2 - (30 + 165 / 2) * mm) < 3


def test_criteria_chart_keeps_long_names_whole_and_values_off_the_whiskers():
    long = "Tiếp nhận và xử lý thông tin phản hồi (phản ánh, kiến nghị)"
    rows = [("Tiếp cận dịch vụ", 0.869, 0.859, 0.879), (long, 0.715, 0.70, 0.73)]
    scene = charts.labelled_bars(rows, 0.85, width=pdf.WIDTH, label_width=170)
    texts = [s for s in scene.shapes if s.kind == "text"]
    words = " ".join(s.text for s in texts)
    assert "…" not in words and all(w in words.split() for w in long.split())
    lines = [s.attrs for s in scene.shapes if s.kind == "line"]
    size = charts.LABEL_SIZE
    for t in texts:
        a = t.attrs
        w = len(t.text) * size * charts.CHAR_EM
        left = {"start": a["x"], "middle": a["x"] - w / 2, "end": a["x"] - w}[a["anchor"]]
        box = (left, a["y"] - size * 0.75, left + w, a["y"] + size * 0.2)
        for ln in lines:
            hits_x = min(ln["x1"], ln["x2"]) < box[2] and max(ln["x1"], ln["x2"]) > box[0]
            hits_y = min(ln["y1"], ln["y2"]) < box[3] and max(ln["y1"], ln["y2"]) > box[1]
            assert not (hits_x and hits_y), (t.text, ln)


@pytest.mark.parametrize(
    ("day", "line"),
    [
        (date(2026, 12, 1), "Cam Ranh, ngày 01 tháng 12 năm 2026"),
        (date(2026, 2, 5), "Cam Ranh, ngày 05 tháng 02 năm 2026"),
        (date(2026, 3, 15), "Cam Ranh, ngày 15 tháng 3 năm 2026"),
    ],
)
def test_date_line_pads_days_below_10_and_january_february(day, line):
    assert pdf.date_line("Cam Ranh", day) == line


def test_place_comes_from_the_nearest_unit_with_an_administrative_name():
    assert pdf.place_name(["Phường Cam Ranh", "Tỉnh Khánh Hòa"]) == "Cam Ranh"
    assert (
        pdf.place_name(["Trung tâm Phục vụ hành chính công tỉnh", "Tỉnh Khánh Hòa (dữ liệu mẫu)"])
        == "Khánh Hòa"
    )
    assert pdf.place_name(["Thành phố Hồ Chí Minh"]) == "Hồ Chí Minh"


def test_issuer_and_place_settings_name_the_agency(demo_db_url, tmp_path):
    env = {
        "SURVEY_REPORT_ISSUER": "UBND tỉnh Khánh Hòa | Sở Nội vụ",
        "SURVEY_REPORT_PLACE": "Nha Trang",
        "SURVEY_REPORT_SIGNER_TITLE": "Giám đốc",
    }
    text = " ".join(pdf_text(_report(demo_db_url, tmp_path, "pdf", *CAMRANH, env=env)).split())
    assert "UBND TỈNH KHÁNH HÒA" in text and "SỞ NỘI VỤ" in text
    assert "PHƯỜNG CAM RANH" not in text.split("CỘNG HÒA")[0]
    assert "Nha Trang, ngày" in text and "GIÁM ĐỐC" in text


def test_docx_is_an_export_format_and_bad_formats_still_fail(demo_db_url, tmp_path):
    out = tmp_path / "r.doc"
    result = run_report(demo_db_url, *CAMRANH, "--format", "doc", "-o", str(out))
    assert result.exit_code == 2 and not out.exists()


def test_docx_survives_stored_control_characters(demo_db, demo_db_url, tmp_path):
    # Stored before the input checks: XML 1.0 cannot hold \x01, the file must still build.
    plant_comment(demo_db, text="Chậm\x01 quá\ufffe, “phản ánh”")
    path = _report(demo_db_url, tmp_path, "docx", *CAMRANH)
    text = _docx_text(path)
    assert "Chậm quá, “phản ánh”" in text and "\x01" not in text
