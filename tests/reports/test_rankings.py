"""Rankings say which rows differ from the overall index (Holm-adjusted), and a row
below the minimum design gets neither that nor a verdict (demo data)."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from tests.reports.test_small_samples import pdf_text, visible

OCTOBER = "from=2026-10-01&to=2026-10-31"
YEAR = "from=2026-01-01&to=2026-10-31"
LABELS = {"higher": "Cao hơn rõ rệt", "lower": "Thấp hơn rõ rệt", "none": "Không khác biệt rõ"}
NOTE = (
    "Thứ hạng theo tỷ lệ ước tính; chỉ các dòng “cao/thấp hơn rõ rệt” khác mức chung có ý "
    "nghĩa thống kê (đã hiệu chỉnh Holm cho nhiều so sánh)"
)


def ranking_rows(html: str, title: str) -> list[tuple[str, bool, str]]:
    """(name cell, greyed, "So với chung" cell) of each row of one ranking table."""
    section = html.split(f"<h2>Xếp hạng: {title}</h2>", 1)[1].split("</section>", 1)[0]
    assert visible(section).count(NOTE) == 1  # the line under the table
    assert "<th>So với chung</th>" in section
    rows = []
    for attrs, body in re.findall(r"<tr([^>]*)>(.*?)</tr>", section.split("<tbody>", 1)[1], re.S):
        name = visible(re.search(r'<td class="name">(.*?)</td>', body, re.S).group(1))
        versus = visible(re.search(r'<td class="versus">(.*?)</td>', body, re.S).group(1))
        rows.append((name, 'class="small"' in attrs, versus))
    return rows


def expected(entry: dict) -> str:
    vs = entry["vs_overall"]
    if vs is None:
        return ""
    return LABELS[vs["direction"] if vs["significant"] else "none"]


def test_desk_ranking_shows_which_desks_differ_from_the_overall_index(sign_in_as):
    client = sign_in_as("analyst", unit_code="KH")
    html = client.get(f"/staff/reports?{OCTOBER}").get_data(as_text=True)
    doc = client.get(f"/staff/reports/export.json?{OCTOBER}").get_json()
    entries = sorted(doc["groups"]["desk"], key=lambda e: -e["overall"]["estimate"])
    rows = ranking_rows(html, "Quầy")
    assert len(rows) == len(entries) == 14
    shown = [versus for _name, _small, versus in rows]
    assert shown == [expected(e) for e in entries]
    flagged = [v for v in shown if v in (LABELS["higher"], LABELS["lower"])]
    # Some desks stand out from the province's index, most rows claim no difference.
    assert 1 <= len(flagged) < len(rows) / 2
    assert LABELS["higher"] in flagged and LABELS["lower"] in flagged
    assert LABELS["none"] in shown
    # A desk below the minimum design (greyed) shows no comparison, and no verdict.
    small = [(name, versus) for name, is_small, versus in rows if is_small]
    assert small and all(versus == "" for _name, versus in small)
    for e in entries:
        if not e["overall"]["adequate"]:
            assert e["vs_overall"] is None
            assert e["overall"]["verdict"] == "chua_du_can_cu"
    # Holm: every desk called different is different after the adjustment.
    for e in entries:
        vs = e["vs_overall"]
        if vs is not None and vs["significant"]:
            assert vs["p_adjusted"] < 0.05 and vs["p_adjusted"] >= vs["p_value"]


def test_the_top_units_share_one_label_rather_than_a_meaningful_order(sign_in_as):
    """98.0 / 97.5 / 97.4% with n = 68 / 59 / 117: all above the province, not ranked apart."""
    client = sign_in_as("analyst", unit_code="KH")
    html = client.get(f"/staff/reports?{YEAR}").get_data(as_text=True)
    rows = ranking_rows(html, "Đơn vị")
    assert [versus for _name, _small, versus in rows[:3]] == [LABELS["higher"]] * 3
    assert any(versus == LABELS["lower"] for _name, _small, versus in rows)


def test_a_month_of_six_responses_gets_no_verdict(sign_in_as):
    """Xã Cam Lâm, March: 6 responses, all satisfied, target 85%: not "Đạt"."""
    client = sign_in_as("analyst", unit_code="KH")
    doc = client.get(f"/staff/reports/export.json?unit=KH-CAMLAM&{YEAR}").get_json()
    march = next(e for e in doc["groups"]["month"] if e["key"] == "2026-03")
    assert march["n"] == 6 and march["overall"]["estimate"] == 1.0
    assert march["overall"]["target"] is not None and march["overall"]["target"] < 1.0
    assert not march["overall"]["adequate"]
    assert march["overall"]["verdict"] == "chua_du_can_cu"
    assert march["vs_overall"] is None
    assert doc["overall"]["verdict"] == "dat"  # the unit itself, n = 68, is judged


def test_exports_carry_the_comparison(sign_in_as):
    client = sign_in_as("analyst", unit_code="KH")
    doc = client.get(f"/staff/reports/export.json?{OCTOBER}").get_json()
    by_key = {e["key"]: e for e in doc["groups"]["desk"]}
    wb = load_workbook(io.BytesIO(client.get(f"/staff/reports/export.xlsx?{OCTOBER}").data))
    ws = wb["Quầy"]
    head = [c.value for c in ws[1]]
    col = head.index("So với chung")
    holm = head.index("Giá trị p đã hiệu chỉnh Holm")
    seen = 0
    for row in ws.iter_rows(min_row=2, values_only=True):
        e = by_key[row[0]]
        assert (row[col] or "") == expected(e)
        if e["vs_overall"] is None:
            assert row[holm] is None
        else:
            assert abs(row[holm] - e["vs_overall"]["p_adjusted"]) < 1e-12
            seen += 1
    assert seen >= 3
    assert "Theo tháng" in wb.sheetnames and "So với chung" not in [
        c.value for c in wb["Theo tháng"][1]
    ]
    pdf = pdf_text(client.get(f"/staff/reports/export.pdf?{OCTOBER}").data)
    desks = pdf.split("7. Kết quả theo quầy", 1)[1].split("8. Kết quả theo lĩnh vực", 1)[0]
    # The narrow column wraps its words onto two lines.
    for words in ("So với", "Cao hơn rõ", "Thấp hơn rõ", "Không khác", NOTE):
        assert words in desks, words


def test_a_filtered_report_compares_with_its_own_overall_index(sign_in_as):
    """Sector filter: each desk against the sector's index, not the unfiltered one."""
    client = sign_in_as("analyst", unit_code="KH")
    doc = client.get(f"/staff/reports/export.json?sector=DAT_DAI&{YEAR}").get_json()
    overall = doc["overall"]["estimate"]
    compared = [e for e in doc["groups"]["desk"] if e["vs_overall"] is not None]
    assert len(compared) >= 2
    for e in compared:
        assert abs(e["vs_overall"]["difference"] - (e["overall"]["estimate"] - overall)) < 1e-12
        assert e["vs_overall"]["se"] > 0
