"""Console personas (agents who can sign in), a signed-in test client, and the browser rig."""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from django.conf import settings
from django.db import connections
from django.test import Client

from teams.models import AgentProfile
from teams.services import AGENTS_GROUP, SUPERVISORS_GROUP, ensure_roles
from tests.conftest import service_missing
from tests.console.browser import BrowserThread
from tests.factories import AgentFactory, UserFactory
from tests.routing.conftest import inquiry  # noqa: F401  (the intake fixture, shared with routing)

PASSWORD = "pw-for-tests"  # tests.factories.UserFactory's
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def _agent(username: str, skills: list[str], group: str = AGENTS_GROUP, **kwargs: object) -> AgentProfile:
    user = UserFactory(username=username)
    user.groups.add(ensure_roles()[group])
    return AgentFactory(user=user, skills=skills, **kwargs)


@pytest.fixture
def ana(db: None) -> AgentProfile:
    """Agent Ana: jewelry specialist, Chinese and English."""
    return _agent("ana", ["jewelry"], languages=["zh", "en"])


@pytest.fixture
def bo(db: None) -> AgentProfile:
    """Agent Bo: jewelry specialist, Chinese only."""
    return _agent("bo", ["jewelry"], languages=["zh"])


@pytest.fixture
def mei(db: None) -> AgentProfile:
    """Agent Mei: maternal & baby specialist."""
    return _agent("mei", ["maternal_baby"], languages=["zh", "en"])


@pytest.fixture
def sam(db: None) -> AgentProfile:
    """Supervisor Sam (an agent profile without skills)."""
    return _agent("sam", [], group=SUPERVISORS_GROUP, languages=["zh", "en"])


@pytest.fixture
def signed_in() -> Callable[[AgentProfile], Client]:
    """A test client signed in as the given agent."""

    def sign_in(agent: AgentProfile) -> Client:
        client = Client()
        client.force_login(agent.user)
        return client

    return sign_in


# --- Browser tests ------------------------------------------------------------------------------


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


DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def expect(browser: BrowserThread) -> Any:
    return browser.expect


@pytest.fixture
def page(browser: BrowserThread) -> Iterator[Any]:
    """A desktop-sized page in English, closed after the test."""
    page = browser.new_page(viewport=DESKTOP, locale="en-US")
    yield page
    page.context.close()


@pytest.fixture
def storefront_token(storefront_client: Any) -> str:
    return str(storefront_client.token)
