"""A one-minute form at the desk (issue 16, point 6): the short form by default
at QR codes, the standard one on case links and where a unit chose it; the
counter "Câu 5/24"; result items pre-set to "Không áp dụng" at filing time."""

import re

import pytest
from flask import render_template
from sqlalchemy import select

from questionnaires.loader import load_dir
from survey.models import Desk, QuestionnaireVersion, Unit
from survey.services import links, public_desks
from survey.services import questionnaires as qsvc
from survey.services.access import SystemActor
from survey.services.demo import DESKS, UNIT_FORMS, demo_code
from survey.services.org.desks import create_desk
from survey.services.org.units import create_unit
from tests.support import DESK, STANDARD_DESK, form_of

RESULT_ITEMS = ["KQ1", "KQ2", "KQ3", "KQ4"]  # criterion "Kết quả và tiến độ giải quyết"


def _served(db, code: str) -> str:
    with db.session() as s:
        return public_desks.lookup(s, code).desk.questionnaire.key


def _na_checked(html: str) -> set[str]:
    return set(re.findall(r'name="([A-Z]{2}\d*)" value="NA" checked', html))


def _counters(html: str) -> list[str]:
    return re.findall(r'<legend><span class="num">([^<]*)</span> ', html)


# --- which form a desk serves ---------------------------------------------------------
def test_demo_qr_codes_serve_the_short_form_unless_the_unit_chose_the_standard(demo_db):
    assert UNIT_FORMS == {"KH-CAMRANH": "standard"}
    for spec in DESKS:
        expected = "standard@1" if spec.unit == "KH-CAMRANH" else "short@1"
        assert _served(demo_db, demo_code(spec.key)) == expected, spec.key


def test_demo_responses_keep_the_forms_they_answered(demo_db):
    """Only what desks serve from now on changed: the past stays standard but at nt-1."""
    from survey.models import Response

    with demo_db.session() as s:
        rows = s.execute(
            select(Desk.code, QuestionnaireVersion.qid)
            .join(Response, Response.desk_id == Desk.id)
            .join(
                QuestionnaireVersion, Response.questionnaire_version_id == QuestionnaireVersion.id
            )
            .distinct()
        ).all()
    forms = {code: qid for code, qid in rows}
    assert forms.pop(demo_code("nt-1")) == "short"
    assert set(forms.values()) == {"standard"}


def test_a_new_unit_and_its_new_desk_serve_the_short_form(demo_db):
    actor = SystemActor()
    with demo_db.session() as s:
        province = s.scalar(select(Unit).where(Unit.code == "KH"))
        ward = create_unit(s, actor, province, code="KH-MOI", name="Phường Mới", kind="ward")
        desk = create_desk(s, actor, ward, name="Quầy 1")
        code = desk.code
        # Below a unit that chose the standard form, a new unit inherits its choice.
        camranh = s.scalar(select(Unit).where(Unit.code == "KH-CAMRANH"))
        team = create_unit(s, actor, camranh, code="KH-CR-TO", name="Tổ Cam Ranh", kind="office")
        inherited = create_desk(s, actor, team, name="Quầy tổ").code
    assert _served(demo_db, code) == "short@1"
    assert _served(demo_db, inherited) == "standard@1"


def test_a_unit_that_picks_the_standard_form_on_the_staff_page_keeps_it(
    demo_client, demo_db, nocsrf, sign_in_as
):
    nt2 = demo_code("nt-2")
    assert len(form_of(demo_client, nt2)[1]) == 7  # the default short form
    with demo_db.session() as s:
        unit_id = s.scalar(select(Unit.id).where(Unit.code == "KH-NHATRANG"))
        standard_id = qsvc.latest(s, "standard").id
    manager = sign_in_as("unit_manager", "KH-NHATRANG")
    resp = manager.post(f"/staff/units/{unit_id}/questionnaire", data={"version": standard_id})
    assert resp.status_code == 302
    assert _served(demo_db, nt2) == "standard@1"
    assert len(form_of(demo_client, nt2)[1]) == 24
    # nt-1 chose the short form itself: the desk's own choice comes first.
    assert _served(demo_db, demo_code("nt-1")) == "short@1"


def test_the_default_is_the_standard_form_while_the_short_one_is_unpublished(db):
    shipped = {q.id: q for q in load_dir()}
    actor = SystemActor()
    with db.session() as s:
        standard, _ = qsvc.publish(s, shipped["standard"])
        root = Unit(code="T", name="Tỉnh thử", kind="province")
        s.add(root)
        s.flush()
        desk = create_desk(s, actor, root, name="Quầy")
        assert qsvc.for_desk(s, desk).id == standard.id
        short, _ = qsvc.publish(s, shipped["short"])
        assert qsvc.for_desk(s, desk).id == short.id


# --- case links -------------------------------------------------------------------------
def test_a_case_link_of_a_short_form_desk_asks_the_standard_form(demo_db):
    with demo_db.session() as s:
        short_desk = public_desks.lookup(s, DESK).desk
        linked = links.desk_for_link(s, short_desk)
        assert linked.questionnaire.id == "standard"
        assert linked.version_id == qsvc.latest(s, "standard").id
        assert (linked.id, linked.code, linked.sectors) == (
            short_desk.id,
            short_desk.code,
            short_desk.sectors,
        )
        # A desk serving another form keeps it on its links.
        standard_desk = public_desks.lookup(s, STANDARD_DESK).desk
        assert links.desk_for_link(s, standard_desk) is standard_desk


@pytest.fixture
def case_link(demo_client, demo_db):
    """A link the one-stop software asked for, for a case at the (short-form) desk."""
    with demo_db.session() as s:
        _row, key = links.create_api_key(s, "KH-TTHCC", "one-stop software")
    resp = demo_client.post(
        "/api/v1/survey-links",
        json={"desk": DESK, "case_number": "000.00.23.H42-261201-0006"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert resp.status_code == 201
    return resp.get_json()["url"].split("127.0.0.1:5000", 1)[1]


def test_the_link_page_is_the_standard_form_asking_the_result(demo_client, case_link):
    """Needs the lead's two lines in views.py (desk_for_link, channel="link")."""
    html = demo_client.get(case_link, follow_redirects=True).get_data(as_text=True)
    assert len(set(re.findall(r'name="([A-Z]{2}\d*)" value="', html))) == 24
    assert _na_checked(html) == set()  # asked normally: the result is known by now
    assert _counters(html)[0] == "Câu 1/24" and _counters(html)[-1] == "Câu 24/24"


def test_the_qr_form_sets_result_items_to_not_applicable_and_counts(demo_client):
    """Needs the lead's lines in survey.html (numbers) and views.py (channel="qr")."""
    html = demo_client.get(f"/s/{DESK}", follow_redirects=True).get_data(as_text=True)
    assert _na_checked(html) == {"KQ1"}
    assert _counters(html) == [f"Câu {n}/7" for n in range(1, 8)]
    standard = demo_client.get(f"/s/{STANDARD_DESK}", follow_redirects=True).get_data(as_text=True)
    assert _na_checked(standard) == set(RESULT_ITEMS)
    assert _counters(standard)[4] == "Câu 5/24"


# --- the item template ------------------------------------------------------------------
SHIPPED = {q.id: q for q in load_dir()}


def _item(app, code: str, qid: str = "standard", **context) -> str:
    q = SHIPPED[qid]
    item = next(it for it in [*q.items(), q.overall_item] if it.code == code)
    with app.test_request_context("/"):
        return render_template(
            "public/_item.html",
            **{"q": q, "item": item, "lang": "vi", "errors": {}, "values": {}, **context},
        )


@pytest.mark.parametrize(("channel", "checked"), [("qr", True), ("kiosk", True), ("link", False)])
def test_a_result_item_starts_at_not_applicable_only_at_the_desk(demo_app, channel, checked):
    html = _item(demo_app, "KQ2", channel=channel)
    assert ('value="NA" checked' in html) is checked
    assert html.count("checked") == int(checked)  # never a scale point


def test_only_result_items_are_pre_set_and_never_over_an_answer(demo_app):
    assert "checked" not in _item(demo_app, "CC2", channel="qr")  # not a result item
    posted = _item(demo_app, "KQ1", channel="qr", values={"KQ1": "4"})
    assert 'value="4" checked' in posted and 'value="NA" checked' not in posted
    # Until the view says where the form is answered, nothing is pre-set.
    assert "checked" not in _item(demo_app, "KQ1")


def test_the_counter_is_part_of_the_legend(demo_app):
    q = SHIPPED["standard"]
    html = _item(demo_app, "TC2", numbers=q.item_numbers(), channel="qr")
    assert '<legend><span class="num">Câu 2/24</span> Nơi nộp hồ sơ dễ tìm</legend>' in html
    overall = _item(demo_app, "HL", numbers=q.item_numbers())
    assert '<span class="num">Câu 24/24</span>' in overall
    # Before the page passes the numbers, the legend is the question alone.
    assert "<legend>Nơi nộp hồ sơ dễ tìm</legend>" in _item(demo_app, "TC2")
