"""The route table in survey/staff/__init__.py is the staff blueprint's URL map."""

from __future__ import annotations

import re

import pytest

import survey.staff
from tests.support import make_app

ROW = re.compile(r"^    (GET POST|GET|POST)  +(/\S*(?: \S+)*?)  +(\w+)  +(\w+_views)$")


def _table() -> set[tuple[str, str, str, str]]:
    rows = {m.groups() for m in map(ROW.match, survey.staff.__doc__.splitlines()) if m}
    assert len(rows) > 30
    return rows


@pytest.fixture(scope="module")
def app():
    return make_app("sqlite://")  # the URL map only: no database is opened


def _url_map(app) -> set[tuple[str, str, str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("staff."):
            view = app.view_functions[rule.endpoint]
            out.add(
                (
                    " ".join(sorted(rule.methods - {"HEAD", "OPTIONS"})),
                    rule.rule.removeprefix("/staff"),
                    rule.endpoint.removeprefix("staff."),
                    view.__module__.removeprefix("survey.staff."),
                )
            )
    return out


def test_the_route_table_lists_every_staff_url_and_nothing_else(app):
    assert _table() == _url_map(app)


def test_every_endpoint_is_named_after_its_view_function(app):
    for endpoint, view in app.view_functions.items():
        if endpoint.startswith("staff."):
            assert endpoint == f"staff.{view.__name__}"
