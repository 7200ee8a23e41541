"""The survey page itself: small, self-contained, accessible, bilingual."""

import re

import pytest

from tests.support import DESK, STANDARD_DESK


@pytest.mark.parametrize("code", [DESK, STANDARD_DESK], ids=["short", "standard"])
def test_page_and_assets_weigh_at_most_30_kb(demo_client, code):
    html = demo_client.get(f"/s/{code}").get_data(as_text=True)
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    total = len(html.encode())
    for asset in assets:
        resp = demo_client.get(asset)
        total += len(resp.data)
        resp.close()
    assert assets, "the stylesheet is served locally"
    assert total <= 30 * 1024, total


def test_nothing_loads_from_other_hosts(demo_client):
    html = demo_client.get(f"/s/{DESK}").get_data(as_text=True)
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)
    assert "<script" not in html  # works fully without JavaScript


def test_every_criterion_is_a_fieldset_and_inputs_have_labels(demo_client):
    # The standard form: the most inputs, each of which must have its label.
    html = demo_client.get(f"/s/{STANDARD_DESK}").get_data(as_text=True)
    assert html.count('<fieldset class="crit">') == 7  # six criteria + overall
    radios = re.findall(r"<input type=\"radio\"", html)
    wrapped = re.findall(r"<label><input type=\"radio\"|<label class=\"na\"><input", html)
    assert len(radios) == len(wrapped) > 100
    assert '<meta name="viewport"' in html


def test_english_switch_is_remembered(demo_client):
    resp = demo_client.get(f"/s/{DESK}?lang=en")
    assert 'lang="en"' in resp.get_data(as_text=True)
    assert "Very satisfied" in resp.get_data(as_text=True)
    again = demo_client.get(f"/s/{DESK}")
    assert 'lang="en"' in again.get_data(as_text=True)


def test_privacy_page_says_what_is_kept(demo_client):
    html = demo_client.get("/privacy").get_data(as_text=True)
    assert "không được lưu" in html and "ẩn danh" in html
