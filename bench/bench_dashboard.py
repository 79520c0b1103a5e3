#!/usr/bin/env python
"""One full re-read of the supervisors' dashboard at contact-center size: its size in KB and the
CPU it costs the web process, with a floor measured in the same run, on PostgreSQL.

    .venv/bin/python bench/bench_dashboard.py --agents 1050 --tickets 20000     # seeds <db>_dashboard first
    .venv/bin/python bench/bench_dashboard.py --reuse                           # measure again, no seeding

It makes a scratch database <DATABASE_URL's name>_dashboard, migrates it and runs `seed_history`
(agents with skills, statuses and today's work). Then, in this process through Django's test
client (the whole middleware stack and the view), it reads /console/dashboard/live/ as a
supervisor --repeat times in three ways: "compute" (the cached health payload dropped first: the
payload is computed and the shared parts rendered), "render" (the payload cached, the shared render
dropped: what each new interval costs the first reader per language) and "shared" (both cached:
what every other supervisor's full re-read costs). CPU is this process's time.process_time(), so
the load of other processes on the host does not count. The floor is /healthz through the same
client in the same run.
"""

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")


def bench_database() -> tuple[str, str, str]:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cxconsole")
    parsed = urlparse(base)
    name = (parsed.path.lstrip("/") or "cxconsole") + "_dashboard"
    return parsed._replace(path=f"/{name}").geturl(), parsed._replace(path="/postgres").geturl(), name


def prepare(url: str, admin: str, name: str, *, tickets: int, agents: int) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    print(f"Preparing {name}: migrate, seed_history --tickets {tickets} --agents {agents} ...", flush=True)
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [PY, "manage.py", "seed_history", "--tickets", str(tickets), "--agents", str(agents)],
        cwd=ROOT,
        env=env,
        check=True,
    )


def measure(repeat: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxconsole.settings")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.cache import cache
    from django.test import Client
    from django.test.utils import setup_test_environment

    from supervision.selectors import HEALTH_CACHE_KEY, HEALTH_LAST_KEY
    from teams.models import AgentProfile
    from teams.services import SUPERVISORS_GROUP, ensure_roles

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    supervisor, _ = User.objects.get_or_create(username="bench-dashboard-supervisor")
    supervisor.groups.add(ensure_roles()[SUPERVISORS_GROUP])
    client = Client()
    client.force_login(supervisor)
    url = "/console/dashboard/live/"

    def one(path: str, *, before: object = None) -> tuple[float, int]:
        if callable(before):
            before()
        started = time.process_time()
        response = client.get(path, secure=True)
        spent = (time.process_time() - started) * 1000
        assert response.status_code == 200, response.status_code
        return spent, len(response.content)

    def drop_health() -> None:
        cache.delete_many([HEALTH_CACHE_KEY, HEALTH_LAST_KEY])

    def drop_render() -> None:
        # A new computed-at time names a new shared render: the payload is reused, the render not.
        payload = cache.get(HEALTH_CACHE_KEY) or {}
        computed_at = str(payload.get("generated_at", "")).partition("#")[0]
        payload["generated_at"] = f"{computed_at}#{time.monotonic_ns()}"
        cache.set(HEALTH_CACHE_KEY, payload, timeout=max(60, settings.QUEUE_HEALTH_CACHE_SECONDS))

    settings.QUEUE_HEALTH_CACHE_SECONDS = max(settings.QUEUE_HEALTH_CACHE_SECONDS, 60)  # no expiry mid-run
    one(url)  # warm the code paths
    rows = []
    for label, path, before in (
        ("floor: /healthz", "/healthz", None),
        ("compute: payload + shared render", url, drop_health),
        ("render: shared render only", url, drop_render),
        ("shared: both cached", url, None),
    ):
        samples = [one(path, before=before) for _ in range(repeat)]
        rows.append((label, statistics.median(s for s, _ in samples), statistics.median(b for _, b in samples)))
    floor = rows[0][1]
    print(f"\n{AgentProfile.objects.count()} agents, median of {repeat}, CPU of this process")
    print(f"{'read':36} {'ms CPU':>8} {'x floor':>8} {'KB':>8}")
    for label, cpu, size in rows:
        print(f"{label:36} {cpu:8.1f} {cpu / floor if floor else 0:8.1f} {size / 1024:8.1f}")
    print(f"load average: {Path('/proc/loadavg').read_text().strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--agents", type=int, default=1050)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--reuse", action="store_true", help="measure the database seeded by an earlier run")
    args = parser.parse_args()
    url, admin, name = bench_database()
    if not args.reuse:
        prepare(url, admin, name, tickets=args.tickets, agents=args.agents)
    os.environ["DATABASE_URL"] = url
    measure(args.repeat)


if __name__ == "__main__":
    main()
