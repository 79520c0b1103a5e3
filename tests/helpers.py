"""Plain helpers the tests share: payloads, waits, worker processes, catalogs, browser steps.

Test modules import from here (and from tests.factories), never from one another, so a test file
can be moved, renamed or deleted without breaking a neighbour. Fixtures live in conftest.py.
"""

import contextlib
import copy
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection

from teams.models import AgentProfile
from tests.factories import AgentFactory, TicketFactory, category, queue
from tickets.models import CloseReason, Ticket, TicketStatus

# Where browser tests save their screenshots (one directory; SCREENSHOTS_DIR moves it).
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or Path(settings.BASE_DIR) / "var" / "screenshots")

# A browser story at phone and desktop widths in Chinese and English (conftest runs half the
# pairs unless BROWSER_MATRIX=full): parameters `viewport` and `locale`.
PHONE_AND_DESKTOP_IN_BOTH_LANGUAGES = pytest.mark.parametrize(
    ("viewport", "locale"),
    [
        ({"width": 390, "height": 844}, "zh-CN"),
        ({"width": 1280, "height": 800}, "en-US"),
        ({"width": 390, "height": 844}, "en-US"),
        ({"width": 1280, "height": 800}, "zh-CN"),
    ],
    ids=["phone-zh", "desktop-en", "phone-en", "desktop-zh"],
)

BASE_DIR = Path(settings.BASE_DIR)
LOG_DIR = BASE_DIR / "var" / "test-logs"
PASSWORD = "pw-for-tests"  # tests.factories.UserFactory's


def service_missing(reason: str) -> None:
    """Skip on a developer machine; fail under CI, where every service must be there."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} — CI is set, so this integration test must not skip.")
    pytest.skip(reason)


def refreshed(ticket: Ticket) -> Ticket:
    """The ticket as the database has it now, with its queue, category and agent."""
    return Ticket.objects.select_related("queue", "category", "assigned_agent").get(pk=ticket.pk)


def wait_for(predicate: Callable[[], object], timeout: float = 20, interval: float = 0.05) -> object:
    """Poll until predicate() is truthy (work done by another process or thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


# --- Intake ----------------------------------------------------------------------------------

INTAKE_URL = "/api/v1/inquiries/"

VALID_INQUIRY: dict[str, Any] = {
    "shopper": {
        "external_id": "u-1001",
        "name": "王芳",
        "phone": "+86 138-0013-8000",
        "email": "wang.fang@example.com",
        "language": "zh",
        "time_zone": "Asia/Shanghai",
    },
    "channel": "order_page",
    "subject": "戒指尺寸",
    "body": "戒指尺寸偏大，能换小一号吗？",
    "order": {
        "number": "JD2026112500001",
        "product_title": "18K金钻石戒指",
        "product_category": "jewelry",
        "amount": "3299.00",
        "currency": "CNY",
        "paid": True,
        "shipped": True,
    },
}


def inquiry_payload(**changes: object) -> dict[str, Any]:
    """VALID_INQUIRY with changes: shopper__phone="x" sets a nested field, ... (Ellipsis) drops it."""
    data = copy.deepcopy(VALID_INQUIRY)
    for dotted, value in changes.items():
        target = data
        *path, last = dotted.split("__")
        for part in path:
            target = target[part]
        if value is ...:
            target.pop(last)
        else:
            target[last] = value
    return data


# --- Time ------------------------------------------------------------------------------------


def at_shanghai(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A wall-clock time in Shanghai in 2026, as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


# --- Real worker processes --------------------------------------------------------------------


def worker_database_url() -> str:
    """A DATABASE_URL that points other processes at the test database pytest-django made."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class WorkerProcess:
    """A real `celery worker` process on the given queues, logging to var/test-logs/<name>.log."""

    def __init__(self, queues: list[str], concurrency: int, name: str) -> None:
        self.name = name
        self.nodename = f"{name}@{os.uname().nodename}"
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{name}.log"
        env = {**os.environ, "DATABASE_URL": worker_database_url(), "REDIS_URL": settings.REDIS_URL}
        # The log file stays open for the worker's whole life; the worker process owns it.
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "cxconsole", "worker"),
                *("-Q", ",".join(queues), "-c", str(concurrency), "-P", "prefork", "-n", self.nodename),
                *("--without-gossip", "--without-mingle", "-l", "INFO"),
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def wait_ready(self, timeout: float = 180) -> None:
        from cxconsole.celery import app as celery_app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log_path.read_text()[-3000:]}")
            if celery_app.control.ping(destination=[self.nodename], timeout=0.5):
                return
        raise RuntimeError(f"worker not ready after {timeout}s:\n{self.log_path.read_text()[-3000:]}")

    def is_alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once: no warm shutdown, no acks."""
        children = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        for pid in [self.process.pid, *map(int, children)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()


# --- Translation catalogs -----------------------------------------------------------------------

# Entries with a context (msgctxt, pgettext) are left out: gettext alone cannot look them up.
PO_ENTRY = re.compile(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', re.MULTILINE)
PO_ENTRY_OR_PLURAL = re.compile(
    r'^msgid ((?:".*"\n)+)(?:msgid_plural (?:".*"\n)+)?msgstr(?:\[0\])? ((?:".*"\n?)+)', re.MULTILINE
)
_CONTEXT_ENTRY = re.compile(r'^msgctxt (?:".*"\n)+msgid ((?:".*"\n)+)', re.MULTILINE)


def _unquote(lines: str) -> str:
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', lines)).replace('\\"', '"').replace("\\n", "\n")


def po_entries(po_file: Path, *, plurals: bool = False) -> dict[str, str]:
    """msgid → msgstr of a .po catalog, header left out; with plurals, plural entries too (their
    singular msgid → first form)."""
    text = po_file.read_text(encoding="utf-8")
    pattern = PO_ENTRY_OR_PLURAL if plurals else PO_ENTRY
    entries = {_unquote(msgid): _unquote(msgstr) for msgid, msgstr in pattern.findall(text)}
    for msgid in _CONTEXT_ENTRY.findall(text):
        entries.pop(_unquote(msgid), None)
    entries.pop("", None)
    return entries


# --- Browser steps (the browser rig's fixtures are in conftest.py) ----------------------------


def api_post(base: str, path: str, payload: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """POST JSON to the served product over real HTTP."""
    request = urllib.request.Request(
        base + path,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else {}


def open_inquiry(base: str, token: str, body: str, *, category: str = "jewelry") -> dict[str, Any]:
    """What the storefront does: POST /api/v1/inquiries/ with its API token."""
    payload = {
        "shopper": {"external_id": f"shopper-{abs(hash(body)) % 10**8}", "name": "王女士"},
        "channel": "order_page",
        "body": body,
        "order": {"number": "JD20261125001", "product_title": "18K金钻石戒指", "product_category": category},
    }
    return api_post(base, INTAKE_URL, payload, {"Authorization": f"Token {token}"})


def log_in(page: Any, base: str, username: str) -> None:
    """Sign in through the login form, as a person does."""
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/console/")


# --- Callbacks ---------------------------------------------------------------------------------


def notification_keys() -> list[str]:
    """The idempotency keys of every notification in the outbox, sorted."""
    from notifications.models import Notification

    return sorted(Notification.objects.values_list("idempotency_key", flat=True))


def query_budget(*, postgresql: int, sqlite: int) -> int:
    """The exact query count of a hot-path step on this database: PostgreSQL writes a batch in
    one statement where SQLite needs one per table, so each has its own (both counts include the
    SAVEPOINTs of the test's transaction). A change in either number is a change to review."""
    return postgresql if connection.vendor == "postgresql" else sqlite


# --- Tickets on a constructed timeline (dashboard metrics): every timestamp given ------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai_time(day: int, hh: int, mm: int, ss: int = 0) -> datetime:
    """A moment in November 2026, Shanghai time (the dashboard's default "today")."""
    return datetime(2026, 11, day, hh, mm, ss, tzinfo=SHANGHAI)


def ticket_on_timeline(
    queue_slug: str,
    *,
    queued: datetime | None,
    assigned: datetime | None = None,
    resolved: datetime | None = None,
    abandoned: datetime | None = None,
    agent: AgentProfile | None = None,
) -> Ticket:
    """A ticket in a queue with the given history: waiting when only queued, assigned (held by
    `agent`) once assigned, resolved once resolved, closed as abandoned when abandoned."""
    status = TicketStatus.QUEUED
    fields: dict[str, object] = {}
    if assigned is not None:
        status = TicketStatus.ASSIGNED
        fields["assigned_agent"] = agent.user if agent else None
    if resolved is not None:
        status = TicketStatus.RESOLVED
    if abandoned is not None:
        status = TicketStatus.CLOSED
        fields["close_reason"] = CloseReason.ABANDONED
    return TicketFactory.create(
        queue=queue(queue_slug),
        status=status,
        created_at=queued or abandoned,
        queued_at=queued,
        first_assigned_at=assigned,
        resolved_at=resolved,
        closed_at=abandoned,
        **fields,
    )


# --- Browser pages (Playwright, tests/browser_rig.py) ------------------------------------------

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# Every page a person sees is driven at phone and desktop width, in English and Chinese.
SCREENS = [
    ("en-US", "desktop", DESKTOP),
    ("en-US", "phone", PHONE),
    ("zh-CN", "desktop", DESKTOP),
    ("zh-CN", "phone", PHONE),
]


def signed_in_page(browser: Any, base: str, user: Any, locale: str, viewport: dict[str, int]) -> Any:
    """A browser page already signed in as the user (the session cookie of a test client)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    page = browser.new_page(viewport=viewport, locale=locale)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": base,
            }
        ]
    )
    return page


# --- Racing workers (tests/integration) ----------------------------------------------------------


def make_waiting_tickets(n: int, slug: str = "jewelry") -> list[int]:
    """n tickets waiting in the slug's queue, written in one statement."""
    from django.utils import timezone

    q, c = queue(slug), category(slug)
    tickets = [
        TicketFactory.build(status=TicketStatus.QUEUED, queue=q, category=c, queued_at=timezone.now(), language="zh")
        for _ in range(n)
    ]
    for t in tickets:
        t.shopper.save()
        t.shopper_id = t.shopper.id
    return [t.id for t in Ticket.objects.bulk_create(tickets)]


def make_agents(n: int, capacity: int, slug: str = "jewelry") -> list[AgentProfile]:
    return [AgentFactory.create(capacity=capacity, languages=["zh"], skills=[slug]) for _ in range(n)]


# --- Photos and processes -----------------------------------------------------------------------


def upload(name: str = "clasp.jpg", data: bytes | None = None, content_type: str = "image/jpeg") -> Any:
    """A photo as a multipart upload (a JPEG with a GPS tag unless data is given)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.photos import jpeg_with_location

    return SimpleUploadedFile(name, jpeg_with_location() if data is None else data, content_type=content_type)


def stored_files() -> list[Path]:
    """Every file in the attachments storage (a test's own temporary folder)."""
    from django.core.files.storage import FileSystemStorage, storages

    storage = storages["attachments"]
    assert isinstance(storage, FileSystemStorage)
    return [p for p in Path(storage.location).rglob("*") if p.is_file()]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A process configured like production (with Redis, no key, no debug) unless env says otherwise."""
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DJANGO_DEBUG")}
    clean["REDIS_URL"] = clean.get("REDIS_URL") or "redis://127.0.0.1:6379/4"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "cxconsole.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- Channel layer hints and the shopper's browser ------------------------------------------------


def run_async(scenario: Callable[[], Any]) -> Any:
    """Run an async scenario; its sync calls (services, fixtures) run in this thread, on the test DB."""
    from asgiref.sync import async_to_sync

    return async_to_sync(scenario)()


async def drain(layer: Any, channel: str, wait: float | None = None) -> list[dict[str, Any]]:
    """Every hint that arrives until none has come for `wait` (by default longer than a merged
    hint can be held back)."""
    import asyncio

    from console.push import SUPERVISORS_GROUP, hint_interval, queue_group

    longest = max(hint_interval(queue_group(0)), hint_interval(SUPERVISORS_GROUP), hint_interval("agent.0"))
    quiet = longest + 0.2 if wait is None else wait
    received = []
    while True:
        try:
            received.append(await asyncio.wait_for(layer.receive(channel), quiet))
        except TimeoutError:
            return received


async def listening(layer: Any, *groups: str) -> str:
    channel: str = await layer.new_channel()
    for group in groups:
        await layer.group_add(group, channel)
    return channel


def shopper_of(ticket: Ticket) -> Any:
    """A browser (test client) that followed the inquiry's access link."""
    from django.test import Client

    from tickets.links import make_access_token

    browser = Client()
    assert browser.get(f"/shop/access/{make_access_token(ticket.id)}/").status_code == 302
    return browser


# --- Parallel runs (pytest-xdist) -----------------------------------------------------------------


def worker_redis_url(url: str, index: int) -> str:
    """The Redis URL of xdist worker number `index`: the first keeps the configured database, the
    others take databases counted down from 15 (skipping the configured one). Celery's queues, the
    cache, the channel layer and the kick flags all live in that database, so one worker's purge,
    key scan or queue never touches another's."""
    parts = urlsplit(url)
    configured = int(parts.path.strip("/") or 0)
    if index == 0:
        return url
    spare = [db for db in range(15, -1, -1) if db != configured]
    return urlunsplit(parts._replace(path=f"/{spare[index - 1]}"))


def scroll_to(page: Any, selector: str) -> None:
    """Scroll a live region into view in one step in the page: a locator's scroll can lose the element
    when a live re-read swaps it in between (Playwright: "Element is not attached to the DOM")."""
    page.evaluate("(s) => document.querySelector(s).scrollIntoView({block: 'start'})", selector)


def set_ui_language(language: str, *profiles: AgentProfile) -> None:
    """Save the profiles' console language through the model, so the kept preferences
    (console.middleware.PREFERENCES) are recomputed as after any real change."""
    for profile in profiles:
        profile.ui_language = language
        profile.save(update_fields=["ui_language"])
