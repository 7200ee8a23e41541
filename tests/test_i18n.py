"""Translation catalogues: current, complete for citizens, compiled; text is NFC."""

import subprocess
import sys
import unicodedata
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "survey" / "translations"
CITIZEN_SOURCES = (
    "templates/public/",
    "templates/errors/",
    "templates/base.html",
    "survey/public/",
    "survey/services/form_check.py",
)


def _po(path):
    with open(path, "rb") as fh:
        return read_po(fh)


def _ids(catalog):
    return {m.id for m in catalog if m.id}


def test_template_is_not_stale(tmp_path):
    out = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(out),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    fresh = _ids(_po(out))
    committed = _ids(_po(TRANSLATIONS / "messages.pot"))
    assert fresh == committed, "run scripts/i18n: " + repr(sorted(fresh ^ committed)[:5])


def test_english_covers_every_citizen_message():
    template = _po(TRANSLATIONS / "messages.pot")
    citizen = {
        m.id
        for m in template
        if m.id and any(loc.startswith(CITIZEN_SOURCES) for loc, _line in m.locations)
    }
    en = {m.id: m.string for m in _po(TRANSLATIONS / "en/LC_MESSAGES/messages.po")}
    missing = sorted(i for i in citizen if not en.get(i))
    assert citizen and missing == []


def test_compiled_catalogues_match_sources():
    for lang in ("vi", "en"):
        po = _po(TRANSLATIONS / lang / "LC_MESSAGES/messages.po")
        with open(TRANSLATIONS / lang / "LC_MESSAGES/messages.mo", "rb") as fh:
            mo = read_mo(fh)
        want = {m.id: m.string for m in po if m.id and m.string and not m.fuzzy}
        have = {m.id: m.string for m in mo if m.id}
        assert have == want, f"{lang}: run scripts/i18n to compile"


def test_vietnamese_text_is_nfc():
    for path in list((ROOT / "templates").rglob("*.html")) + [TRANSLATIONS / "messages.pot"]:
        text = path.read_text(encoding="utf-8")
        assert unicodedata.is_normalized("NFC", text), path


def test_english_page_uses_the_catalogue(demo_client):
    from tests.support import DESK

    html = demo_client.get(f"/s/{DESK}?lang=en").get_data(as_text=True)
    assert "Send my answers" in html and "This survey is anonymous." in html
    assert "Gửi đánh giá" not in html
