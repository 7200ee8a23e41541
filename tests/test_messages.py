"""The message catalogues (survey/messages): every code a service raises has words,
and the English catalogue translates every catalogued message.

Codes are collected from the raise sites (the error classes' calls) by parsing
the services, so a new code without words fails here.
"""

import ast
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from markupsafe import Markup

from survey import messages
from survey.messages import feedback, org, password, selection, volumes
from tests.support import imported_modules, make_app

ROOT = Path(__file__).resolve().parent.parent
SURVEY = ROOT / "survey"
ENGLISH_PO = SURVEY / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def _trees(*paths: Path):
    for path in paths:
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            yield ast.parse(file.read_text(encoding="utf-8"), str(file))


def _constant(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _call_args(paths, names: set[str], position: int) -> set[str]:
    """String constants passed at ``position`` (or as ``code=``) to calls of ``names``."""
    found = set()
    for tree in _trees(*paths):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name not in names:
                continue
            args = [
                *node.args[position : position + 1],
                *(k.value for k in node.keywords if k.arg == "code"),
            ]
            found.update(c for c in map(_constant, args) if c is not None)
    return found


def _returned(paths, functions: set[str]) -> set[str]:
    """String constants ``functions`` return, alone or as the last item of a tuple."""
    found = set()
    for tree in _trees(*paths):
        for fn in ast.walk(tree):
            if not (isinstance(fn, ast.FunctionDef) and fn.name in functions):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Return) and node.value is not None:
                    value = node.value.elts[-1] if isinstance(node.value, ast.Tuple) else node.value
                    if (c := _constant(value)) is not None:
                        found.add(c)
    return found


SERVICES = SURVEY / "services"
RAISED = {
    "org": (org, _call_args([SERVICES / "org"], {"OrgError"}, 1)),
    "volumes": (
        volumes,
        _call_args([SERVICES / "volumes"], {"Issue"}, 2)
        | _returned([SERVICES / "volumes"], {"check_xlsx_archive", "_month", "_count"}),
    ),
    "selection": (selection, _call_args([SURVEY / "reports"], {"SelectionError"}, 1)),
    "password": (
        password,
        _call_args([SERVICES / "auth.py"], {"PasswordError"}, 1)
        | _returned([SERVICES / "auth.py"], {"password_problem"}),
    ),
    # FilterError(name) is raised for the names parse_filters hands choice() and day().
    "feedback": (
        feedback,
        _call_args([SERVICES / "feedback.py"], {"FilterError", "choice", "day", "CaseError"}, 0),
    ),
}


@pytest.mark.parametrize("domain", sorted(RAISED))
def test_every_raised_code_has_words(domain):
    module, raised = RAISED[domain]
    assert len(raised) >= 4, f"the scan of {domain} found almost nothing: {raised}"
    assert raised - module.catalogue.codes == set()


def test_the_scan_finds_the_codes_that_need_a_parameter():
    assert {"xlsx_too_large", "too_many_rows", "future_month", "negative"} <= RAISED["volumes"][1]
    assert {"guessable", "wrong_current"} <= RAISED["password"][1]
    assert {"status", "kind", "from", "to", "page", "desk", "overdue", "q"} <= RAISED["feedback"][1]
    assert {"reply_needed", "close_needs", "assignee"} <= RAISED["feedback"][1]


def _catalogued() -> list[str]:
    ids = []
    for module in (org, volumes, selection, password, feedback):
        ids += module.WORDS.values()
        if module.catalogue.default:
            ids.append(module.catalogue.default)
    return ids + ["Dòng %(row)d, cột %(column)s: %(text)s", "Dòng %(row)d: %(text)s"]


def test_english_translates_every_catalogued_message():
    with open(ENGLISH_PO, "rb") as fh:
        catalog = read_po(fh)
    missing = []
    for msgid in _catalogued():
        message = catalog.get(msgid)
        if message is None or not message.string or message.fuzzy:
            missing.append(msgid)
    assert missing == [], "run scripts/i18n and translate: " + repr(missing[:5])


def test_the_cli_words_are_english_plain_strings_without_a_request(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'unused.sqlite3'}")
    issue = volumes.Issue(3, "desk", "unknown_desk", "<b>X</b>")
    with app.app_context():
        text = messages.english(volumes.describe, issue)
        assert text == "Row 3, column desk: there is no desk with code “<b>X</b>”."
        assert type(text) is str and not isinstance(text, Markup)
        too_many = messages.english(volumes.text, "too_many_rows")
        assert "50000" in too_many and too_many.startswith("The file has more than")
        for module in (org, volumes, selection, password, feedback):
            for code in module.catalogue.codes:
                params = {"value": "V", "other": 2}
                assert type(messages.english(module.text, code, **params)) is str
    with app.test_request_context("/?lang=vi"):
        text = selection.text("unknown_unit", value="<i>")
        assert text == "Không có đơn vị mã “<i>”." and type(text) is str


# The citizen form's field checks word themselves (lazy strings bound at render time).
WORDS_OWN_MESSAGES = {"survey/services/form_check.py"}


def test_services_do_not_word_their_codes():
    bad = {}
    for file in sorted(SERVICES.rglob("*.py")):
        name = str(file.relative_to(ROOT))
        modules = imported_modules(file)
        hits = sorted(
            m
            for m in modules
            if m.startswith("survey.messages")
            or (m.split(".")[0] == "flask_babel" and name not in WORDS_OWN_MESSAGES)
        )
        if hits:
            bad[name] = hits
    assert bad == {}
