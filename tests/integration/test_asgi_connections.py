"""The ASGI server reuses its PostgreSQL and Redis connections (cxconsole/asgi.py, DB_POOL,
core.caching.RedisCache).

Under ASGI Django runs each request's code on a thread of its own. Without a pool, a persistent
connection is kept per thread and never reused, so every request opened a PostgreSQL connection
(and a Redis one, through a cache object per thread), which capped intake and left connections
to the garbage collector. This test serves real inquiries through the product's
ASGI entry point in a uvicorn process and counts the connections it opened.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection

from teams.services import STOREFRONT_GROUP, ensure_roles, issue_api_token
from tests.factories import UserFactory
from tests.helpers import LOG_DIR, worker_database_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

REQUESTS = 40
POOL_MAX_SIZE = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def own_redis(redis_broker: str) -> Iterator[str]:
    """A Redis server of this test's own: its connection count is the ASGI server's alone, whatever
    else uses the machine's Redis meanwhile (other test runs, workers)."""
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_an_asgi_server_takes_connections_from_a_pool(postgres: None, own_redis: str) -> None:
    redis_broker = own_redis
    groups = ensure_roles()
    storefront = UserFactory.create(username="asgi-storefront")
    storefront.groups.add(groups[STOREFRONT_GROUP])
    token = issue_api_token(user=storefront)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": redis_broker,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DB_POOL_MAX_SIZE": str(POOL_MAX_SIZE),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DB_POOL", None)  # the ASGI entry point turns it on by itself
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / "asgi-connections.log"
    started = time.time()
    redis_before = redis.Redis.from_url(redis_broker).info("stats")["total_connections_received"]
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "cxconsole.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()[-3000:]
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.2)
        for i in range(REQUESTS):
            body = {"shopper": {"external_id": f"asgi-{i % 5}"}, "channel": "chat", "body": f"戒指尺寸偏大 #{i}"}
            request = urllib.request.Request(
                f"{base}/api/v1/inquiries/",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 201
        params = connection.get_connection_params()
        with psycopg.connect(worker_database_url(), autocommit=True) as admin:
            row = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND backend_start >= to_timestamp(%s)"
                " AND pid <> pg_backend_pid()",
                [params["dbname"], started],
            ).fetchone()
            assert row is not None
            (opened,) = row
    finally:
        server.terminate()
        server.wait(timeout=20)
    redis_opened = redis.Redis.from_url(redis_broker).info("stats")["total_connections_received"] - redis_before

    # The pool's connections are still open, and there are no more of them than the pool holds;
    # without the pool there were none left open, or one per request until collected.
    assert 1 <= opened <= POOL_MAX_SIZE
    # Celery's producer, the cache's client and this test's own: a handful, not one per request.
    assert redis_opened < REQUESTS / 4
