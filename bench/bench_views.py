#!/usr/bin/env python
"""The console's sidebar views and search at scale: p50/p95 of each view's first page, a deep
keyset page, the sidebar's counts, and searches of each kind, on PostgreSQL.

    .venv/bin/python bench/bench_views.py --tickets 1000000 --agents 100      # seeds <db>_views first
    .venv/bin/python bench/bench_views.py --reuse                              # measure again, no seeding

It makes a scratch database <DATABASE_URL's name>_views, migrates it, runs `seed_history`, then
gives the tickets searchable text (Chinese and English phrases), order numbers and shoppers' names,
phones and emails, and rebuilds the search indexes (trigrams and grams). Each figure is the time of the selector a page
calls (console.lists: the query and loading the rows), measured --repeat times in this process; the
floor row is `SELECT 1` on the same connection (what any query costs here at this load).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")

PHRASES = [
    "车厘子收到一半都烂了，坏果包赔吗",
    "宝宝奶粉什么时候发货",
    "项链的扣子坏了，能换一个吗",
    "口红颜色和图片不一样，想退货",
    "快递三天没动了，物流查不到",
    "The clasp broke on day two, can I get a replacement",
    "Parcel has not moved for three days, where is my order",
    "Wrong size delivered, I would like to return it",
    "退款什么时候到账",
    "花束送到时已经枯萎了",
]
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"]


def bench_database() -> tuple[str, str, str]:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cxconsole")
    parsed = urlparse(base)
    name = (parsed.path.lstrip("/") or "cxconsole") + "_views"
    return parsed._replace(path=f"/{name}").geturl(), parsed._replace(path="/postgres").geturl(), name


def prepare(url: str, admin: str, name: str, *, tickets: int, agents: int) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    print(f"Preparing {name}: migrate, seed_history --tickets {tickets} --agents {agents} ...", flush=True)
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [PY, "manage.py", "seed_history", "--tickets", str(tickets), "--agents", str(agents)],
        cwd=ROOT,
        env=env,
        check=True,
    )
    with psycopg.connect(url, autocommit=True) as conn:
        print("Giving tickets text and order numbers, shoppers names and phones ...", flush=True)
        # The search indexes (trigrams, grams) are dropped for the bulk update and rebuilt after it,
        # from their own definitions: cheaper than updating a GIN index row by row.
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('tickets_ticket', 'tickets_shopper')"
            " AND indexdef LIKE %s",
            ("%USING gin%",),
        ).fetchall()
        for index, _definition in indexes:
            conn.execute(f"DROP INDEX {index}")
        # A phrase per ticket plus a word of its own, so rare words exist as well as common ones.
        conn.execute(
            "UPDATE tickets_ticket SET body = (%s::text[])[1 + id %% %s] || ' 批次' || (id %% 997)::text"
            " || ' ref' || md5(id::text)::varchar(8), order_number = 'SO' || lpad(id::text, 10, '0')",
            (PHRASES, len(PHRASES)),
        )
        conn.execute(
            "UPDATE tickets_shopper SET name = (%s::text[])[1 + id %% %s] || '女士' || (id %% 10000)::text,"
            " phone = '+86138' || lpad(id::text, 8, '0'), email = 'shopper' || id || '@example.com'",
            (SURNAMES, len(SURNAMES)),
        )
        for _index, definition in indexes:
            conn.execute(definition)
        conn.execute("VACUUM ANALYZE tickets_ticket")
        conn.execute("VACUUM ANALYZE tickets_shopper")
    print(f"Prepared in {time.perf_counter() - started:.0f} s.", flush=True)


def measure(repeat: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxconsole.settings")
    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection
    from django.db.models import Count

    from console import lists
    from core.keyset import cursor_for
    from teams.services import SUPERVISORS_GROUP, ensure_roles
    from tickets.models import Shopper, Ticket

    # The busiest agent (most tickets held) and a supervisor.
    busiest = (
        Ticket.objects.exclude(assigned_agent=None)
        .values("assigned_agent")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    if busiest is None:
        raise SystemExit("No assigned tickets: seed first (manage.py seed_history).")
    agent_id = busiest["assigned_agent"]
    agent = User.objects.get(pk=agent_id)
    supervisor, _ = User.objects.get_or_create(username="bench-views-supervisor")
    supervisor.groups.add(ensure_roles()[SUPERVISORS_GROUP])
    supervisor = User.objects.get(pk=supervisor.pk)  # fresh permission cache
    total = Ticket.objects.count()
    shopper = Shopper.objects.order_by("id")[Shopper.objects.count() // 2]
    some_ticket = Ticket.objects.filter(assigned_agent=agent).order_by("-created_at").first()
    assert some_ticket is not None  # the busiest agent holds tickets

    def timed(call: object) -> list[float]:
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            call()  # type: ignore[operator]
            samples.append((time.perf_counter() - started) * 1000)
        return samples

    rows: list[tuple[str, str, list[float], str]] = []

    def floor() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchall()

    rows.append(("floor", "SELECT 1", timed(floor), ""))

    for who, user in (("agent", agent), ("supervisor", supervisor)):
        rows.append((who, "sidebar: every view's count", timed(lambda u=user: lists.sidebar(u)), ""))
        for view in lists.sidebar_views(user):
            if who == "supervisor" and view.queue is not None and view.queue.kind != "specialist":
                continue
            if who == "supervisor" and view.slug in ("mine", "waiting-on-shopper", "resolved"):
                continue  # the supervisor holds no tickets: the agent's rows say it
            listed = lists.view_rows(user, view)
            size = listed.count()
            rows.append(
                (who, f"{view.slug}: first page", timed(lambda u=user, v=view: lists.view_page(u, v)), f"{size:,} rows")
            )
            # A full page deep into the list: 5,000 rows in, or the last full page of a shorter one.
            deep_at = min(size - lists.PAGE_SIZE - 1, 5000)
            if deep_at >= lists.PAGE_SIZE:
                boundary = listed.order_by(*view.order)[deep_at]
                cursor = cursor_for(boundary, view.order)
                rows.append(
                    (
                        who,
                        f"{view.slug}: page after row {deep_at:,}",
                        timed(lambda u=user, v=view, c=cursor: lists.view_page(u, v, after=c)),
                        "",
                    )
                )
            if who == "supervisor" and view.queue is not None:
                break  # one queue is enough for the supervisor: they are alike

    searches = [
        ("ticket number", f"#{some_ticket.id}"),
        ("order number", some_ticket.order_number),
        ("shopper id", shopper.external_id),
        ("shopper phone (part)", shopper.phone[-8:]),
        ("shopper name", shopper.name),
        ("Chinese words, common", "坏果包赔"),
        ("a word of one ticket", some_ticket.body.split()[-1]),
        ("English words", "CLASP BROKE"),
        ("2 Chinese characters", "退款"),
        ("2 Chinese characters, no match", "鲸鱼"),
        ("1 Chinese character", "枯"),
        ("1 Chinese character, no match", "鲸"),
        ("no match", "无此内容xyz"),
    ]
    for who, user in (("agent", agent), ("supervisor", supervisor)):
        for label, query in searches:
            page = lists.search_page(user, query)
            samples = timed(lambda u=user, q=query: lists.search_page(u, q))
            rows.append((who, f"search, {label}: first page", samples, f"{len(page.rows)} shown"))
            if page.next_cursor and who == "supervisor":
                deep = page
                for _ in range(20):
                    if not deep.next_cursor:
                        break
                    deep = lists.search_page(user, query, after=deep.next_cursor)
                if deep.previous_cursor:
                    cursor = cursor_for(deep.rows[0], lists.SEARCH_ORDER)
                    rows.append(
                        (
                            who,
                            f"search, {label}: page 21",
                            timed(lambda u=user, q=query, c=cursor: lists.search_page(u, q, after=c)),
                            "",
                        )
                    )

    load = os.getloadavg()
    print()
    print(f"Console views and search on {total:,} tickets ({connection.settings_dict['NAME']}), {repeat} runs each")
    print(f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores; target p95 <= 100 ms")
    print()
    print(f"| {'who':<10} | {'list':<52} | {'p50 ms':>7} | {'p95 ms':>7} | {'note':<14} |")
    print(f"| {'-' * 10} | {'-' * 52} | {'-' * 7}: | {'-' * 7}: | {'-' * 14} |")
    for who, label, samples, note in rows:
        ordered = sorted(samples)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(f"| {who:<10} | {label:<52} | {statistics.median(samples):7.1f} | {p95:7.1f} | {note:<14} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="measure the database seeded by an earlier run")
    args = parser.parse_args()
    url, admin, name = bench_database()
    if not args.reuse:
        prepare(url, admin, name, tickets=args.tickets, agents=args.agents)
    os.environ["DATABASE_URL"] = url
    measure(args.repeat)


if __name__ == "__main__":
    main()
