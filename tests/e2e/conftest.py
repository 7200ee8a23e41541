"""A live server on loopback and a real Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import make_app

CHROMIUM = "/usr/bin/chromium"


def pytest_collection_modifyitems(items):
    """Every browser test is slow: `./scripts/test -m "not slow"` is the fast loop."""
    for item in items:
        if ROOT in Path(item.fspath).parents:
            item.add_marker(pytest.mark.slow)


ROOT = Path(__file__).resolve().parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT.parent.parent / "test-artifacts" / "e2e"


def _require_browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium chromium-driver)")
    return pytest.importorskip("playwright.sync_api")


@pytest.fixture
def live_server(demo_db_url):
    """The app with the demo data, served by a real HTTP server on 127.0.0.1."""
    server = make_server("127.0.0.1", 0, None, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app = make_app(demo_db_url, BASE_URL=base)
    server.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, base
    server.shutdown()
    thread.join(5)
    server.server_close()
    app.extensions["survey.db"].dispose()


@pytest.fixture
def browser():
    sync = _require_browser()
    with sync.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 11; SM-A125F) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Mobile Safari/537.36 Zalo iOS/23.09.01"
    ),
    "locale": "vi-VN",
}


@pytest.fixture
def artifacts(request):
    folder = ARTIFACTS / request.node.name.replace("/", "_")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def run_axe(page) -> list[dict]:
    """Serious or critical axe-core violations on the current page."""
    if not AXE.exists():
        pytest.fail(f"axe-core missing: run `npm ci --prefix {ROOT}` (scripts/test does)")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
