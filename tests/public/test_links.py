"""Per-transaction links: API, signatures, expiry, one response per case, privacy."""

import base64
import re
import subprocess
import time

import pytest
from sqlalchemy import func, select

from survey.models import Response
from survey.services import links
from survey.services.demo import demo_code
from tests.support import TEST_SECRET, counts

DESK = demo_code("cr-2")  # KH-CAMRANH


@pytest.fixture
def api_key(demo_db):
    with demo_db.session() as s:
        _row, key = links.create_api_key(s, "KH-CAMRANH", "one-stop software")
    return key


def _link(client, key, **body):
    body.setdefault("desk", DESK)
    body.setdefault("case_number", "000.00.23.H42-261122-0001")
    return client.post(
        "/api/v1/survey-links", json=body, headers={"Authorization": f"Bearer {key}"}
    )


def _answer(client, url):
    path = url.split("127.0.0.1:5000", 1)[1]
    html = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    sid = re.search(r'name="sid" value="([^"]+)"', html).group(1)
    items = set(re.findall(r'name="([A-Z]{2}\d*)" value="', html))
    return client.post(path, data={"csrf_token": token, "sid": sid, **dict.fromkeys(items, "5")})


def test_link_is_issued_with_qr_and_answers_once(demo_client, demo_db, api_key, tmp_path):
    resp = _link(demo_client, api_key, sector="DAT_DAI", procedure="1.004227")
    assert resp.status_code == 201
    data = resp.get_json()
    assert data["url"].startswith("http://127.0.0.1:5000/l/")
    assert "<svg" in data["qr_svg"]
    png = tmp_path / "qr.png"
    png.write_bytes(base64.b64decode(data["qr_png_base64"]))
    decoded = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True)
    assert decoded.stdout.strip() == data["url"]

    first = _answer(demo_client, data["url"])
    assert first.status_code == 200 and "Cảm ơn" in first.get_data(as_text=True)
    with demo_db.session() as s:
        r = s.scalar(select(Response).where(Response.channel == "link"))
        assert r.procedure_code == "1.004227" and r.sector_id is not None
        assert r.case_hash == links.case_hash(TEST_SECRET, "000.00.23.H42-261122-0001")
        # The case number itself is stored nowhere in the row.
        assert not any("H42" in str(getattr(r, c.key)) for c in Response.__table__.columns)

    again = demo_client.get(data["url"].split("127.0.0.1:5000", 1)[1])
    assert again.status_code == 409
    assert "Hồ sơ này đã được đánh giá" in again.get_data(as_text=True)
    # A second link for the same case cannot add a second response either.
    second = _link(demo_client, api_key).get_json()["url"]
    before = counts(demo_db)
    assert demo_client.get(second.split("127.0.0.1:5000", 1)[1]).status_code == 409
    assert counts(demo_db) == before


def test_tampered_and_expired_links(demo_client, api_key):
    url = _link(demo_client, api_key).get_json()["url"]
    path = url.split("127.0.0.1:5000", 1)[1]
    payload, sig = path[3:].split(".")
    forged = links.make_token("x" * 32, links.read_token(TEST_SECRET, f"{payload}.{sig}"))
    for bad in (f"/l/{payload}.{sig[:-2]}AA", f"/l/{forged}", "/l/garbage"):
        resp = demo_client.get(bad)
        assert resp.status_code == 400
        assert "không hợp lệ" in resp.get_data(as_text=True)
    claims = links.Claims(DESK, None, None, "abc", int(time.time()) - 1)
    resp = demo_client.get(f"/l/{links.make_token(TEST_SECRET, claims)}")
    assert resp.status_code == 410 and "hết hạn" in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"desk": "NOSUCH22"}, "desk"),
        ({"desk": demo_code("nt-2")}, "desk"),  # another ward's desk
        ({"case_number": ""}, "case_number"),
        ({"case_number": "x" * 65}, "case_number"),
        ({"sector": "NOPE"}, "sector"),
        ({"ttl_days": 0}, "ttl_days"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_link_requests_name_the_field(demo_client, api_key, body, field):
    resp = _link(demo_client, api_key, **body)
    assert resp.status_code == 422
    assert resp.get_json()["error"]["field"] == field


def test_api_requires_a_valid_key(demo_client, demo_db):
    assert _link(demo_client, "svk_wrong").status_code == 401
    assert demo_client.post("/api/v1/survey-links", json={}).status_code == 401
    with demo_db.session() as s:
        assert (
            s.scalar(select(func.count()).select_from(Response).where(Response.channel == "link"))
            == 0
        )


def test_cli_creates_key_shown_once(demo_db_url):
    from tests.test_cli import run

    result = run(demo_db_url, "apikey", "create", "--unit", "KH-CAMRANH")
    assert result.exit_code == 0
    key = result.output.rsplit(" ", 1)[1].strip()
    assert key.startswith("svk_")
    bad = run(demo_db_url, "apikey", "create", "--unit", "NOPE")
    assert bad.exit_code == 2 and "NOPE" in bad.output
