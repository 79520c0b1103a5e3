"""Under the Content Security Policy the console, the dashboard, Swagger UI and the admin still
work in Chromium with no CSP violation; the login lockout page reads well in both languages."""

from typing import Any

import pytest

from teams.models import AgentProfile
from tests.factories import UserFactory
from tests.helpers import SCREENSHOTS, log_in

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("eager_celery"),
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

SHOTS = SCREENSHOTS / "security"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def _watch(page: Any) -> list[str]:
    """Every console message and page error the browser reports about the page."""
    problems: list[str] = []
    page.on("console", lambda message: problems.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    return problems


def _csp(problems: list[str]) -> list[str]:
    return [p for p in problems if "Content Security Policy" in p or "Refused to" in p or p.startswith("pageerror")]


def test_console_dashboard_api_docs_and_admin_raise_no_csp_violation(
    console_server, browser, expect, sam: AgentProfile, inquiry
) -> None:
    ticket = inquiry("戒指上的钻石松了")
    UserFactory(username="root", is_staff=True, is_superuser=True)
    page = browser.new_page(viewport=DESKTOP, locale="en-US")
    problems = _watch(page)
    try:
        log_in(page, console_server, "sam")
        page.goto(f"{console_server}/console/tickets/{ticket.id}/")
        expect(page.locator("h1")).to_be_visible()
        page.goto(f"{console_server}/console/dashboard/")
        expect(page.locator("h1")).to_be_visible()
        page.wait_for_timeout(1500)  # the live fragment and the websocket get their turn

        page.goto(f"{console_server}/api/docs/")
        expect(page.get_by_text("CX Console API").first).to_be_visible(timeout=15000)
        expect(page.locator(".opblock").first).to_be_visible()
        page.screenshot(path=str(SHOTS / "api-docs-desktop.png"))

        page.goto(f"{console_server}/admin/login/")
        page.locator("#id_username").fill("root")
        page.locator("#id_password").fill("pw-for-tests")
        page.locator("input[type=submit]").click()
        expect(page.locator("#site-name")).to_be_visible()
        page.goto(f"{console_server}/admin/tickets/ticket/{ticket.id}/change/")
        expect(page.locator("#content h2, #content h1").first).to_be_visible()
        page.screenshot(path=str(SHOTS / "admin-ticket-desktop.png"))
    finally:
        page.context.close()
    assert _csp(problems) == []


@pytest.mark.parametrize(
    ("locale", "viewport", "name"),
    [
        ("en-US", PHONE, "phone-en"),
        ("zh-CN", PHONE, "phone-zh"),
        ("en-US", DESKTOP, "desktop-en"),
        ("zh-CN", DESKTOP, "desktop-zh"),
    ],
)
def test_the_lockout_page_reads_well(
    console_server, browser, expect, ana: AgentProfile, settings, locale, viewport, name
) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    page = browser.new_page(viewport=viewport, locale=locale)
    problems = _watch(page)
    try:
        for _ in range(3):
            page.goto(f"{console_server}/accounts/login/")
            page.locator("#id_username").fill("ana")
            page.locator("#id_password").fill("not-her-password")
            page.locator(".login-form button[type=submit]").click()
        heading = "登录失败次数过多" if locale.startswith("zh") else "Too many failed sign-ins"
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        page.screenshot(path=str(SHOTS / f"lockout-{name}.png"), full_page=True)
    finally:
        page.context.close()
    assert _csp(problems) == []
