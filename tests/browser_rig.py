"""The browser rig (a pytest plugin loaded by tests/conftest.py): the product served by uvicorn in a
thread of this process, one headless Chromium for the whole session, and pages on it.

Tests that use it carry the `browser` marker (added by tests/conftest.py) and a
`django_db(transaction=True, serialized_rollback=True)` mark: the server's threads read the
database through connections of their own, so the test's rows must really be committed.
"""

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from django.db import connections

from tests.browser_thread import BrowserThread
from tests.helpers import SCREENSHOTS, service_missing

CHROMIUM = Path("/usr/bin/chromium")
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def console_server() -> Iterator[str]:
    """The product's ASGI app (HTTP and websocket) on uvicorn, in a thread of this process.

    It shares the test database: the same PostgreSQL test database, or SQLite's shared-cache
    in-memory one. Django serves each ASGI request in a thread of its own, so, as Django advises
    under ASGI, no connection outlives its request (CONN_MAX_AGE = 0).
    """
    from cxconsole.asgi import application

    database = connections.settings["default"]
    saved_max_age = database.get("CONN_MAX_AGE", 0)
    database["CONN_MAX_AGE"] = 0

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )

    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True, name="console-server")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("The console server did not start.")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
        database["CONN_MAX_AGE"] = saved_max_age


@pytest.fixture(scope="session")
def browser() -> Iterator[BrowserThread]:
    """One headless Chromium (Debian's, never a downloaded one) for the whole session."""
    if not CHROMIUM.exists():
        service_missing(f"needs Chromium at {CHROMIUM}: apt-get install -y chromium fonts-noto-cjk")
    driver = BrowserThread(executable_path=str(CHROMIUM))
    try:
        yield driver
    finally:
        driver.close()


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def expect(browser: BrowserThread) -> Any:
    return browser.expect


@pytest.fixture
def page(browser: BrowserThread) -> Iterator[Any]:
    """A desktop-sized page in English, closed after the test."""
    page = browser.new_page(viewport=DESKTOP, locale="en-US")
    yield page
    page.context.close()
