"""Browser tests: Playwright driving Debian's chromium (never a downloaded browser) against web/.

Fixtures:
- `browser` (session): headless chromium from /usr/bin/chromium (or `chromium` on PATH).
- `new_page`: opens pages in fresh contexts (own sessionStorage and cache), desktop size unless told;
  an uncaught exception in any of them fails the test.
- `page`: one such page.
- `shot`: `shot("step")` (or `shot("step", other_page)`) saves artifacts/screenshots/<test name>/NN-step.png.
- `static_site`: web/ served by a tiny threaded http.server on 127.0.0.1 (port chosen by the OS).
- `cloud`: the fake two-region backend of browser_fake_cloud.py, started for one test.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest
from browser_support import (
    CHROMIUM_ARGS,
    DEFAULT_TIMEOUT_MS,
    DESKTOP,
    SCREENSHOT_ROOT,
    WEB_ROOT,
    QuietStaticHandler,
    Screenshots,
    chromium_path,
    start_server,
    stop_server,
)


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = chromium_path()
    if executable is None:
        message = "chromium is not installed (apt-get install chromium; ./run test does it when run as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(browser):
    contexts = []
    errors: list[str] = []

    def open_page(viewport: dict[str, int] | None = None, **options):
        context = browser.new_context(viewport=viewport or DESKTOP, **options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def shot(request) -> Screenshots:
    directory = SCREENSHOT_ROOT / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    return Screenshots(directory, lambda: request.getfixturevalue("page"))


@pytest.fixture(scope="session")
def static_site() -> Iterator[str]:
    """web/ over http://127.0.0.1:<port> (a secure context, so WebCrypto works); yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietStaticHandler, directory=str(WEB_ROOT)))
    start_server(server)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop_server(server)


@pytest.fixture
def cloud():
    from browser_fake_cloud import FakeCloud

    fake = FakeCloud(WEB_ROOT).start()
    try:
        yield fake
    finally:
        fake.stop()
