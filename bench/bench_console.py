#!/usr/bin/env python
"""Console at scale: N agents' pages (websocket + the page's re-reads) and M dashboards while
routing takes inquiries at a fixed rate, on PostgreSQL + Redis with production servers.

    .venv/bin/python bench/bench_console.py --agents 200 --dashboards 10 --rate 20 --duration 30
    .venv/bin/python bench/bench_console.py ... --no-etag      # the pages as before: never a 304

Each simulated page does what console.js does: it holds the console websocket, re-reads its live
fragment on connect, 80 ms after a hint (at most once a second; dashboards at most every 2 s),
and every 5 s; it sends back the last ETag as If-None-Match (unless --no-etag). It reports the
time from a ticket's assignment to its agent's page having re-read it (p50/p95/p99), re-reads/s,
the share answered 304, and the CPU seconds per second of this run's web server. Loopback only,
bounded by --duration. Reuses bench_routing's database preparation and intake load.
"""

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TypedDict

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_routing import PY, ROOT, fixed_rate, percentile, prepare_database, run

POLL_S = 5.0
TICKET_LINK = re.compile(rb"/console/tickets/(\d+)/")

SESSIONS_SCRIPT = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.cached_db import SessionStore
from teams.services import SUPERVISORS_GROUP, ensure_roles
User = get_user_model()
agents = list(User.objects.filter(username__startswith="bench").order_by("username")[:{agents}])
sups = []
for i in range({dashboards}):
    user, _ = User.objects.get_or_create(username=f"benchsup{{i:03d}}")
    user.groups.add(ensure_roles()[SUPERVISORS_GROUP])
    sups.append(user)
for kind, users in (("agent", agents), ("supervisor", sups)):
    for user in users:
        s = SessionStore()
        s[SESSION_KEY] = str(user.pk)
        s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        s[HASH_SESSION_KEY] = user.get_session_auth_hash()
        s.create()
        print(kind, user.pk, s.session_key)
"""


class Page:
    def __init__(self, *, user_id: int, session: str, url: str, min_interval: float, etag: bool) -> None:
        self.user_id, self.url, self.min_interval, self.use_etag = user_id, url, min_interval, etag
        self.cookies = {"sessionid": session}
        self.etag: str | None = None
        self.seen: dict[int, float] = {}  # ticket id -> when this page first read it
        self.last = 0.0
        self.wake = asyncio.Event()

    async def reread(self, client: httpx.AsyncClient, stats: dict[str, float]) -> None:
        headers = {"X-Requested-With": "fetch"}
        if self.use_etag and self.etag:
            headers["If-None-Match"] = self.etag
        self.last = time.monotonic()
        try:
            response = await client.get(self.url, headers=headers, cookies=self.cookies)
        except httpx.HTTPError:
            stats["errors"] += 1
            return
        now = time.time()
        stats["rereads"] += 1
        if response.status_code == 304:
            stats["not_modified"] += 1
            return
        if response.status_code != 200:
            stats["errors"] += 1
            return
        stats["bytes"] += len(response.content)
        self.etag = response.headers.get("ETag")
        for match in TICKET_LINK.finditer(response.content):
            self.seen.setdefault(int(match.group(1)), now)

    async def live(self, client: httpx.AsyncClient, ws_url: str, stop: float, stats: dict[str, float]) -> None:
        import websockets

        async def listen() -> None:
            cookie = f"sessionid={self.cookies['sessionid']}"
            async with websockets.connect(
                ws_url, additional_headers={"Cookie": cookie, "Origin": "http://127.0.0.1"}
            ) as ws:
                stats["sockets"] += 1
                self.wake.set()
                async for _ in ws:
                    stats["hints"] += 1
                    self.wake.set()

        listener = asyncio.create_task(listen())
        try:
            while time.monotonic() < stop:
                try:
                    await asyncio.wait_for(self.wake.wait(), POLL_S)
                    await asyncio.sleep(max(0.08, self.last + self.min_interval - time.monotonic()))
                except TimeoutError:
                    pass
                self.wake.clear()
                if time.monotonic() < stop:
                    await self.reread(client, stats)
        finally:
            listener.cancel()


def ms(seconds: float) -> float | None:
    return None if seconds != seconds else round(seconds * 1000)  # NaN: nothing measured


def process_cpu(pid: int) -> float:
    """CPU seconds of a process and its children (this run's gunicorn only, not the machine's)."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout.split()
    total = 0.0
    for each in [pid, *map(int, out)]:
        try:
            stat = Path(f"/proc/{each}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


class DriveResult(TypedDict):
    pages: list[Page]
    stats: dict[str, float]
    window: dict[str, float]
    elapsed: float
    web_cpu: float
    load: dict[str, object]


async def drive(args: argparse.Namespace, sessions: list[tuple[str, int, str]], token: str) -> DriveResult:
    base = f"http://127.0.0.1:{args.port}"
    pages = [
        Page(
            user_id=uid,
            session=key,
            url="/console/inbox/live/" if kind == "agent" else "/console/dashboard/live/",
            min_interval=1.0 if kind == "agent" else 2.0,
            etag=not args.no_etag,
        )
        for kind, uid, key in sessions
    ]
    stats = dict.fromkeys(["rereads", "not_modified", "errors", "hints", "sockets", "bytes"], 0.0)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:
        stop = time.monotonic() + args.warmup + args.duration
        runners = [
            asyncio.create_task(p.live(client, f"ws://127.0.0.1:{args.port}/ws/console/", stop, stats)) for p in pages
        ]
        await asyncio.sleep(args.warmup)
        counted = dict(stats)
        cpu0, t0 = process_cpu(args.web_pid), time.monotonic()
        load = await fixed_rate("127.0.0.1", args.port, token, args.rate, args.duration - 3, 0.1)
        await asyncio.sleep(max(0.0, stop - time.monotonic()))
        elapsed = time.monotonic() - t0
        cpu = process_cpu(args.web_pid) - cpu0
        await asyncio.gather(*runners, return_exceptions=True)
    window = {key: stats[key] - counted[key] for key in stats}
    return {"pages": pages, "stats": stats, "window": window, "elapsed": elapsed, "web_cpu": cpu, "load": load}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--dashboards", type=int, default=10)
    parser.add_argument("--rate", type=float, default=20, help="inquiries per second")
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=8)
    parser.add_argument("--no-etag", action="store_true", help="pages never send If-None-Match (before)")
    parser.add_argument("--port", type=int, default=8775)
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "console.json"))
    args = parser.parse_args()

    bench_db, _redis, env, token = prepare_database("bench")
    run([PY, "manage.py", "seed_agents", "--count", str(args.agents), "--capacity", "50", "--prefix", "bench"], env)
    out = run(
        [
            PY,
            "manage.py",
            "shell",
            "-v",
            "0",
            "-c",
            SESSIONS_SCRIPT.format(agents=args.agents, dashboards=args.dashboards),
        ],
        env,
    )
    sessions = [(kind, int(uid), key) for kind, uid, key in (line.split() for line in out.splitlines() if line.strip())]
    queues = run(
        [
            PY,
            "manage.py",
            "shell",
            "-v",
            "0",
            "-c",
            "from routing.selectors import celery_queue_names; print(','.join(celery_queue_names()))",
        ],
        env,
    ).strip()
    logs = Path(tempfile.mkdtemp(prefix="bench-console-"))
    web = subprocess.Popen(
        [
            PY,
            "-m",
            "gunicorn",
            "cxconsole.asgi:application",
            "-w",
            "2",
            "-k",
            "uvicorn.workers.UvicornWorker",
            "-b",
            f"127.0.0.1:{args.port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=(logs / "web.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [
            PY,
            "-m",
            "celery",
            "-A",
            "cxconsole",
            "worker",
            "-Q",
            queues,
            "-c",
            "2",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "WARNING",
            "-n",
            "benchconsole@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=(logs / "worker.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(6)
        args.web_pid = web.pid
        result = asyncio.run(drive(args, sessions, token))
    finally:
        for proc in (web, worker):
            proc.terminate()
        for proc in (web, worker):
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()

    with psycopg.connect(bench_db) as conn:
        rows = conn.execute(
            "SELECT id, assigned_agent_id, extract(epoch from first_assigned_at) FROM tickets_ticket"
            " WHERE first_assigned_at IS NOT NULL AND assigned_agent_id IS NOT NULL"
        ).fetchall()
    seen_by = {page.user_id: page.seen for page in result["pages"]}
    delays = [
        seen_by[agent][ticket] - float(at)
        for ticket, agent, at in rows
        if agent in seen_by and ticket in seen_by[agent]
    ]
    window, elapsed = result["window"], result["elapsed"]
    figures = {
        "agents": args.agents,
        "dashboards": args.dashboards,
        "rate": args.rate,
        "etag": not args.no_etag,
        "sockets": int(result["stats"]["sockets"]),
        "assigned": len(rows),
        "assigned_seen": len(delays),
        "assign_to_screen_p50_ms": round(percentile(delays, 0.5) * 1000),
        "assign_to_screen_p95_ms": ms(percentile(delays, 0.95)),
        "assign_to_screen_p99_ms": ms(percentile(delays, 0.99)),
        "rereads_per_s": round(window["rereads"] / elapsed, 1),
        "share_304": round(window["not_modified"] / max(1, window["rereads"]), 3),
        "kb_per_reread": round(window["bytes"] / 1024 / max(1, window["rereads"] - window["not_modified"]), 1),
        "reread_errors": int(window["errors"]),
        "web_cpu_s_per_s": round(result["web_cpu"] / elapsed, 2),
        "web_cpu_ms_per_reread": round(result["web_cpu"] * 1000 / max(1, window["rereads"]), 1),
        "intake": result["load"],
        "totals": result["stats"],
    }
    for key, value in figures.items():
        print(f"{key:>24}: {value}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
