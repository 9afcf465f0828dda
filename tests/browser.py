"""Headless Chromium (Debian's, driven by Playwright) against the app served on a free port."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def serve(app):
    """The app on a free port of this machine, in a thread, for as long as the generator lives."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def live_server(app):
    yield from serve(app)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    playwright.stop()


#: Pages are opened as by a user who asked the system for reduced motion: Bootstrap then skips
#: its transitions (the phone menu's collapse), so a test reaches the end state it asserts
#: without waiting for each animation to settle.
REDUCED_MOTION = "reduce"


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="ru-RU", reduced_motion=REDUCED_MOTION)
    page = context.new_page()
    yield page
    context.close()
