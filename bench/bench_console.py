#!/usr/bin/env python
"""Console at scale: N agents' pages (websocket + the page's re-reads) and M dashboards while
routing takes inquiries at a fixed rate, on PostgreSQL + Redis with production servers.

    .venv/bin/python bench/bench_console.py --agents 1000 --dashboards 50 --rate 100 --duration 30
    .venv/bin/python bench/bench_console.py --find-max --steps 100,200,400,700,1000 --dashboards 50 --rate 100
    .venv/bin/python bench/bench_console.py ... --no-etag      # the pages as before: never a 304
    .venv/bin/python bench/bench_console.py ... --http gthread # HTTP on WSGI threads, /ws/ on ASGI

Each simulated page does what console.js does, with the timers read off the page itself: it
holds the console websocket (with the page's 20 s presence heartbeat, reconnecting with backoff),
re-reads its live fragment on connect, 80 ms after a hint about the user's own work (at most once
per data-min-interval-ms), at most once per data-shared-hint-ms (x1-1.5 per page) for hints about
a queue or the supervisors, data-trailing-ms after the last hint, and polls every 30-60 s while
the socket is open (the waiting line only when unread for 3 min; every 5 s while it is not); it
sends back the last ETag as If-None-Match (unless --no-etag). A step is measured once every page
is open and has read what it shows (--open-within, then --settle): not the storm of first reads.
All pages share one asyncio loop and one keep-alive HTTP pool (--connections). It reports the
time from a ticket's assignment to its agent's page having re-read it (p50/p95/p99), re-reads/s,
the share answered 304, the CPU seconds of this run's web server per second and per re-read, the
web servers' requests by view with the CPU of each (ops.bench_views.CpuByViewMiddleware), and
the database queries of one re-read of each kind (counted in process on the bench database after
the run). --find-max steps the number of connected agents (same dashboards, same inquiry rate)
and reports the largest that keeps p95 assignment -> screen <= --target-ms. Before the steps it
measures a floor through the same server: bare /healthz requests/s and their web CPU; each step's
re-reads/s and CPU per re-read are also given as a ratio to it. Loopback only,
bounded by --duration per step. Reuses bench_routing's database preparation and intake load.
"""

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import random
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TypedDict

import aiohttp
import httpx
import psycopg
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_routing import PY, ROOT, fixed_rate, percentile, prepare_database, run

sys.path.insert(0, str(ROOT))
from ops.bench_views import CPU_BY_VIEW_KEY

# console.js's constants.
POLL_S = 5.0
SAFETY_POLL_MIN_S, SAFETY_POLL_MAX_S = 30.0, 60.0
SHARED_SAFETY_POLL_S = 180.0
LEFT_KEPT_S = 60.0
HINT_DEBOUNCE_S = 0.08
MAX_BACKOFF_S = 15.0
SHARED_SCOPES = {"queue", "supervisors"}
HEARTBEAT_S = 20.0
TICKET_LINK = re.compile(rb"/console/tickets/(\d+)/")
WAITING_LINE = re.compile(rb'id="waiting-tickets"(.*?)</section>', re.S)
TICKET_ROW = re.compile(rb'data-ticket-id="(\d+)"')

SESSIONS_SCRIPT = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.cached_db import SessionStore
from teams.services import SUPERVISORS_GROUP, ensure_roles
User = get_user_model()
# Agents only: the storefront's API user ("bench-storefront") sorts first and has no console.
agents = list(
    User.objects.filter(username__startswith="bench", agent_profile__isnull=False).order_by("username")[:{agents}]
)
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
    """One open page doing what console.js does: the same timers, read off the page's own
    data-* attributes (PageTiming), the same reaction to each hint's scope."""

    def __init__(self, *, user_id: int, session: str, url: str, timing: "PageTiming", etag: bool) -> None:
        self.user_id, self.url, self.timing, self.use_etag = user_id, url, timing, etag
        self.cookies = {"sessionid": session}
        self.etags: dict[str, str | None] = {}  # per live URL (the inbox has two)
        self.seen: dict[int, float] = {}  # ticket id -> when this page first read it
        self.last = 0.0
        self.last_shared = 0.0
        self.opened = False  # the socket is open and the page has read what it shows once
        self.line_tickets: dict[int, tuple[bool, int, float]] = {}  # id -> (waiting, changed at, heard at)
        self.line_reread = False
        self.line_left: dict[int, tuple[int, float]] = {}  # id -> (changed at, heard at), kept past forget_line
        self.shown_waiting: set[int] = set()
        self.wake = asyncio.Event()
        self.socket_open = False
        self.connected_due = False
        # console.js: due times of its timers (monotonic seconds; None: not set).
        self.fast_due: float | None = None  # a hint about the user's own work
        self.shared_due: float | None = None  # a hint about a queue / the supervisors
        self.trailing_due: float | None = None
        self.poll_due = 0.0
        # Drawn once per page, as console.js does: pages opened together drift apart.
        self.shared_s = timing.shared_hint_s * (1 + random.random() * 0.5)

    def schedule_poll(self) -> None:
        wait = random.uniform(SAFETY_POLL_MIN_S, SAFETY_POLL_MAX_S) if self.socket_open else POLL_S
        self.poll_due = time.monotonic() + wait

    def hint(self, message: dict[str, Any]) -> None:
        scope = message.get("scope")
        if scope in SHARED_SCOPES and self.timing.shared_url:
            self.note_line(message)
        now = time.monotonic()
        if self.timing.trailing_s:
            self.trailing_due = now + self.timing.trailing_s
        if self.timing.shared_hint_s and scope in SHARED_SCOPES:
            if self.shared_due is None:
                self.shared_due = max(now + HINT_DEBOUNCE_S, self.last_shared + self.shared_s)
        elif self.fast_due is None:
            self.fast_due = max(now + HINT_DEBOUNCE_S, self.last + self.timing.min_interval_s)
        self.wake.set()

    def note_line(self, hint: dict[str, Any]) -> None:
        """console.js's noteLine: what queue hints said about the waiting line since the last read."""
        queued, left = hint.get("queued"), hint.get("left")
        if (
            hint.get("scope") != "queue"
            or hint.get("reread")
            or not isinstance(queued, list)
            or not isinstance(left, list)
        ):
            self.line_reread = True
            return
        for pairs, waiting in ((queued, True), (left, False)):
            for ticket, at in pairs:
                known = self.line_tickets.get(ticket)
                if known and known[1] > at:
                    continue  # an earlier change, heard late
                gone = self.line_left.get(ticket)
                if waiting and gone and gone[0] > at:
                    continue  # the same, after the line was forgotten
                heard = known[2] if known and known[0] and waiting else time.monotonic()
                self.line_tickets[ticket] = (waiting, at, heard)
                if not waiting:
                    self.line_left[ticket] = (at, heard)

    def line_wait(self) -> float:
        """console.js's lineWait: 0 read now, more: look again in that many seconds, -1: skip."""
        if self.line_reread:
            return 0.0
        now, wait = time.monotonic(), -1.0
        for ticket, (waiting, _, heard) in self.line_tickets.items():
            if ticket in self.shown_waiting:
                return 0.0
            if waiting:
                left = heard + self.timing.line_grace_s - now
                if left <= 0:
                    return 0.0
                wait = left if wait < 0 else min(wait, left)
        return wait

    def forget_line(self) -> None:
        self.line_tickets.clear()
        self.line_reread = False
        now = time.monotonic()
        self.line_left = {ticket: gone for ticket, gone in self.line_left.items() if now - gone[1] <= LEFT_KEPT_S}

    async def reread(
        self, client: aiohttp.ClientSession, stats: dict[str, float], *, shared: bool = False, line_only: bool = False
    ) -> None:
        """Re-read the page's own live URL, or with shared=True the one for shared hints (the
        same URL on a page that has only one); line_only: without its panels (console.js asks so
        when only tickets joined and left the line since the last read)."""
        url = self.timing.shared_url if shared and self.timing.shared_url else self.url
        target = f"{url}?panels=0" if line_only and url != self.url and not self.line_reread else url
        headers = {"X-Requested-With": "fetch", "Cookie": f"sessionid={self.cookies['sessionid']}"}
        etag = self.etags.get(url)
        if self.use_etag and etag:
            headers["If-None-Match"] = etag
        now = time.monotonic()
        if url == self.url:
            self.last = now
        if shared or not self.timing.shared_url:
            self.last_shared = now
            self.shared_due = None  # this read covers every shared hint heard before it (console.js)
            self.forget_line()
        try:
            async with client.get(target, headers=headers) as response:
                status, body, etag = response.status, await response.read(), response.headers.get("ETag")
        except (aiohttp.ClientError, TimeoutError):
            stats["errors"] += 1
            return
        now = time.time()
        stats["rereads"] += 1
        stats[f"rereads {url}"] += 1
        if status == 304:
            stats["not_modified"] += 1
            stats[f"304 {url}"] += 1
            return
        if status != 200:
            stats["errors"] += 1
            return
        stats["bytes"] += len(body)
        self.etags[url] = etag
        # An agent's page reads its own URL, then the shared one, on connect; a dashboard one URL.
        self.opened = self.opened or (self.socket_open and (url != self.url or not self.timing.shared_url))
        if url != self.url:
            # The waiting line: a ticket there is not yet the agent's; what it shows decides skips.
            line = WAITING_LINE.search(body)
            self.shown_waiting = {int(t) for t in TICKET_ROW.findall(line.group(1))} if line else set()
            return
        for match in TICKET_LINK.finditer(body):
            self.seen.setdefault(int(match.group(1)), now)

    async def live(
        self, client: aiohttp.ClientSession, ws_url: str, until: dict[str, float], stats: dict[str, float], delay: float
    ) -> None:
        import websockets

        await asyncio.sleep(delay)  # people open their consoles over the warm-up, not all at once

        async def listen() -> None:
            cookie = f"sessionid={self.cookies['sessionid']}"
            attempts = 0
            while True:
                try:
                    async with websockets.connect(
                        ws_url, additional_headers={"Cookie": cookie, "Origin": "http://127.0.0.1"}
                    ) as ws:
                        stats["sockets"] += 1
                        attempts = 0
                        self.socket_open = True
                        self.connected_due = True  # console.js re-reads everything on (re)connect
                        self.fast_due = time.monotonic()
                        self.schedule_poll()
                        self.wake.set()
                        beat = asyncio.create_task(heartbeat(ws))
                        try:
                            async for message in ws:
                                stats["hints"] += 1
                                self.hint(json.loads(message))
                        finally:
                            beat.cancel()
                except (OSError, websockets.WebSocketException):
                    pass
                if self.socket_open:
                    stats["sockets"] -= 1
                self.socket_open = False
                self.schedule_poll()
                self.wake.set()
                backoff = min(MAX_BACKOFF_S, 0.5 * 2**attempts) * (0.75 + random.random() * 0.5)
                attempts += 1
                await asyncio.sleep(backoff)

        self.schedule_poll()
        listener = asyncio.create_task(listen())
        try:
            while time.monotonic() < until["stop"]:
                dues = [d for d in (self.fast_due, self.shared_due, self.trailing_due, self.poll_due) if d is not None]
                wait = min(dues) - time.monotonic()
                if wait > 0:
                    self.wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), wait)
                    continue
                now = time.monotonic()
                own = shared = False  # which of the page's live URLs to re-read now (console.js)
                line_only = True  # cleared by any reason to read other than the line's hints
                if self.poll_due <= now:
                    # console.js: while the socket is open, only what no hint re-read within 30 s.
                    fresh = SAFETY_POLL_MIN_S if self.socket_open else 0.0
                    own = own or now - self.last >= fresh
                    shared_fresh = max(fresh, SHARED_SAFETY_POLL_S) if fresh and self.timing.shared_url else fresh
                    shared = shared or now - self.last_shared >= shared_fresh
                    line_only = False
                    self.schedule_poll()
                if self.fast_due is not None and self.fast_due <= now:
                    self.fast_due = None
                    own = True
                if self.trailing_due is not None and self.trailing_due <= now:
                    self.trailing_due = None
                    own = shared = True
                    line_only = False
                if self.shared_due is not None and self.shared_due <= now:
                    self.shared_due = None
                    wait = self.line_wait() if self.timing.shared_url else 0.0
                    if wait == 0:
                        shared = True
                    elif wait > 0:
                        self.shared_due = now + wait  # console.js: a ticket may be assigned meanwhile
                    else:
                        self.forget_line()  # console.js: every ticket hinted about came and went unseen
                        stats["line_skips"] += 1
                if self.connected_due:
                    self.connected_due = False
                    own = shared = True
                    line_only = False
                if time.monotonic() < until["stop"]:
                    if own or not self.timing.shared_url:
                        await self.reread(client, stats)
                    if shared and self.timing.shared_url:
                        await self.reread(client, stats, shared=True, line_only=line_only)
        finally:
            listener.cancel()


@dataclasses.dataclass(frozen=True)
class PageTiming:
    min_interval_s: float
    trailing_s: float
    shared_hint_s: float
    # The page's second live URL, re-read for "queue"/"supervisors" hints ("": the page has none).
    shared_url: str = ""
    line_grace_s: float = 0.0


TIMING_ATTRIBUTES = {
    "min_interval_s": re.compile(rb'data-min-interval-ms="(\d+)"'),
    "trailing_s": re.compile(rb'data-trailing-ms="(\d+)"'),
    "shared_hint_s": re.compile(rb'data-shared-hint-ms="(\d+)"'),
    "line_grace_s": re.compile(rb'data-line-grace-ms="(\d+)"'),
}


SHARED_URL = re.compile(rb'data-shared-live-url="([^"]+)"')


def page_timing(base: str, path: str, session: str) -> PageTiming:
    """The timers console.js reads off this page (0 where the page sets none), and its shared URL."""
    html = httpx.get(base + path, cookies={"sessionid": session}, timeout=30).content
    found = {key: pattern.search(html) for key, pattern in TIMING_ATTRIBUTES.items()}
    shared = SHARED_URL.search(html)
    return PageTiming(
        **{key: int(match.group(1)) / 1000 if match else 0.0 for key, match in found.items()},
        shared_url=shared.group(1).decode() if shared else "",
    )


async def heartbeat(ws: object) -> None:
    """The page's presence heartbeat: without it the presence sweep sets the agent Away."""
    while True:
        await asyncio.sleep(HEARTBEAT_S)
        await ws.send(json.dumps({"type": "heartbeat"}))  # type: ignore[attr-defined]


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


def cpu_split(args: argparse.Namespace) -> dict[str, float]:
    """CPU seconds so far, by role: this run's web server and Celery worker (process trees), the
    PostgreSQL backends serving the bench database (their process title names it), the Redis
    server (shared with whatever else uses it on this host) and this client process itself."""
    ticks = os.sysconf("SC_CLK_TCK")
    postgres = redis = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / ticks
        if cmdline.startswith("postgres:") and f" {args.bench_db_name} " in cmdline:
            postgres += seconds
        elif "redis-server" in cmdline:
            redis += seconds
    own = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "web": web_cpu(args),
        "routing_workers": process_cpu(args.worker_pid),
        "postgres_bench_db": postgres,
        "redis_shared": redis,
        "bench_client": own.ru_utime + own.ru_stime,
    }


def web_cpu(args: argparse.Namespace) -> float:
    """CPU seconds of this run's web servers (the HTTP one and, with --http gthread, the ASGI one
    serving the websockets)."""
    return sum(process_cpu(pid) for pid in args.web_pids)


class DriveResult(TypedDict):
    pages: list[Page]
    stats: dict[str, float]
    window: dict[str, float]
    elapsed: float
    web_cpu: float
    load: dict[str, object]
    since: float
    cpu_split: dict[str, float]
    cpu_by_view: dict[str, dict[str, float]]
    opened_after_s: float


async def drive(args: argparse.Namespace, sessions: list[tuple[str, int, str]], token: str) -> DriveResult:
    base = f"http://127.0.0.1:{args.port}"
    pages = [
        Page(
            user_id=uid,
            session=key,
            url="/console/inbox/live/" if kind == "agent" else "/console/dashboard/live/",
            timing=args.timing[kind],
            etag=not args.no_etag,
        )
        for kind, uid, key in sessions
    ]
    stats = dict.fromkeys(["rereads", "not_modified", "errors", "hints", "sockets", "bytes", "line_skips"], 0.0)
    for page in pages:  # re-reads and 304s per live URL
        for url in filter(None, (page.url, page.timing.shared_url)):
            stats.setdefault(f"rereads {url}", 0.0)
            stats.setdefault(f"304 {url}", 0.0)
    async with page_client(base, args.connections) as client:
        until = {"stop": float("inf")}
        ws_url = f"ws://127.0.0.1:{args.ws_port}/ws/console/"
        spread = args.warmup * 0.7 / max(1, len(pages))
        runners = [asyncio.create_task(p.live(client, ws_url, until, stats, i * spread)) for i, p in enumerate(pages)]
        opened_after = await all_opened(pages, args)
        until["stop"] = time.monotonic() + args.duration
        counted = dict(stats)
        args.redis.delete(CPU_BY_VIEW_KEY)
        split0 = cpu_split(args)
        cpu0, t0, wall0 = web_cpu(args), time.monotonic(), time.time()
        load = await fixed_rate("127.0.0.1", args.port, token, args.rate, args.duration - 3, 0.1)
        await asyncio.sleep(max(0.0, until["stop"] - time.monotonic()))
        elapsed = time.monotonic() - t0
        cpu = web_cpu(args) - cpu0
        split1 = cpu_split(args)
        # Each process adds its counts about once a second: the window's start and end lag alike.
        by_view = cpu_by_view(args.redis.hgetall(CPU_BY_VIEW_KEY), elapsed)
        await asyncio.gather(*runners, return_exceptions=True)
    window = {key: stats[key] - counted[key] for key in stats}
    return {
        "pages": pages,
        "stats": stats,
        "window": window,
        "elapsed": elapsed,
        "web_cpu": cpu,
        "load": load,
        "since": wall0,
        "cpu_split": {role: round((split1[role] - split0[role]) / elapsed, 2) for role in split0},
        "cpu_by_view": by_view,
        "opened_after_s": opened_after,
    }


async def all_opened(pages: list[Page], args: argparse.Namespace) -> float:
    """Wait out the warm-up, then until every page has its socket open and has read what it shows
    (at most --open-within seconds more), then --settle seconds: the step measures pages that are
    open, not the storm of their first reads. Returns the seconds until all were open."""
    start = time.monotonic()
    await asyncio.sleep(args.warmup)
    deadline = time.monotonic() + args.open_within
    while time.monotonic() < deadline and not all(page.opened for page in pages):
        await asyncio.sleep(0.5)
    opened = sum(page.opened for page in pages)
    took = time.monotonic() - start
    print(f"  {opened} of {len(pages)} pages open after {took:.0f} s; settling {args.settle:.0f} s", flush=True)
    await asyncio.sleep(args.settle)
    return round(took, 1)


def page_client(base: str, connections: int) -> aiohttp.ClientSession:
    """One keep-alive pool for every page (each sends its own session cookie; none is kept)."""
    return aiohttp.ClientSession(
        base_url=base,
        connector=aiohttp.TCPConnector(limit=connections),
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=10),
    )


def cpu_by_view(raw: dict[bytes, bytes], elapsed: float) -> dict[str, dict[str, float]]:
    """The web servers' requests by kind (ops.bench_views.CpuByViewMiddleware): per second, ms of
    CPU each (the view's thread), CPU s/s; costliest first."""
    sums: dict[str, dict[str, float]] = {}
    for key, value in raw.items():
        name, field = key.decode().rsplit("|", 1)
        sums.setdefault(name, {})[field] = float(value)
    kinds = {
        name: {
            "per_s": round(v.get("n", 0) / elapsed, 1),
            "cpu_ms_each": round(v.get("s", 0) * 1000 / max(1.0, v.get("n", 0)), 2),
            "cpu_s_per_s": round(v.get("s", 0) / elapsed, 3),
        }
        for name, v in sums.items()
    }
    return dict(sorted(kinds.items(), key=lambda item: -item[1]["cpu_s_per_s"]))


async def healthz_floor(args: argparse.Namespace, seconds: float = 4.0) -> dict[str, float]:
    """The floor, through the same server in the same run: bare /healthz requests per second over
    the same keep-alive pool, and the web CPU each costs; every step's figures are read against it."""
    done = 0
    async with page_client(f"http://127.0.0.1:{args.port}", args.connections) as client:

        async def worker(until: float) -> None:
            nonlocal done
            while time.monotonic() < until:
                async with client.get("/healthz") as response:
                    ok = response.status == 200 and bool(await response.read())
                if ok:
                    done += 1

        await asyncio.gather(*(worker(time.monotonic() + 0.5) for _ in range(args.connections)))  # warm
        done = 0
        cpu0, t0 = web_cpu(args), time.monotonic()
        await asyncio.gather(*(worker(t0 + seconds) for _ in range(args.connections)))
        elapsed, cpu = time.monotonic() - t0, web_cpu(args) - cpu0
    return {
        "healthz_per_s": round(done / elapsed, 1),
        "web_cpu_ms_per_healthz": round(cpu * 1000 / max(1, done), 2),
    }


QUERIES_SCRIPT = """
import json
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
User = get_user_model()
busiest = (
    User.objects.filter(username__startswith="bench", assigned_tickets__status="assigned")
    .annotate(n=Count("assigned_tickets")).order_by("-n").first()
)
figures = {{"inbox_tickets": getattr(busiest, "n", 0)}}
def count(client, url, etag=None):
    headers = {{"if-none-match": etag}} if etag else {{}}
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers, HTTP_HOST="127.0.0.1")
    return response, len(queries)
if busiest is not None:
    agent = Client(); agent.force_login(busiest)
    # The first read counts the sidebar (kept CONSOLE_SIDEBAR_COUNTS_SECONDS); most re-reads do not.
    _, figures["inbox_full_counting_sidebar"] = count(agent, "/console/inbox/live/")
    full, figures["inbox_full"] = count(agent, "/console/inbox/live/")
    _, figures["inbox_304"] = count(agent, "/console/inbox/live/", full.get("ETag"))
sups = list(User.objects.filter(username__startswith="benchsup").order_by("username")[:2])
if len(sups) == 2:
    first = Client(); first.force_login(sups[0])
    second = Client(); second.force_login(sups[1])
    from supervision.selectors import forget_health
    forget_health()
    _, figures["dashboard_computes_and_renders"] = count(first, "/console/dashboard/live/")
    shared, figures["dashboard_shared_render"] = count(second, "/console/dashboard/live/")
    _, figures["dashboard_304"] = count(second, "/console/dashboard/live/", shared.get("ETag"))
print(json.dumps(figures))
"""


def step_figures(args: argparse.Namespace, agents: int, result: DriveResult, bench_db: str) -> dict[str, Any]:
    """One step's figures: assignment -> the agent's page, over the tickets assigned in its window."""
    with psycopg.connect(bench_db) as conn:
        rows = conn.execute(
            "SELECT id, assigned_agent_id, extract(epoch from first_assigned_at) FROM tickets_ticket"
            " WHERE first_assigned_at >= to_timestamp(%s) AND assigned_agent_id IS NOT NULL",
            [result["since"]],
        ).fetchall()
    pages = result["pages"]
    assert isinstance(pages, list)
    seen_by = {page.user_id: page.seen for page in pages}
    watched = [row for row in rows if row[1] in seen_by]
    # A ticket its page never showed counts as shown at the end of the run: a lower bound, so an
    # overloaded step is not flattered by leaving out what it never delivered.
    end = float(result["since"]) + float(result["elapsed"])
    delays = [seen_by[agent].get(ticket, end) - float(at) for ticket, agent, at in watched]
    window, elapsed, stats = result["window"], float(result["elapsed"]), result["stats"]
    assert isinstance(window, dict) and isinstance(stats, dict)
    rereads = max(1.0, window["rereads"])
    return {
        "agents": agents,
        "dashboards": args.dashboards,
        "rate": args.rate,
        "etag": not args.no_etag,
        "http": args.http,
        "sockets": int(stats["sockets"]),
        "assigned_to_watched": len(watched),
        "opened_after_s": result["opened_after_s"],
        "seen_on_screen": sum(ticket in seen_by[agent] for ticket, agent, _ in watched),
        "assign_to_screen_p50_ms": ms(percentile(delays, 0.5)),
        "assign_to_screen_p95_ms": ms(percentile(delays, 0.95)),
        "assign_to_screen_p99_ms": ms(percentile(delays, 0.99)),
        "rereads_per_s": round(window["rereads"] / elapsed, 1),
        "hints_per_s": round(window["hints"] / elapsed, 1),
        # Queue hints whose tickets all came and went unseen: the page skipped its re-read.
        "line_skips_per_s": round(window["line_skips"] / elapsed, 1),
        "rereads_per_s_by_url": {
            key.split(" ", 1)[1]: {
                "per_s": round(window[key] / elapsed, 1),
                "share_304": round(window["304 " + key.split(" ", 1)[1]] / max(1.0, window[key]), 3),
            }
            for key in window
            if key.startswith("rereads /")
        },
        "share_304": round(window["not_modified"] / rereads, 3),
        "kb_per_full_reread": round(window["bytes"] / 1024 / max(1, window["rereads"] - window["not_modified"]), 1),
        "reread_errors": int(window["errors"]),
        "web_cpu_s_per_s": round(float(result["web_cpu"]) / elapsed, 2),
        "web_cpu_ms_per_reread": round(float(result["web_cpu"]) * 1000 / rereads, 1),
        "intake": result["load"],
        "cpu_s_per_s": result["cpu_split"],
        "cpu_by_view": result["cpu_by_view"],
        # Against the floor measured in this run (bench: healthz_floor).
        "rereads_per_s_of_floor": round(window["rereads"] / elapsed / args.floor["healthz_per_s"], 3),
        "cpu_per_reread_x_floor": round(
            float(result["web_cpu"]) * 1000 / rereads / max(0.01, args.floor["web_cpu_ms_per_healthz"]), 1
        ),
    }


def start_servers(args: argparse.Namespace, env: dict[str, str], queues: str) -> list[subprocess.Popen[bytes]]:
    logs = Path(tempfile.mkdtemp(prefix="bench-console-"))
    print(f"Server logs: {logs}", flush=True)
    asgi = ["cxconsole.asgi:application", "-k", "uvicorn.workers.UvicornWorker"]
    if args.http == "gthread":
        # HTTP on WSGI threads (a view waiting on PostgreSQL holds one thread, not the process);
        # the websockets on an ASGI server of their own, as a reverse proxy would split them.
        http = ["cxconsole.wsgi:application", "-k", "gthread", "--threads", str(args.threads)]
    else:
        http = asgi
    web = subprocess.Popen(
        [PY, "-m", "gunicorn", *http, "-w", str(args.web_workers), "-b", f"127.0.0.1:{args.port}",
         "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=(logs / "web.log").open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker = subprocess.Popen(
        [PY, "-m", "celery", "-A", "cxconsole", "worker", "-Q", queues, "-c", "2", "--without-gossip",
         "--without-mingle", "-l", "WARNING", "-n", f"benchconsole{args.port}@%h"],
        cwd=ROOT, env=env, stdout=(logs / "worker.log").open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    procs = [web, worker]
    if args.ws_port != args.port:
        ws = subprocess.Popen(
            [PY, "-m", "gunicorn", *asgi, "-w", str(args.ws_workers), "-b", f"127.0.0.1:{args.ws_port}",
             "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=(logs / "ws.log").open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        procs.append(ws)
    return procs


def wait_until_serving(port: int, within: float = 180.0) -> None:
    """The web server answers (a loaded machine takes a while to import Django in every worker)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                time.sleep(2)  # the second worker
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise SystemExit(f"The web server on port {port} did not answer within {within:.0f} s.")


def wait_until_routing(port: int, token: str, bench_db: str, within: float = 240.0) -> None:
    """One inquiry has left "new": the Celery worker consumes (slow to start on a loaded host)."""
    asyncio.run(fixed_rate("127.0.0.1", port, token, 1, 1, 0.0))
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with psycopg.connect(bench_db) as conn:
            row = conn.execute("SELECT count(*) FROM tickets_ticket WHERE status <> 'new'").fetchone()
        if row and row[0]:
            return
        time.sleep(2)
    raise SystemExit(f"No inquiry was routed within {within:.0f} s: is the Celery worker running?")


def stop_servers(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def print_table(steps: list[dict[str, Any]], queries: dict[str, object], args: argparse.Namespace) -> None:
    columns = [
        ("agents", "agents"),
        ("dashboards", "dash"),
        ("rate", "inq/s"),
        ("sockets", "sockets"),
        ("seen_on_screen", "seen"),
        ("assign_to_screen_p50_ms", "p50 ms"),
        ("assign_to_screen_p95_ms", "p95 ms"),
        ("assign_to_screen_p99_ms", "p99 ms"),
        ("rereads_per_s", "re-reads/s"),
        ("share_304", "304 share"),
        ("web_cpu_s_per_s", "web CPU s/s"),
        ("web_cpu_ms_per_reread", "web CPU ms/re-read"),
        ("kb_per_full_reread", "KB/full"),
        ("reread_errors", "errors"),
        ("rereads_per_s_of_floor", "re-reads/s ÷ floor"),
        ("cpu_per_reread_x_floor", "CPU/re-read × floor"),
    ]
    print(
        f"\nFloor (same server, same run): {args.floor['healthz_per_s']} bare /healthz requests/s,"
        f" {args.floor['web_cpu_ms_per_healthz']} ms web CPU each"
    )
    print("\nAssignment -> the agent's page has re-read it (the new ticket on screen), per step:")
    print(" | ".join(title for _, title in columns))
    print(" | ".join("---" for _ in columns))
    for step in steps:
        print(" | ".join(str(step.get(key)) for key, _ in columns))
    for step in steps:
        intake = step["intake"]
        assert isinstance(intake, dict)
        print(
            f"  {step['agents']} agents: intake accepted {intake.get('accepted')}/{intake.get('offered')}"
            f" (HTTP p50 {intake.get('http_p50_ms')} ms); CPU s/s by role {step['cpu_s_per_s']}"
        )
        print("  web requests by kind (per s, ms CPU each in the view's thread, CPU s/s):")
        for name, kind in list(step["cpu_by_view"].items())[:12]:
            print(f"    {name:>40}: {kind['per_s']:>7}/s {kind['cpu_ms_each']:>7} ms {kind['cpu_s_per_s']:>6}")
    print("\nQueries per re-read (one of each, in process on the bench database after the run):")
    for key, value in queries.items():
        print(f"  {key:>32}: {value}")
    if args.find_max:
        held = [s["agents"] for s in steps if (s["assign_to_screen_p95_ms"] or 1e9) <= args.target_ms]
        print(
            f"\nMost agents held with p95 <= {args.target_ms} ms at {args.rate} inquiries/s: {max(held) if held else 'none'}"
        )
    print(f"Load average after the run: {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--dashboards", type=int, default=10)
    parser.add_argument("--rate", type=float, default=20, help="inquiries per second")
    parser.add_argument("--duration", type=float, default=30, help="seconds measured per step")
    parser.add_argument("--warmup", type=float, default=8, help="seconds over which the pages open, before each step")
    parser.add_argument(
        "--open-within", type=float, default=240, help="seconds more to wait for every page to be open (then measure)"
    )
    parser.add_argument("--settle", type=float, default=10, help="seconds after every page is open, before measuring")
    parser.add_argument("--find-max", action="store_true", help="step the agents (--steps) up to p95 > --target-ms")
    parser.add_argument("--steps", default="100,200,400,700,1000", help="agent counts for --find-max")
    parser.add_argument("--target-ms", type=float, default=1000.0)
    parser.add_argument("--no-etag", action="store_true", help="pages never send If-None-Match (before)")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive HTTP connections of all pages")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument(
        "--http",
        choices=["asgi", "gthread"],
        default="asgi",
        help="asgi: one ASGI server for HTTP and websockets; gthread: HTTP on WSGI gthread workers,"
        " websockets on an ASGI server of their own (on --port + 1)",
    )
    parser.add_argument("--threads", type=int, default=8, help="threads per WSGI worker (--http gthread)")
    parser.add_argument("--ws-workers", type=int, default=1, help="ASGI workers for the websockets (--http gthread)")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "console.json"))
    args = parser.parse_args()
    if not args.port:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            args.port = probe.getsockname()[1]
    args.ws_port = args.port + 1 if args.http == "gthread" else args.port
    counts = [int(n) for n in args.steps.split(",")] if args.find_max else [args.agents]

    bench_db, redis_url, env, token = prepare_database("bench")
    env["BENCH_CPU_BY_VIEW"] = "1"
    args.redis = redis.Redis.from_url(redis_url)
    most = max(counts)
    # At least prepare_database's 50 agents, so none keeps its 5,000-ticket capacity (they would
    # take every ticket: routing prefers the most free capacity).
    seeded = max(most, 50)
    run([PY, "manage.py", "seed_agents", "--count", str(seeded), "--capacity", "50", "--prefix", "bench"], env)
    out = run(
        [PY, "manage.py", "shell", "-v", "0", "-c", SESSIONS_SCRIPT.format(agents=most, dashboards=args.dashboards)],
        env,
    )
    sessions = [(kind, int(uid), key) for kind, uid, key in (line.split() for line in out.splitlines() if line.strip())]
    agent_sessions = [entry for entry in sessions if entry[0] == "agent"]
    dashboards = [entry for entry in sessions if entry[0] == "supervisor"]
    queues = run(
        [PY, "manage.py", "shell", "-v", "0", "-c",
         "from routing.selectors import celery_queue_names; print(','.join(celery_queue_names()))"],
        env,
    ).strip()  # fmt: skip
    procs = start_servers(args, env, queues)
    steps: list[dict[str, Any]] = []
    try:
        for port in {args.port, args.ws_port}:
            wait_until_serving(port)
        wait_until_routing(args.port, token, bench_db)
        args.web_pids, args.worker_pid = [procs[0].pid, *(p.pid for p in procs[2:])], procs[1].pid
        args.bench_db_name = bench_db.rsplit("/", 1)[-1]
        base = f"http://127.0.0.1:{args.port}"
        args.timing = {
            "agent": page_timing(base, "/console/", agent_sessions[0][2]),
            "supervisor": page_timing(base, "/console/dashboard/", dashboards[0][2])
            if dashboards
            else PageTiming(min_interval_s=0, trailing_s=0, shared_hint_s=0),
        }
        print(
            f"Page timers (read off the pages): { {k: dataclasses.asdict(v) for k, v in args.timing.items()} }",
            flush=True,
        )
        args.floor = asyncio.run(healthz_floor(args))
        print(f"Floor: {json.dumps(args.floor)}", flush=True)
        for n in counts:
            print(f"Step: {n} agents, {len(dashboards)} dashboards, {args.rate} inquiries/s ...", flush=True)
            result = asyncio.run(drive(args, agent_sessions[:n] + dashboards, token))
            figures = step_figures(args, n, result, bench_db)
            print(json.dumps({k: v for k, v in figures.items() if k != "intake"}), flush=True)
            steps.append(figures)
            p95 = figures["assign_to_screen_p95_ms"]
            if args.find_max and (p95 is None or p95 > args.target_ms):
                break
    finally:
        stop_servers(procs)
    queries = json.loads(
        run([PY, "manage.py", "shell", "-v", "0", "-c", QUERIES_SCRIPT.format()], env).strip().splitlines()[-1]
    )
    print_table(steps, queries, args)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(
        json.dumps({"floor": args.floor, "steps": steps, "queries_per_reread": queries}, indent=2)
    )


if __name__ == "__main__":
    main()
