#!/usr/bin/env python
"""Callback dispatch benchmark: N callbacks due in the same minute, 2 Celery worker processes.

    .venv/bin/python bench/bench_callbacks.py --count 10000

Needs PostgreSQL and Redis (DATABASE_URL / REDIS_URL; defaults to the local ones, Redis db 12).
It creates a scratch database <name>_cbbench, migrates it, writes N callbacks on N tickets (shoppers
with phone and email, Chinese and English) all scheduled at the start of the next minute M with the
reminder due then too (the queue's reminder lead set to 0: "we are calling you now"), then starts
2 `celery worker` processes (prefork, concurrency 1 each, queues "callbacks" and "notifications") and one `celery beat`
(the real schedule: callbacks.dispatch_due every 10 s). It measures, from the database's own
timestamps, how long after M every callback was surfaced and every notification sent, and counts
duplicates: outbox rows per idempotency key and lines per key in the SMS provider's file.
Prints a table, writes bench/results/callbacks.json and drops the scratch database.
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import psycopg
from bench_routing import one_row

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def seed(count: int, due_at: datetime, email_share: float) -> None:
    """Runs inside Django (child process): N shoppers, tickets and callbacks due at due_at."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from callbacks.models import Callback
    from callbacks.services import policy_for
    from teams.models import SpecialistQueue
    from tickets.models import Shopper, Ticket

    jewelry = SpecialistQueue.objects.get(slug="jewelry")
    policy = policy_for(jewelry)
    policy.reminder_lead_minutes = 0
    policy.save()
    with_email = int(count * email_share)
    shoppers = Shopper.objects.bulk_create(
        [
            Shopper(
                external_id=f"bench-{i}",
                name=f"Shopper {i}",
                phone=f"+86138{i:08d}",
                email=f"shopper{i}@example.cn" if i < with_email else "",
                language="zh" if i % 2 == 0 else "en",
                time_zone="Asia/Shanghai" if i % 2 == 0 else "Europe/Berlin",
            )
            for i in range(count)
        ],
        batch_size=2000,
    )
    tickets = Ticket.objects.bulk_create(
        [
            Ticket(shopper=s, channel="chat", body="请回电", language=s.language, queue=jewelry, status="queued")
            for s in shoppers
        ],
        batch_size=2000,
    )
    Callback.objects.bulk_create(
        [
            Callback(
                ticket=t,
                queue=jewelry,
                booked_by="shopper",
                phone=t.shopper.phone,
                scheduled_at=due_at,
                window_end=due_at + timedelta(minutes=30),
                reminder_due_at=due_at,
            )
            for t in tickets
        ],
        batch_size=2000,
    )


def prepare(suffix: str) -> tuple[str, str, str, dict[str, str]]:
    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cxconsole")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/12")
    parsed = urlparse(base_db)
    name = (parsed.path.lstrip("/") or "cxconsole") + f"_{suffix}"
    admin_db = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_db, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DATABASE_URL": parsed._replace(path=f"/{name}").geturl(),
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "cxconsole.settings",
        # Served over plain HTTP on loopback, with a key of this run's own.
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
    }
    import redis

    redis.Redis.from_url(redis_url).flushdb()  # this benchmark's own Redis database only
    subprocess.run([PY, "manage.py", "migrate", "--noinput"], env=env, cwd=ROOT, check=True, capture_output=True)
    return name, admin_db, env["DATABASE_URL"], env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--email-share", type=float, default=1.0, help="Share of shoppers with an email address.")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    parser.add_argument("--seed", help=argparse.SUPPRESS)  # internal: run the seeding in Django
    args = parser.parse_args()
    if args.seed:
        seed(args.count, datetime.fromisoformat(args.seed), args.email_share)
        return

    print(f"Preparing a scratch database for {args.count:,} callbacks ...", flush=True)
    name, admin_db, db_url, env = prepare("cbbench")
    scratch = Path(tempfile.mkdtemp(prefix="cbbench-"))
    sms_log = scratch / "sms.log"
    env.update(
        {
            "SMS_BACKEND": "file",
            "SMS_FILE_PATH": str(sms_log),
            "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        }
    )
    processes: list[subprocess.Popen] = []
    try:
        now = datetime.now(UTC)
        due_at = (now + timedelta(seconds=60)).replace(second=0, microsecond=0)
        if (due_at - now).total_seconds() < 25:  # leave time to seed and start the workers
            due_at += timedelta(minutes=1)
        seeding = time.perf_counter()
        subprocess.run(
            [
                PY,
                __file__,
                "--count",
                str(args.count),
                "--email-share",
                str(args.email_share),
                "--seed",
                due_at.isoformat(),
            ],
            env=env,
            cwd=ROOT,
            check=True,
        )
        print(f"Seeded in {time.perf_counter() - seeding:.1f} s; all due at {due_at:%H:%M:%S} UTC.", flush=True)
        for i in range(2):
            processes.append(
                subprocess.Popen(
                    [PY, "-m", "celery", "-A", "cxconsole", "worker", "-Q", "callbacks,notifications", "-c", "1", "-P", "prefork",
                     "-n", f"cbbench{i}@%h", "--without-gossip", "--without-mingle", "-l", "WARNING"],
                    env=env, cwd=ROOT, stdout=(scratch / f"worker{i}.log").open("w"), stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
        processes.append(
            subprocess.Popen(
                [PY, "-m", "celery", "-A", "cxconsole", "beat", "-l", "WARNING"],
                env=env, cwd=ROOT, stdout=(scratch / "beat.log").open("w"), stderr=subprocess.STDOUT,
            )
        )  # fmt: skip
        print(f"2 workers (prefork, -c 1 each) and beat started; waiting for {due_at:%H:%M:%S} ...", flush=True)

        with psycopg.connect(db_url, autocommit=True) as conn:
            deadline = time.monotonic() + args.timeout + max((due_at - datetime.now(UTC)).total_seconds(), 0)
            while time.monotonic() < deadline:
                _surfaced, pending_callbacks = one_row(
                    conn.execute(
                        "SELECT count(*) FILTER (WHERE status = 'due'), count(*) FILTER (WHERE status = 'scheduled') "
                        "FROM callbacks_callback"
                    )
                )
                sent, pending_notes = one_row(
                    conn.execute(
                        "SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status <> 'sent') "
                        "FROM notifications_notification"
                    )
                )
                if pending_callbacks == 0 and sent > 0 and pending_notes == 0:
                    break
                time.sleep(0.5)
            surfaced_after = [
                row[0]
                for row in conn.execute(
                    "SELECT EXTRACT(EPOCH FROM surfaced_at - %s) FROM callbacks_callback WHERE surfaced_at IS NOT NULL",
                    [due_at],
                )
            ]
            sent_after = [
                row[0]
                for row in conn.execute(
                    "SELECT EXTRACT(EPOCH FROM sent_at - %s) FROM notifications_notification WHERE sent_at IS NOT NULL",
                    [due_at],
                )
            ]
            notes, keys, failed = one_row(
                conn.execute(
                    "SELECT count(*), count(DISTINCT idempotency_key), count(*) FILTER (WHERE status = 'failed') "
                    "FROM notifications_notification"
                )
            )
            expected_notes = args.count + int(args.count * args.email_share)
            callbacks_surfaced = len(surfaced_after)
    finally:
        for proc in processes:
            proc.terminate()
        for proc in processes:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        if not args.keep:  # drop the scratch data, also after a failure
            with psycopg.connect(admin_db, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    sms_lines = sms_log.read_text().splitlines() if sms_log.exists() else []
    per_key = Counter(json.loads(line)["idempotency_key"] for line in sms_lines)
    duplicate_sms = sum(n - 1 for n in per_key.values() if n > 1)
    surfaced_f = [float(v) for v in surfaced_after]
    sent_f = [float(v) for v in sent_after]
    figures = {
        "callbacks": args.count,
        "callbacks_surfaced": callbacks_surfaced,
        "notifications_expected": expected_notes,
        "notifications_in_outbox": notes,
        "notifications_sent": len(sent_f),
        "notifications_failed": failed,
        "duplicate_outbox_rows": notes - keys,
        "duplicate_sms_sends": duplicate_sms,
        "all_surfaced_after_s": max(surfaced_f) if surfaced_f else None,
        "all_sent_after_s": max(sent_f) if sent_f else None,
        "surfaced_p50_p95_p99_s": [percentile(surfaced_f, q) for q in (0.5, 0.95, 0.99)],
        "sent_p50_p95_p99_s": [percentile(sent_f, q) for q in (0.5, 0.95, 0.99)],
        "first_surfaced_after_s": min(surfaced_f) if surfaced_f else None,
        "workers": "2 celery worker processes, prefork -c 1 each, queues callbacks,notifications; 1 celery beat",
        "at": datetime.now(UTC).isoformat(),
    }

    def s(value: object) -> str:
        return f"{value:.1f} s" if isinstance(value, float) else str(value)

    rows = [
        ("callbacks due at the same minute", f"{args.count:,}"),
        ("surfaced (status due)", f"{callbacks_surfaced:,}"),
        (
            "notifications (SMS + email reminders)",
            f"{len(sent_f):,} sent of {expected_notes:,} expected, {failed} failed",
        ),
        ("first surfaced after M (beat phase)", s(figures["first_surfaced_after_s"])),
        ("all surfaced after M", s(figures["all_surfaced_after_s"])),
        ("all notifications sent after M", s(figures["all_sent_after_s"])),
        ("surfaced after M p50 / p95 / p99", " / ".join(s(v) for v in figures["surfaced_p50_p95_p99_s"])),
        ("sent after M p50 / p95 / p99", " / ".join(s(v) for v in figures["sent_p50_p95_p99_s"])),
        ("duplicate outbox rows (per idempotency key)", str(notes - keys)),
        ("duplicate SMS sends (provider file, per key)", str(duplicate_sms)),
    ]
    width = max(len(r[0]) for r in rows)
    print()
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    out = ROOT / "bench" / "results" / "callbacks.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))
    print(f"\nWritten {out.relative_to(ROOT)}; worker logs in {scratch}")


if __name__ == "__main__":
    main()
