#!/usr/bin/env python
"""Time from an agent's reply to its appearance on the shopper's open page.

    .venv/bin/python bench/bench_shopper_reply.py                      # embedded (SQLite, in-memory layer)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cx_shop_bench REDIS_URL=redis://127.0.0.1:6379/4 \
        .venv/bin/python bench/bench_shopper_reply.py                  # PostgreSQL + Redis channel layer

The product's ASGI app runs on uvicorn in this process (HTTP and the websocket); Debian's Chromium
(Playwright) holds the shopper's page open. N times: the agent replies through the service
(routing.reply_to_shopper, as the console does), and the clock stops when the reply is in the
page's DOM (a MutationObserver in the page stamps the moment; both clocks are this machine's).
With PostgreSQL the database named in DATABASE_URL is dropped and re-created: give a scratch one.
Prints p50/p95/max and the floor: one re-read of the page's live fragment (GET, same browser).
"""

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def in_thread(call) -> None:
    """Django refuses ORM calls on a thread with a running event loop (Playwright's sync API)."""
    from django.db import connection

    def run() -> None:
        call()
        connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replies", type=int, default=50)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        os.environ["SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / "bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxconsole.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        import psycopg

        name = settings.DATABASES["default"]["NAME"]
        with psycopg.connect(os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres", autocommit=True) as pg:
            pg.execute(f'DROP DATABASE IF EXISTS "{name}"')
            pg.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0

    import uvicorn
    from playwright.sync_api import sync_playwright

    from cxconsole.asgi import application
    from routing.services import reply_to_shopper
    from teams.services import AGENTS_GROUP, ensure_roles
    from tests.factories import AgentFactory, UserFactory
    from tickets.links import make_access_token
    from tickets.services import OrderSnapshot, ShopperDetails, open_ticket

    user = UserFactory.create(username="ana")
    user.groups.add(ensure_roles()[AGENTS_GROUP])
    AgentFactory.create(user=user, skills=["jewelry"])
    from routing.services import route_new_tickets
    from routing.services.assignment import dispatch_queue

    ticket = open_ticket(
        shopper=ShopperDetails(external_id="bench-1"),
        channel="web_form",
        body="戒指的钻石松了",
        order=OrderSnapshot(number="JD1", product_category="jewelry"),
    ).ticket
    route_new_tickets()
    ticket.refresh_from_db()
    assert ticket.queue_id is not None  # routed above
    dispatch_queue(queue_id=ticket.queue_id)
    connection.close()

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(application, lifespan="off", log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    base = f"http://127.0.0.1:{port}"

    results: dict[str, list[float]] = {"reply": [], "floor": []}
    done = threading.Event()

    def drive() -> None:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            # The page's CSP forbids eval, which wait_for_function needs: bypassed for the probe only.
            page = browser.new_page(viewport={"width": 390, "height": 844}, bypass_csp=True)
            page.goto(f"{base}/shop/access/{make_access_token(ticket.id)}/")
            page.wait_for_function("document.querySelector('main').dataset.liveUrl !== undefined")
            time.sleep(1.5)  # the socket is open
            page.evaluate(
                """() => { window.seen = {}; new MutationObserver(() => {
                    document.querySelectorAll('.msg-agent .msg-body').forEach(n => {
                        const k = n.textContent.trim(); if (!(k in window.seen)) window.seen[k] = Date.now(); });
                }).observe(document.body, {subtree: true, childList: true}); }"""
            )
            for i in range(args.replies):
                text = f"reply {i}"
                start = time.time() * 1000
                in_thread(lambda text=text: reply_to_shopper(ticket_id=ticket.id, by=user, body=text))
                page.wait_for_function(f"window.seen[{text!r}] !== undefined", timeout=20_000, polling=20)
                results["reply"].append(page.evaluate(f"window.seen[{text!r}]") - start)
                f0 = time.time()
                page.evaluate(
                    "u => fetch(u, {cache: 'no-store'}).then(r => r.text())", f"/shop/inquiries/{ticket.id}/live/"
                )
                results["floor"].append((time.time() - f0) * 1000)
                time.sleep(0.6)  # past the hint merge interval, so each reply is a fresh hint
            browser.close()
        done.set()

    drive()
    server.should_exit = True
    mode = "postgresql+redis" if settings.REDIS_URL else "embedded"
    reply, floor = results["reply"], results["floor"]
    print(f"mode={mode} replies={len(reply)}")
    print(f"reply_to_page_ms p50={percentile(reply, 0.5):.0f} p95={percentile(reply, 0.95):.0f} max={max(reply):.0f}")
    print(f"floor_fragment_read_ms median={statistics.median(floor):.0f}")
    print(f"ratio_p50_to_floor={percentile(reply, 0.5) / statistics.median(floor):.1f}")


if __name__ == "__main__":
    main()
