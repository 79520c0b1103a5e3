"""Shared fixtures: personas, API clients, deferred work, and the real services integration tests need.

Database access: tests run inside a transaction rolled back at the end (the fast default). What a
service defers to after its commit (routing kicks, live hints, outbox sends) is run by wrapping the
step in `with after_commit():`, as the commit would. Only tests of real concurrency (threads or
processes racing, a server in another thread) use `django_db(transaction=True,
serialized_rollback=True)`: they need rows other connections can see.

Markers: `integration` (PostgreSQL, Redis, worker processes; fails under CI when one is missing)
and `browser` (Chromium through Playwright; added to every test that uses the `browser` fixture,
so `pytest -m "not browser"` — `make test-fast` — leaves them out).
"""

import fcntl
import os
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from functools import partial
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from core.secret_key import new_secret_key
from teams.models import AgentProfile
from teams.services import AGENTS_GROUP, STOREFRONT_GROUP, SUPERVISORS_GROUP, ensure_roles, issue_api_token
from tests.factories import AgentFactory, ShopperFactory, UserFactory
from tests.helpers import WorkerProcess, service_missing, worker_redis_url
from tickets.models import Shopper, Ticket

pytest_plugins = ["tests.browser_rig"]

# The tests sign with a key of their own, generated per run: never one written in the source.
# Processes they start (Celery workers, servers) inherit it through the environment.
os.environ.setdefault("SECRET_KEY", new_secret_key())
settings.SECRET_KEY = os.environ["SECRET_KEY"]
# The tests speak plain HTTP to 127.0.0.1, like the embedded mode (production defaults to HTTPS).
for _name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
    os.environ.setdefault(_name, "0")
    setattr(settings, _name, os.environ[_name] in ("1", "true", "yes", "on"))


# --- Parallel runs (pytest-xdist: `make test` runs `pytest -n 2`) -------------------------------


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config: pytest.Config, specs: list[Any]) -> None:
    """Each worker process starts with a Redis database of its own in its environment, before it
    loads Django's settings (its test PostgreSQL database gets its own suffix from pytest-django)."""
    url = os.environ.get("REDIS_URL")
    if not url:
        return
    for index, spec in enumerate(specs):
        spec.env["REDIS_URL"] = worker_redis_url(url, index)


# --- Browser matrix ------------------------------------------------------------------------------

# A browser story parametrized over both languages at both widths (as tests.helpers.SCREENS) runs
# in two of its four combinations unless BROWSER_MATRIX=full: one story phone+Chinese and
# desktop+English, the next phone+English and desktop+Chinese (chosen by a hash of its name, the
# same on every run and every xdist worker), so each width meets each language across the suite.
MATRIX_HALVES = ({("zh", "phone"), ("en", "desktop")}, {("en", "phone"), ("zh", "desktop")})
FULL_MATRIX = MATRIX_HALVES[0] | MATRIX_HALVES[1]


def full_browser_matrix() -> bool:
    return os.environ.get("BROWSER_MATRIX", "").lower() == "full"


def matrix_cell(item: pytest.Item) -> tuple[str, str] | None:
    """(language, screen) of a parametrized browser run, read from its parameters (a locale or
    language code, or a `zh` flag; a device name or a viewport's width); None when not one."""
    params: dict[str, Any] = getattr(getattr(item, "callspec", None), "params", {})
    language = screen = None
    for key in ("locale", "lang", "language"):
        if isinstance(params.get(key), str) and params[key][:2] in ("zh", "en"):
            language = params[key][:2]
    if isinstance(params.get("zh"), bool):
        language = "zh" if params["zh"] else "en"
    for key in ("device", "size", "view"):
        if params.get(key) in ("phone", "desktop"):
            screen = params[key]
    width = params["viewport"].get("width", 0) if isinstance(params.get("viewport"), dict) else 0
    if width:
        screen = "phone" if width <= 480 else "desktop" if width >= 1024 else None
    return (language, screen) if language and screen else None


def story(item: pytest.Item) -> str:
    """The test's node id without its parameters (relative to the project: the same anywhere)."""
    return item.nodeid.split("[", 1)[0]


def reduce_browser_matrix(config: pytest.Config, items: list[pytest.Item]) -> None:
    cells: dict[str, set[tuple[str, str]]] = {}
    for item in items:
        if item.get_closest_marker("browser") and (cell := matrix_cell(item)):
            cells.setdefault(story(item), set()).add(cell)
    full = {name for name, seen in cells.items() if seen == FULL_MATRIX}

    def kept(item: pytest.Item) -> bool:
        name = story(item)
        return name not in full or matrix_cell(item) in MATRIX_HALVES[zlib.crc32(name.encode()) % 2]

    deselected = [item for item in items if not kept(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if kept(item)]


def pytest_report_header(config: pytest.Config) -> str:
    if full_browser_matrix():
        return "browser matrix: full (every story in both languages at both widths)"
    return (
        "browser matrix: reduced (each story at both widths and in both languages, not every pair; BROWSER_MATRIX=full)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that drives Chromium carries the `browser` marker, whoever wrote it; browser
    stories run in the reduced matrix unless BROWSER_MATRIX=full (the rest counted as deselected).

    A test that really commits must also restore the seeded rows (serialized_rollback=True):
    without it, its closing flush re-creates the content types and permissions (post_migrate), and
    the next test of its worker that restores them fails on duplicates. Refused at collection."""
    unsafe = [
        item.nodeid
        for item in items
        if (marker := item.get_closest_marker("django_db")) is not None
        and marker.kwargs.get("transaction")
        and not marker.kwargs.get("serialized_rollback")
    ]
    if unsafe:
        raise pytest.UsageError(
            "django_db(transaction=True) without serialized_rollback=True (see tests/conftest.py): " + ", ".join(unsafe)
        )
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.browser)
    if not full_browser_matrix():
        reduce_browser_matrix(config, items)


# --- Services ----------------------------------------------------------------------------------


@pytest.fixture
def postgres(db: None) -> None:
    if connection.vendor != "postgresql":
        service_missing("needs PostgreSQL: set DATABASE_URL=postgres://...")


@pytest.fixture
def redis_broker() -> str:
    if not settings.REDIS_URL:
        service_missing("needs Redis: set REDIS_URL=redis://...")
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        service_missing(f"Redis at {settings.REDIS_URL} does not answer: {exc}")
    return settings.REDIS_URL


@pytest.fixture
def start_worker(postgres: None, redis_broker: str) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real `celery worker` processes; all are stopped after the test."""
    from cxconsole.celery import app as celery_app
    from routing.selectors import celery_queue_names

    celery_app.control.purge()  # nothing left over from another run reaches this test's workers
    workers: list[WorkerProcess] = []

    def start(*, queues: list[str] | None = None, concurrency: int = 2) -> WorkerProcess:
        worker = WorkerProcess(queues or celery_queue_names(), concurrency, f"test-{uuid.uuid4().hex[:8]}")
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture(scope="module")
def shared_worker(django_db_setup: None, django_db_blocker: Any) -> Iterator[WorkerProcess]:
    """One real `celery worker` on every queue for a whole test module, for tests that only need
    work done by another process. Module-wide, not session-wide: a worker on every queue must not
    outlive its module and take the tasks of another module's own workers (start_worker)."""
    from cxconsole.celery import app as celery_app
    from routing.selectors import celery_queue_names

    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            service_missing("needs PostgreSQL: set DATABASE_URL=postgres://...")
        if not settings.REDIS_URL:
            service_missing("needs Redis: set REDIS_URL=redis://...")
        celery_app.control.purge()
        worker = WorkerProcess(celery_queue_names(), 2, f"test-shared-{uuid.uuid4().hex[:8]}")
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def worker(shared_worker: WorkerProcess, postgres: None, redis_broker: str) -> WorkerProcess:
    """The module's worker process, alive at the start of this test."""
    if not shared_worker.is_alive():
        raise RuntimeError(f"the shared worker died:\n{shared_worker.log_path.read_text()[-3000:]}")
    return shared_worker


# --- Deferred work -------------------------------------------------------------------------------


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks: Any) -> Callable[[], AbstractContextManager[Any]]:
    """`with after_commit(): service(...)` runs what the service deferred to its commit (and what
    that work defers in turn) when the block ends, inside the test's rolled-back transaction."""
    return partial(django_capture_on_commit_callbacks, execute=True)


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Run enqueued tasks inline, as the worker would, right after the enqueuing commit."""
    from cxconsole.celery import app as celery_app

    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = False
        celery_app.conf.task_eager_propagates = False


# --- Clients and personas ------------------------------------------------------------------------


@pytest.fixture
def storefront_client(db: None) -> APIClient:
    """The storefront's API client, authenticated with its token."""
    groups = ensure_roles()
    user = UserFactory.create(username="storefront")
    user.groups.add(groups[STOREFRONT_GROUP])
    token = issue_api_token(user=user, name="storefront")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    client.user = user  # type: ignore[attr-defined]  # a test-only attribute set on the APIClient
    client.token = token  # type: ignore[attr-defined]  # a test-only attribute set on the APIClient
    return client


@pytest.fixture
def storefront_token(storefront_client: Any) -> str:
    return str(storefront_client.token)


def _agent(username: str, skills: list[str], group: str = AGENTS_GROUP, **kwargs: object) -> AgentProfile:
    user = UserFactory.create(username=username)
    user.groups.add(ensure_roles()[group])
    return AgentFactory.create(user=user, skills=skills, **kwargs)


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


@pytest.fixture
def inquiry(eager_celery: None, transactional: bool, django_capture_on_commit_callbacks: Any) -> Callable[..., Ticket]:
    """Open an inquiry through intake; with eager Celery it is routed and dispatched at once."""
    from tickets.services import OrderSnapshot, ShopperDetails, open_ticket

    def make(
        body: str = "我的戒指尺寸偏大，想换小一号",
        *,
        category: str = "jewelry",
        language: str = "zh",
        shopper: Shopper | None = None,
        **kwargs: object,
    ) -> Ticket:
        shopper = shopper or ShopperFactory.create()
        order = OrderSnapshot(number="JD1", product_category=category) if category else None
        deferred = nullcontext() if transactional else django_capture_on_commit_callbacks(execute=True)
        with deferred:
            result = open_ticket(
                shopper=ShopperDetails(external_id=shopper.external_id),
                channel="chat",
                body=body,
                language=language,
                order=order,
            )
        return Ticket.objects.get(pk=result.ticket.pk)

    return make


@pytest.fixture
def transactional(request: pytest.FixtureRequest) -> bool:
    """True in tests that really commit (django_db(transaction=True)): their on-commit work runs by itself."""
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))


# --- Process state -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _quiet_database_before_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that really commits ends with a flush (TRUNCATE of every table). A request still in
    flight in the browser rig's server thread, or a task in a worker process, can deadlock with it
    (the flush then fails and leaves rows for the next test): wait, briefly, until no other
    connection to the test database is busy. Set up after the database fixture, so it runs first
    at teardown."""
    yield
    marker = request.node.get_closest_marker("django_db")
    if not (marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))):
        return
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state NOT IN ('idle')"
            )
            (busy,) = cursor.fetchone()
        if not busy:
            return
        time.sleep(0.05)


@pytest.fixture(scope="session", autouse=True)
def classifier_artifact() -> None:
    """The classifier the product loads; built from the project's data when missing (as make install does)."""
    from classification import textmodel

    path = settings.CLASSIFIER_MODEL_PATH
    if path.exists():
        return
    # Parallel workers (xdist) build it once: the others wait on the lock, then find it there.
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            train, _ = textmodel.split_holdout(textmodel.load_examples())
            textmodel.save(textmodel.train(train), path)


@pytest.fixture(autouse=True)
def _fresh_process_caches() -> None:
    """Per-process TTL caches and rate-limit blocks must not carry one test's users or categories into the next."""
    from aftersales.services import forget_policies
    from console.middleware import PREFERENCES
    from console.push import forget_sent_hints
    from core.auth import PERMISSIONS, CachedTokenAuthentication
    from core.throttling import reset_leases
    from proactive.api import reset_caches as reset_proactive_caches
    from teams.selectors import AGENT_QUEUES, reset_config_cache
    from tickets.api import reset_intake_caches
    from webhooks.outbox import forget_subscriptions

    CachedTokenAuthentication.reset()
    forget_sent_hints()
    forget_subscriptions()
    forget_policies()
    reset_proactive_caches()
    reset_leases()
    reset_config_cache()
    reset_intake_caches()
    for kept in (PERMISSIONS, AGENT_QUEUES, PREFERENCES):
        kept.forget()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """A request in Chinese leaves Chinese active in the test's thread (LocaleMiddleware activates
    the request's language and nothing switches it back): the next test starts in the default."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _query_budgets_on_a_held_clock(request: pytest.FixtureRequest) -> None:
    """Every query count (pytest-django's fixtures, or Django's CaptureQueriesContext in the
    test's module) runs on a held TTL clock (below)."""
    counts = {"django_assert_num_queries", "django_assert_max_num_queries"} & set(request.fixturenames)
    if counts or hasattr(request.module, "CaptureQueriesContext"):
        request.getfixturevalue("held_ttl_clock")


@pytest.fixture
def held_ttl_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """core.caching's per-process TTL caches see a clock that stands still, so an exact query
    count does not depend on the host being fast enough to finish before a cached read expires
    (a 5-second TTL can lapse mid-test on a loaded machine and add a query)."""
    import time
    from types import SimpleNamespace

    from core import caching

    now = time.monotonic()
    monkeypatch.setattr(caching, "time", SimpleNamespace(monotonic=lambda: now))


@pytest.fixture(autouse=True)
def _no_pending_kicks() -> None:
    """A kick flag left by one test (a publish recorded, never run) must not swallow the next
    test's kick: every test starts with none pending."""
    from django.core.cache import cache

    if not settings.REDIS_URL:
        cache.clear()
        return
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
        keys = list(client.scan_iter(match="*kick:*", count=1000))
        # ...nor the shopper page's rate-limit counts (every test client is 127.0.0.1).
        keys += list(client.scan_iter(match="*shop:throttle:*", count=1000))
        # ...nor the API's per-client windows (DRF's "throttle_<scope>_<ident>" keys).
        keys += list(client.scan_iter(match="*throttle_*", count=1000))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass  # no Redis: the tests that need it say so themselves


@pytest.fixture(autouse=True)
def _attachments_in_tmp(
    settings: object, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Photos stored by a test go to a scratch folder of its own, never to var/attachments.

    The model's fields called their storage callable once, at import: they are pointed at the
    test's storage too, or they would keep writing where the settings said at start-up."""
    from django.core.files.storage import storages as storage_handler

    from tickets.models import Attachment

    storages = dict(settings.STORAGES)  # type: ignore[attr-defined]  # the settings fixture is annotated as object
    storages["attachments"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path_factory.mktemp("attachments"))},
    }
    settings.STORAGES = storages  # type: ignore[attr-defined]  # the settings fixture is annotated as object
    for name in ("file", "thumbnail"):
        monkeypatch.setattr(Attachment._meta.get_field(name), "storage", storage_handler["attachments"])


@pytest.fixture
def memory_layer(settings: Any) -> Any:
    """The in-memory channel layer (what the embedded mode uses), for tests that listen to hints."""
    from channels.layers import get_channel_layer

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "console.layers.ThreadSafeInMemoryChannelLayer"}}
    return get_channel_layer()
