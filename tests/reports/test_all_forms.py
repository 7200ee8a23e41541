"""One headline across forms: every response counts by default, a picked form says so."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import pytest
from sqlalchemy import select, update

from questionnaires.combine import IncompatibleForms, combined
from questionnaires.loader import find
from survey.models import Desk, QuestionnaireVersion, Response, Unit
from survey.reports import build, texts
from survey.services import questionnaires as qsvc
from survey.services.access import SystemActor
from survey.services.demo import demo_code
from tests.support import TODAY

CLI = SystemActor()
PERIOD_END = date(2026, 10, 31)
SHORT_DESK_KEY = "nt-1"  # Phường Nha Trang's desk on the short form


def stat(html: str, label: str) -> int:
    """The number next to a label on the dashboard's response card."""
    match = re.search(re.escape(label) + r"[^<]*</dt><dd>([\d.]+)</dd>", html)
    assert match, label
    return int(match.group(1).replace(".", ""))


def db_counts(db, unit_code: str) -> dict[str, tuple[int, int]]:
    """(all, flagged) responses of the unit in the default period, per form key."""
    with db.session() as s:
        rows = s.execute(
            select(QuestionnaireVersion.qid, QuestionnaireVersion.version, Response.quality_flags)
            .join(
                QuestionnaireVersion, Response.questionnaire_version_id == QuestionnaireVersion.id
            )
            .join(Unit, Response.unit_id == Unit.id)
            .where(Unit.code == unit_code, Response.day <= PERIOD_END)
        ).all()
    out: dict[str, tuple[int, int]] = {}
    for qid, version, flags in rows:
        n, flagged = out.get(f"{qid}@{version}", (0, 0))
        out[f"{qid}@{version}"] = (n + 1, flagged + bool(flags))
    return out


# --- combining forms (pure) ------------------------------------------------------------------
def test_the_short_and_standard_forms_combine_into_the_standard_layout():
    short, standard = find("short"), find("standard")
    both = combined([short, standard])
    assert both.key == "short@1+standard@1"
    assert both.all_item_codes() == standard.all_item_codes()  # the larger form's order
    assert both.criterion_of("TC1").code == "TC" and both.overall_item.code == "HL"
    assert combined([standard]) is standard


def test_forms_that_measure_differently_are_refused():
    short = find("short")
    other_scale = dataclasses.replace(
        short, id="alt", scale=dataclasses.replace(short.scale, satisfied_min=3)
    )
    with pytest.raises(IncompatibleForms) as exc:
        combined([short, other_scale])
    assert exc.value.reason == "scale"
    mean = dataclasses.replace(short, id="alt", aggregation="mean")
    with pytest.raises(IncompatibleForms) as exc:
        combined([short, mean])
    assert exc.value.reason == "aggregation"
    tc, dk = short.criteria[0], short.criteria[1]
    moved = dataclasses.replace(
        short,
        id="alt",
        criteria=(
            dataclasses.replace(tc, items=()),
            dataclasses.replace(dk, items=(*dk.items, *tc.items)),
            *short.criteria[2:],
        ),
    )
    with pytest.raises(IncompatibleForms) as exc:
        combined([short, moved])
    assert exc.value.reason == "item_criterion" and "TC1" in exc.value.detail


# --- the default selection counts every form -------------------------------------------------
def test_the_default_dashboard_counts_both_forms(sign_in_as, demo_db):
    expected = db_counts(demo_db, "KH-NHATRANG")
    assert set(expected) == {"short@1", "standard@1"}
    received = sum(n for n, _f in expected.values())
    flagged = sum(f for _n, f in expected.values())
    client = sign_in_as("analyst", unit_code="KH-NHATRANG")

    doc = client.get("/staff/reports/export.json").get_json()
    assert doc["n_responses"] == received - flagged
    assert doc["n_excluded"] == flagged
    assert doc["report"]["responses_received"] == received
    assert doc["report"]["responses_other_forms"] == 0
    assert doc["report"]["response_rate"]["responses"] == doc["n_responses"]
    sel = doc["selection"]
    assert sel["questionnaire"] == "short@1+standard@1" and not sel["questionnaire_picked"]
    assert {f["key"] for f in sel["questionnaires"] if f["counted"]} == set(expected)
    # A short-form response counts towards each criterion through its one item.
    items = {i["code"]: i for i in doc["items"]}
    assert items["TC1"]["n"] > items["TC2"]["n"]
    with demo_db.session() as s:
        short_desk = s.scalar(select(Desk.code).where(Desk.code == demo_code(SHORT_DESK_KEY)))
    desks = {e["key"]: e for e in doc["groups"]["desk"]}
    assert desks[short_desk]["overall"]["estimate"] is not None

    html = client.get("/staff/reports").get_data(as_text=True)
    assert re.search(r'<option value="" selected>Tất cả các phiếu</option>', html)
    counted, excluded = stat(html, "Phiếu tính vào chỉ số"), stat(html, "Phiếu bị loại")
    assert counted == received - flagged and excluded == flagged
    assert stat(html, "Phiếu nhận được") == received == counted + excluded
    assert "Phiếu theo mẫu phiếu khác" not in html  # nothing is left out
    assert "Tất cả các phiếu (Phiếu rút gọn (phiên bản 1), Phiếu đầy đủ (phiên bản 1))" in html


def test_a_picked_form_says_so_and_its_card_adds_up(sign_in_as, demo_db):
    expected = db_counts(demo_db, "KH-NHATRANG")
    received = sum(n for n, _f in expected.values())
    n_short, flagged_short = expected["short@1"]
    client = sign_in_as("analyst", unit_code="KH-NHATRANG")

    doc = client.get("/staff/reports/export.json?q=short@1").get_json()
    assert doc["n_responses"] == n_short - flagged_short
    assert doc["report"]["responses_other_forms"] == received - n_short
    assert doc["report"]["response_rate"]["responses"] <= doc["n_responses"]
    assert doc["selection"]["questionnaire_picked"]
    assert any("Phiếu rút gọn (phiên bản 1) đã chọn" in n for n in doc["report"]["notes"])

    html = client.get("/staff/reports?q=short@1").get_data(as_text=True)
    assert re.search(r'<option value="short@1" selected>', html)
    counted, excluded = stat(html, "Phiếu tính vào chỉ số"), stat(html, "Phiếu bị loại")
    other = stat(html, "Phiếu theo mẫu phiếu khác (không tính)")
    assert other == received - n_short
    assert stat(html, "Phiếu nhận được") == received == counted + excluded + other
    assert "mẫu phiếu đã chọn" in html


def test_forms_that_cannot_be_combined_fall_back_visibly(demo_db):
    # The short desk's responses moved to a form whose "satisfied" threshold differs.
    short = find("short")
    odd = dataclasses.replace(
        short, id="short_odd", scale=dataclasses.replace(short.scale, satisfied_min=3)
    )
    with demo_db.session() as s:
        row, _created = qsvc.publish(s, odd)
        desk_id = s.scalar(select(Desk.id).where(Desk.code == demo_code(SHORT_DESK_KEY)))
        s.execute(
            update(Response)
            .where(Response.desk_id == desk_id)
            .values(questionnaire_version_id=row.id)
        )
    expected = db_counts(demo_db, "KH-NHATRANG")
    assert set(expected) == {"short_odd@1", "standard@1"}
    biggest = max(expected, key=lambda k: expected[k][0])
    left_out = sum(n for k, (n, _f) in expected.items() if k != biggest)
    with demo_db.session() as s:
        report = build.build(s, CLI, today=TODAY, unit="KH-NHATRANG")
        sel = report.selection
        assert sel.fallback == "scale" and not sel.picked and sel.form_key == biggest
        assert sel.other_versions == left_out > 0
        (note,) = [n for n in report.notes if n.code == "forms_not_combined"]
        words = texts.note_text(note)
        assert (
            "thang đo khác nhau" in words
            and f"{left_out} phiếu" in words
            and texts.form_name(biggest) in words
        )
        counted = report.result["n_responses"] + report.result["n_excluded"]
        assert counted + sel.other_versions == report.n_received
