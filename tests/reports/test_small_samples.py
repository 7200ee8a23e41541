"""Short periods and small samples: the page says so in Vietnamese instead of a 0–100%
interval or an impossible "cần thêm"; no English or R vocabulary reaches staff files."""

from __future__ import annotations

import io
import re
import subprocess
from html.parser import HTMLParser

from openpyxl import load_workbook

from analysis.planner import sample_size
from survey.reports import fmt
from survey.reports.xlsx import OVERALL_LABEL, SHEETS
from tests.support import make_app

WEEK = "from=2026-10-05&to=2026-10-11"  # about fifteen responses at Cam Ranh
TWO_DAYS = "from=2026-10-05&to=2026-10-06"  # one day per desk at two desks: df = 1
OCTOBER = "from=2026-10-01&to=2026-10-31"
YEAR = "from=2026-01-01&to=2026-10-31"
# Periods that end after the demo's today (22/11/2026): still open, so a count of
# further responses can be given; OCTOBER and YEAR are closed.
OPEN = "from=2026-10-01&to=2026-11-30"
OPEN_YEAR = "from=2026-01-01&to=2026-11-30"

# "Cần thêm khoảng 1.240 phiếu", "1.240 để khẳng định Đạt" (the method's words aside).
MORE = re.compile(r"cần thêm (khoảng )?[\d.]+ phiếu|[\d.]+ để khẳng định", re.IGNORECASE)
# English words and R's vocabulary that must not reach a staff page or file.
LEFTOVERS = re.compile(
    r"\bPSUs?\b|lonely|stratum|strata\b|survey\.|volumes of|cell\(s\)|trimming|bootstrap"
    r"|design effect|single-PSU|\bdf\b",
    re.IGNORECASE,
)


class _Text(HTMLParser):
    """The text a reader sees (tag contents, titles and labels), not the markup."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag, attrs) -> None:
        self.parts += [v for k, v in attrs if k in ("aria-label", "title", "alt") and v]


def visible(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def report(client, query: str) -> tuple[str, dict]:
    page = client.get(f"/staff/reports?{query}")
    assert page.status_code == 200
    return page.get_data(as_text=True), client.get(f"/staff/reports/export.json?{query}").get_json()


def pdf_text(data: bytes) -> str:
    run = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True)
    assert run.returncode == 0, run.stderr
    return " ".join(run.stdout.decode("utf-8").split())


def xlsx_strings(data: bytes) -> list[str]:
    wb = load_workbook(io.BytesIO(data))
    return [c.value for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def test_a_week_is_too_short_to_conclude(analyst):
    html, doc = report(analyst, WEEK)
    o = doc["overall"]
    assert o["n"] < 30 and not o["adequate"] and o["verdict"] == "chua_du_can_cu"
    assert o["more_needed"] is None
    text = visible(html)
    sentence = (
        f"Kỳ báo cáo quá ngắn hoặc số phiếu quá ít để kết luận ({fmt.num(o['n'])} phiếu, "
        f"{fmt.num(doc['design']['n_days'])} ngày khảo sát)."
    )
    assert sentence in text
    # The share is shown, greyed, with its n; no interval, no count of further responses.
    assert f'<p class="index small">{fmt.pct(o["estimate"])}</p>' in html
    assert f"n = {fmt.num(o['n'])}" in text
    assert fmt.interval(o["ci_low"], o["ci_high"]) not in text
    assert "Khoảng tin cậy 95%:" not in text
    assert not MORE.search(text)
    for desk in doc["groups"]["desk"]:
        assert not desk["overall"]["adequate"]
        assert fmt.interval(desk["overall"]["ci_low"], desk["overall"]["ci_high"]) not in text
    assert "Chưa đủ căn cứ" in text


def test_two_days_show_no_0_to_100_interval_anywhere(analyst):
    html, doc = report(analyst, TWO_DAYS)
    o = doc["overall"]
    assert o["ci_low"] < 0.01 and o["ci_high"] > 0.99  # what the page used to show
    wide = fmt.interval(o["ci_low"], o["ci_high"])
    assert wide not in visible(html)

    pdf = pdf_text(analyst.get(f"/staff/reports/export.pdf?{TWO_DAYS}").data)
    assert "Kỳ báo cáo quá ngắn hoặc số phiếu quá ít để kết luận" in pdf
    assert wide not in pdf and not MORE.search(pdf)

    wb = load_workbook(io.BytesIO(analyst.get(f"/staff/reports/export.xlsx?{TWO_DAYS}").data))
    summary = {r[0].value: r[1].value for r in wb[SHEETS["summary"]].iter_rows(min_row=4)}
    assert summary[OVERALL_LABEL] == o["estimate"]
    assert summary["Cận dưới khoảng tin cậy"] is None
    assert summary["Cận trên khoảng tin cậy"] is None
    assert summary["Số phiếu cần thêm để kết luận"] is None
    assert summary["Chưa đủ để kết luận"].startswith("Kỳ báo cáo quá ngắn")


def test_a_plausible_count_of_further_responses_says_which_way(analyst):
    html, doc = report(analyst, OPEN)
    o = doc["overall"]
    assert o["adequate"] and o["verdict"] == "chua_du_can_cu" and o["more_needed"]
    # What `survey plan` gives at the estimate and design effect, less the n counted.
    p = o["estimate"]
    deff = o["n"] * o["se"] ** 2 / (p * (1 - p))
    assert o["more_needed"] == sample_size(o["target"], p, deff=deff)["n"] - o["n"]
    # Plausible: the responses it implies fit in the month's transactions.
    assert o["n"] + o["more_needed"] <= doc["report"]["response_rate"]["volume"]
    confirms = {"to_confirm_pass": "Đạt", "to_confirm_fail": "Không đạt"}
    words = confirms[o["more_needed_direction"]]
    assert (o["estimate"] > o["target"]) == (words == "Đạt")
    more = fmt.num(o["more_needed"])
    assert f"Cần thêm khoảng {more} phiếu để khẳng định {words}" in visible(html)
    pdf = pdf_text(analyst.get(f"/staff/reports/export.pdf?{OPEN}").data)
    assert f"cần thêm khoảng {more} phiếu để khẳng định {words}" in pdf
    assert "lực kiểm định 80%" in visible(html) and "lực kiểm định 80%" in pdf


def test_a_closed_period_asks_for_no_further_responses(analyst):
    """October ended before the demo's today: no response can be added to it, so
    nothing says "cần thêm", although October alone is not decided."""
    html, doc = report(analyst, OCTOBER)
    o = doc["overall"]
    assert doc["selection"]["closed"] and not report(analyst, OPEN)[1]["selection"]["closed"]
    assert o["adequate"] and o["verdict"] == "chua_du_can_cu" and o["more_needed"] is None
    entries = [o, *(e["overall"] for e in doc["groups"]["desk"])]
    assert all(not e["more_needed"] and e["more_needed_direction"] is None for e in entries)
    assert not MORE.search(visible(html))
    assert not MORE.search(pdf_text(analyst.get(f"/staff/reports/export.pdf?{OCTOBER}").data))
    wb = load_workbook(io.BytesIO(analyst.get(f"/staff/reports/export.xlsx?{OCTOBER}").data))
    summary = {r[0].value: r[1].value for r in wb[SHEETS["summary"]].iter_rows(min_row=4)}
    assert summary["Số phiếu cần thêm để kết luận"] is None


def test_an_implausible_count_is_not_shown(analyst):
    """Over the year the desks' shares sit near the target: the counts that would
    decide are checked against each desk's transactions, and none beyond them shows."""
    html, doc = report(analyst, OPEN_YEAR)
    volumes = doc["report"]["response_rate"]
    assert volumes is not None
    text = visible(html)
    for entry in [doc["overall"], *(e["overall"] for e in doc["groups"]["desk"])]:
        if entry["more_needed"]:
            assert entry["more_needed_direction"] in ("to_confirm_pass", "to_confirm_fail")
            assert entry["n"] + entry["more_needed"] <= volumes["volume"]
    for shown in re.findall(r"Cần thêm khoảng ([\d.]+) phiếu", text):
        assert int(shown.replace(".", "")) <= volumes["volume"]


def test_no_english_or_r_vocabulary_on_staff_pages_and_files(analyst):
    for query in (TWO_DAYS, WEEK, YEAR):
        html, doc = report(analyst, query)
        # The two-day period has desks seen on a single day: the method says so, in Vietnamese.
        text = visible(html)
        assert not LEFTOVERS.search(text), (query, LEFTOVERS.search(text).group(0))
        pdf = pdf_text(analyst.get(f"/staff/reports/export.pdf?{query}").data)
        assert not LEFTOVERS.search(pdf), (query, LEFTOVERS.search(pdf).group(0))
        for value in xlsx_strings(analyst.get(f"/staff/reports/export.xlsx?{query}").data):
            assert not LEFTOVERS.search(value), (query, value)
        assert all(isinstance(n, str) for n in doc["report"]["notes"])
        assert not any(LEFTOVERS.search(n) for n in doc["report"]["notes"])
    _html, doc = report(analyst, TWO_DAYS)
    assert {"code": "lonely_psu", "params": {"strata": 2}} in doc["design"]["notes"]
    text = visible(_html)
    assert "2 tầng mẫu (quầy, hoặc quầy trong một tháng khi có gia quyền) chỉ có phiếu" in text
    assert "đơn vị mẫu sơ cấp (quầy × ngày)" in text  # the rule, in the method section


def test_the_public_board_greys_a_period_below_the_minimum_design(demo_db_url):
    # A deployment that publishes from 5 responses: Cam Lâm's quarter has about 26.
    app = make_app(demo_db_url, PUBLIC_MIN_RESPONSES=5)
    try:
        client = app.test_client()
        html = client.get("/r/KH-CAMLAM").get_data(as_text=True)
        assert '<p class="index small">' in html
        assert "Số phiếu hoặc số ngày khảo sát còn ít: kết quả chỉ để tham khảo." in html
        poster = client.get("/r/KH-CAMLAM/poster.pdf")
        assert poster.status_code == 200
        assert "kết quả chỉ để tham khảo" in pdf_text(poster.data)
        # Cam Ranh's month and quarter meet it: nothing greyed.
        html = client.get("/r/KH-CAMRANH").get_data(as_text=True)
        assert '<p class="index small">' not in html and "chỉ để tham khảo" not in html
    finally:
        app.extensions["survey.db"].dispose()
