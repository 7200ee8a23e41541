"""The staff console a unit runs on its own: confirmation pages without JavaScript,
one desk's poster, desk names unique within a unit, sign-in messages in the staff
register, and the home page's work list."""

from __future__ import annotations

import re
import unicodedata

import pytest
from sqlalchemy import select

from survey.models import Desk, Target, User
from survey.services.desks import name_key
from tests.support import PASSWORD, audit_events


def _desk(db, desk_id) -> Desk:
    with db.session() as s:
        desk = s.get(Desk, desk_id)
        s.expunge(desk)
        return desk


@pytest.fixture
def manager(demo_client, demo_db, world, nocsrf, sign_in_as):
    sign_in_as("unit_manager")
    return demo_client


def _form_posts_to(html: str, path: str) -> bool:
    return re.search(rf'<form method="post" action="{re.escape(path)}"', html) is not None


# --- confirmations -------------------------------------------------------------
def test_a_new_qr_code_is_confirmed_on_its_own_page_first(manager, demo_db, world):
    desk_id, path = world.desk_in, f"/staff/desks/{world.desk_in}/regenerate"
    code = _desk(demo_db, desk_id).code
    page = manager.get(f"/staff/desks/{desk_id}").get_data(as_text=True)
    # The desk page links to the confirmation; it has no form that regenerates at once.
    assert f'href="{path}"' in page and not _form_posts_to(page, path)
    confirm = manager.get(path)
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "Mọi áp phích đã in của quầy này sẽ ngừng hoạt động" in html
    assert _form_posts_to(html, path) and "<script" not in html
    assert (
        _desk(demo_db, desk_id).code == code and audit_events(demo_db, "desk.regenerate_code") == []
    )
    assert manager.post(path).status_code == 302
    assert _desk(demo_db, desk_id).code != code


def test_stopping_a_desk_and_deleting_a_target_are_confirmed_first(manager, demo_db, world):
    stop = f"/staff/desks/{world.desk_in}/deactivate"
    html = manager.get(stop).get_data(as_text=True)
    assert "báo quầy không nhận đánh giá" in html and _desk(demo_db, world.desk_in).active
    manager.post(stop)
    assert not _desk(demo_db, world.desk_in).active

    delete = f"/staff/targets/{world.target_in}/delete"
    targets = manager.get(f"/staff/units/{world.units['KH-CAMRANH']}/targets?year=2026")
    assert not _form_posts_to(targets.get_data(as_text=True), delete)
    html = manager.get(delete).get_data(as_text=True)
    assert "Xóa chỉ tiêu" in html and "kế thừa" in html
    with demo_db.session() as s:
        assert s.get(Target, world.target_in) is not None
    assert manager.post(delete).status_code == 302
    with demo_db.session() as s:
        assert s.get(Target, world.target_in) is None


def test_disabling_an_account_is_confirmed_first(manager, demo_db, world):
    path = f"/staff/users/{world.users['cr_desk_staff']}/disable"
    html = manager.get(path).get_data(as_text=True)
    assert "đăng xuất ngay trên mọi thiết bị" in html and _form_posts_to(html, path)
    with demo_db.session() as s:
        assert s.get(User, world.users["cr_desk_staff"]).active


# --- one desk's poster ------------------------------------------------------------
@pytest.mark.parametrize("size", ["a4", "a5", "a6"])
def test_one_desks_poster_from_the_web(demo_client, demo_db, world, nocsrf, sign_in_as, size):
    sign_in_as("desk_staff")
    resp = demo_client.get(f"/staff/desks/{world.desk_in}/poster.pdf?size={size}")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    code = _desk(demo_db, world.desk_in).code
    assert f"poster-{code}-{size}.pdf" in resp.headers["Content-Disposition"]


def test_a_stopped_desk_has_no_poster_and_a_bad_size_is_404(manager, demo_db, world):
    assert manager.get(f"/staff/desks/{world.desk_in}/poster.pdf?size=a0").status_code == 404
    manager.post(f"/staff/desks/{world.desk_in}/deactivate")
    resp = manager.get(f"/staff/desks/{world.desk_in}/poster.pdf", follow_redirects=True)
    assert "mở lại quầy trước khi in" in resp.get_data(as_text=True)


# --- desk names ----------------------------------------------------------------------
def test_name_key_ignores_case_diacritics_and_spacing():
    assert name_key("Quầy  Hộ tịch") == name_key("quay ho tich") == name_key("QUẦY HỘ TỊCH")
    assert name_key("Quầy Đất đai") == name_key("quay dat dai")
    # NFD input (as some keyboards send it) is the same name as NFC.
    assert name_key(unicodedata.normalize("NFD", "Quầy Hộ tịch")) == name_key("Quầy Hộ tịch")
    assert name_key("Quầy 1") != name_key("Quầy 2")


def test_a_unit_refuses_a_second_desk_of_the_same_name(manager, demo_db, world):
    ward = world.units["KH-CAMRANH"]
    existing = _desk(demo_db, world.desk_in).name
    variant = existing.upper()
    resp = manager.post(f"/staff/units/{ward}/desks/new", data={"name": variant})
    assert resp.status_code == 422
    assert "Đơn vị đã có một quầy tên này" in resp.get_data(as_text=True)
    with demo_db.session() as s:
        names = list(s.scalars(select(Desk.name).where(Desk.unit_id == ward)))
    assert variant not in names
    # Another unit may use the name; renaming a desk to its own name is no clash.
    assert (
        manager.post(
            f"/staff/units/{world.child_in}/desks/new", data={"name": existing}
        ).status_code
        == 302
    )
    same = manager.post(f"/staff/desks/{world.desk_in}/rename", data={"name": existing.lower()})
    assert same.status_code == 302
    with demo_db.session() as s:
        other = s.scalar(
            select(Desk).where(Desk.unit_id == ward, Desk.id != world.desk_in).order_by(Desk.id)
        )
        other_id = other.id
    clash = manager.post(f"/staff/desks/{other_id}/rename", data={"name": existing})
    assert clash.status_code == 422


# --- sign-in --------------------------------------------------------------------------
def test_sign_in_throttling_speaks_to_staff_and_says_how_long(demo_client, demo_db, nocsrf):
    # Ten tries from one address, each at another account: the address limit.
    for i in range(10):
        demo_client.post("/staff/login", data={"username": f"x{i}", "password": "sai-mat-khau"})
    resp = demo_client.post("/staff/login", data={"username": "y", "password": PASSWORD})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 429
    assert "Ông/Bà" not in html
    assert re.search(r"Xin thử lại sau \d+ (giây|phút)", html)
    assert int(resp.headers["Retry-After"]) > 0


# --- the home page ------------------------------------------------------------------
def test_the_home_page_lists_the_units_work(demo_client, demo_db, world, nocsrf, sign_in_as):
    sign_in_as("unit_manager")
    html = demo_client.get("/staff/").get_data(as_text=True)
    assert "Việc cần làm" in html
    assert "Chỉ số hài lòng tháng" in html
    assert re.search(r"quầy chưa có số hồ sơ tháng|Đủ số hồ sơ tháng", html)
    assert "Ý kiến mới" in html
    # Desk staff do not read citizens' comments: no count of them on their home page.
    sign_in_as("desk_staff")
    html = demo_client.get("/staff/").get_data(as_text=True)
    assert "Ý kiến mới" not in html and "Việc cần làm" in html
