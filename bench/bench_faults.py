#!/usr/bin/env python
"""Fault benchmark: routing under load while its processes and services are killed and restarted.

    .venv/bin/python bench/bench_faults.py --rate 60 --duration 90

Production layout on this machine: gunicorn (2 sync workers), one Celery worker (prefork pool),
one Celery beat, PostgreSQL, and a Redis server of its own that this script starts on a free
loopback port (so it never touches another Redis). Inquiries are posted at a fixed rate, each with
an Idempotency-Key and retried (bounded) until the server accepts it, as a storefront would. At set
times it kills a Celery child (SIGKILL) twice, the Celery main process (then starts a new worker),
a gunicorn worker, restarts its Redis, and restarts PostgreSQL (the one service it did not start:
the cluster in /etc/postgresql is restarted once, and it says so; --no-postgres-restart skips it).

Then it checks every invariant in SQL — lost, duplicated, double-assigned, over capacity, stuck,
handoffs unassigned — and prints each fault's worst delays. It stops by itself: bounded in count
(rate x duration) and time (--drain-seconds after the load).
"""

import argparse
import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_routing import PY, ROOT, inquiry_payload, one_row, percentile, prepare_database, run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


@dataclass
class Rig:
    """The processes this benchmark started (and may kill)."""

    env: dict[str, str]
    queues: str
    redis_port: int
    web_port: int
    logs: Path
    web: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None
    beat: subprocess.Popen | None = None
    redis: subprocess.Popen | None = None
    workers_started: int = 0
    events: list[tuple[float, str]] = field(default_factory=list)

    def start_redis(self) -> None:
        self.redis = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.redis_port), "--save", "", "--appendonly", "no"],
            stdout=(self.logs / "redis.log").open("a"),
            stderr=subprocess.STDOUT,
        )
        for _ in range(50):
            if subprocess.run(["redis-cli", "-p", str(self.redis_port), "ping"], capture_output=True).returncode == 0:
                return
            time.sleep(0.1)

    def start_web(self) -> None:
        self.web = self._spawn(
            "web",
            [PY, "-m", "gunicorn", "cxconsole.wsgi:application", "-w", "2", "-b", f"127.0.0.1:{self.web_port}"],
        )

    def start_worker(self) -> None:
        self.workers_started += 1
        self.worker = self._spawn(
            f"worker{self.workers_started}",
            [
                PY,
                "-m",
                "celery",
                "-A",
                "cxconsole",
                "worker",
                "-Q",
                self.queues,
                "-c",
                "2",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "WARNING",
                "-n",
                f"faults{self.workers_started}@%h",
            ],
        )

    def start_beat(self) -> None:
        self.beat = self._spawn(
            "beat", [PY, "-m", "celery", "-A", "cxconsole", "beat", "-l", "WARNING", "-s", str(self.logs / "beat")]
        )

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen:
        return subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=(self.logs / f"{name}.log").open("a"), stderr=subprocess.STDOUT
        )

    def stop(self) -> None:
        for proc in (self.web, self.worker, self.beat, self.redis):
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in (self.web, self.worker, self.beat, self.redis):
            if proc is None:
                continue
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        # Prefork children of a killed worker main process are orphans: end any left.
        subprocess.run(["pkill", "-f", "-9", "faults[0-9]+@"], capture_output=True)


def kill_celery_child(rig: Rig) -> str:
    assert rig.worker is not None
    kids = children(rig.worker.pid)
    if not kids:
        return "no Celery child to kill"
    os.kill(kids[0], signal.SIGKILL)
    return f"SIGKILL Celery child {kids[0]}"


def kill_celery_main(rig: Rig) -> str:
    assert rig.worker is not None
    pid = rig.worker.pid
    kids = children(pid)
    os.kill(pid, signal.SIGKILL)
    for kid in kids:  # the orphaned pool would finish its task and linger
        with contextlib.suppress(ProcessLookupError):
            os.kill(kid, signal.SIGKILL)
    rig.worker.wait()
    time.sleep(2)
    rig.start_worker()
    return f"SIGKILL Celery main {pid} (+{len(kids)} children), new worker started after 2 s"


def kill_gunicorn_worker(rig: Rig) -> str:
    assert rig.web is not None
    kids = children(rig.web.pid)
    if not kids:
        return "no gunicorn worker to kill"
    os.kill(kids[0], signal.SIGKILL)
    return f"SIGKILL gunicorn worker {kids[0]} (the master starts another)"


def restart_redis(rig: Rig) -> str:
    assert rig.redis is not None
    rig.redis.kill()
    rig.redis.wait()
    time.sleep(1)
    rig.start_redis()
    return f"Redis on :{rig.redis_port} killed, restarted after 1 s (empty: nothing persisted)"


def restart_postgres(rig: Rig) -> str:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    started = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"],
        check=True,
        capture_output=True,
    )
    return f"PostgreSQL {version}/main restarted (fast) in {time.monotonic() - started:.1f} s"


FAULTS = [
    (0.12, "celery child", kill_celery_child),
    (0.24, "celery child", kill_celery_child),
    (0.36, "celery main", kill_celery_main),
    (0.48, "gunicorn worker", kill_gunicorn_worker),
    (0.62, "redis restart", restart_redis),
    (0.78, "postgres restart", restart_postgres),
]


async def post_until_accepted(port: int, body: bytes, token: str, key: str, deadline: float) -> tuple[int, int]:
    """POST with the Idempotency-Key until a 2xx or the deadline; returns (status, attempts)."""
    attempts = 0
    while True:
        attempts += 1
        status = 0
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            head = (
                f"POST /api/v1/inquiries/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Authorization: Token {token}\r\nIdempotency-Key: {key}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n"
            ).encode()
            writer.write(head + body)
            await writer.drain()
            data = await asyncio.wait_for(reader.read(), 15)
            writer.close()
            status = int(data.split(b" ", 2)[1]) if data else 0
        except (OSError, TimeoutError, ValueError, IndexError):
            status = 0
        if 200 <= status < 300 or (400 <= status < 500 and status not in (408, 429)) or time.monotonic() > deadline:
            return status, attempts
        await asyncio.sleep(min(2.0, 0.2 * attempts) * (0.5 + random.random()))


async def load(rig: Rig, token: str, rate: float, duration: float, handoff_share: float, faults: list) -> dict:
    total = int(rate * duration)
    rng = random.Random(20261206)
    start = time.monotonic()
    give_up = start + duration + 60
    pending = sorted(((at * duration, name, act) for at, name, act in faults), key=lambda f: f[0])
    tasks = []
    loop = asyncio.get_running_loop()
    for i in range(total):
        now = time.monotonic()
        while pending and now - start >= pending[0][0]:
            _, name, act = pending.pop(0)
            stamp = time.time()
            note = await loop.run_in_executor(None, act, rig)
            rig.events.append((stamp, f"{name}: {note}"))
            print(f"  t={now - start:5.1f}s  {name}: {note}", flush=True)
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        body = inquiry_payload(i, rng.random() < handoff_share)
        tasks.append(asyncio.create_task(post_until_accepted(rig.web_port, body, token, f"faults-{i}", give_up)))
    results = await asyncio.gather(*tasks)
    accepted = [i for i, (status, _) in enumerate(results) if 200 <= status < 300]
    return {
        "offered": total,
        "accepted": len(accepted),
        "refused_or_gave_up": total - len(accepted),
        "retried_requests": sum(1 for _, attempts in results if attempts > 1),
        "final_statuses": dict(Counter(status for status, _ in results)),
        "accepted_keys": [f"faults-{i}" for i in accepted],
    }


INVARIANTS = {
    "duplicated (one key, several tickets)": (
        "SELECT count(*) FROM (SELECT idempotency_key FROM tickets_ticket WHERE idempotency_key LIKE 'faults-%%'"
        " GROUP BY idempotency_key HAVING count(*) > 1) d"
    ),
    "double-assigned (two active assignments)": (
        "SELECT count(*) FROM (SELECT ticket_id FROM routing_assignment WHERE ended_at IS NULL"
        " GROUP BY ticket_id HAVING count(*) > 1) d"
    ),
    "over capacity": "SELECT count(*) FROM teams_agentprofile WHERE active_ticket_count > capacity",
    "agent count drift (count != active assignments + live offers)": (
        "SELECT count(*) FROM teams_agentprofile a WHERE a.active_ticket_count <> (SELECT count(*)"
        " FROM routing_assignment r WHERE r.agent_id = a.user_id AND r.ended_at IS NULL)"
        " + (SELECT count(*) FROM routing_offer o WHERE o.agent_id = a.user_id AND o.state = 'pending')"
    ),
    "stuck (new or queued after the drain)": "SELECT count(*) FROM tickets_ticket WHERE status IN ('new', 'queued')",
    "handoffs unassigned": (
        "SELECT count(*) FROM tickets_ticket WHERE handoff_requested_at IS NOT NULL AND handoff_assigned_at IS NULL"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=60, help="inquiries per second")
    parser.add_argument("--duration", type=float, default=90, help="seconds of load; faults at fixed fractions")
    parser.add_argument("--handoff-share", type=float, default=0.1)
    parser.add_argument("--drain-seconds", type=float, default=60, help="longest wait for work to finish after")
    parser.add_argument("--no-postgres-restart", action="store_true", help="skip the PostgreSQL restart")
    args = parser.parse_args()
    if args.rate * args.duration > 20000:
        parser.error("at most 20,000 inquiries per run")

    redis_port = free_port()
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
    logs = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    rig = Rig(env={}, queues="", redis_port=redis_port, web_port=free_port(), logs=logs)
    rig.start_redis()
    faults = [f for f in FAULTS if not (args.no_postgres_restart and f[1] == "postgres restart")]
    if not args.no_postgres_restart:
        print("NOTE: this run restarts the local PostgreSQL cluster once (other clients will reconnect).")
    try:
        bench_db, _, env, token = prepare_database("faults")
        env = {**env, "BENCH_ENDPOINTS": "0", "LOG_LEVEL": "WARNING"}
        rig.env = env
        rig.queues = run([PY, "manage.py", "celery_queues"], env).strip()
        rig.start_web()
        rig.start_worker()
        rig.start_beat()
        for _ in range(100):
            if (
                subprocess.run(
                    ["curl", "-sf", f"http://127.0.0.1:{rig.web_port}/healthz"], capture_output=True
                ).returncode
                == 0
            ):
                break
            time.sleep(0.2)
        print(f"Load: {args.rate:g}/s for {args.duration:g} s, faults at set times (logs in {logs})", flush=True)
        sent = asyncio.run(load(rig, token, args.rate, args.duration, args.handoff_share, faults))
        print(f"Load done: {sent['accepted']} of {sent['offered']} accepted; draining ...", flush=True)
        deadline = time.monotonic() + args.drain_seconds
        with psycopg.connect(bench_db, autocommit=True) as conn:
            while time.monotonic() < deadline:
                (left,) = one_row(conn.execute("SELECT count(*) FROM tickets_ticket WHERE status IN ('new', 'queued')"))
                if left == 0:
                    break
                time.sleep(0.5)
            figures = {name: one_row(conn.execute(sql))[0] for name, sql in INVARIANTS.items()}
            stored = {
                row[0]
                for row in conn.execute(
                    "SELECT idempotency_key FROM tickets_ticket WHERE idempotency_key = ANY(%s)",
                    [sent["accepted_keys"]],
                )
            }
            figures = {"lost (accepted, no ticket)": len(set(sent["accepted_keys"]) - stored), **figures}
            # A fault must never take a process down for good (the killed ones were replaced).
            exited = [
                n
                for n, proc in (("web", rig.web), ("worker", rig.worker), ("beat", rig.beat))
                if proc is not None and proc.poll() is not None
            ]
            figures["processes exited on their own"] = len(exited)
            rows = conn.execute(
                "SELECT extract(epoch FROM created_at), extract(epoch FROM first_assigned_at - created_at),"
                " extract(epoch FROM handoff_assigned_at - handoff_requested_at) FROM tickets_ticket"
                " WHERE idempotency_key LIKE 'faults-%%'"
            ).fetchall()
    finally:
        rig.stop()

    if exited:
        print(f"Exited on their own (see their logs in {logs}): {', '.join(exited)}")
    print("\nInvariants (all must be 0):")
    width = max(map(len, figures))
    for name, value in figures.items():
        print(f"  {name:<{width}}  {value}")
    print(
        f"\nRequests: {sent['offered']} offered, {sent['accepted']} accepted, "
        f"{sent['refused_or_gave_up']} refused or given up, {sent['retried_requests']} needed a retry"
    )
    print(
        "\nFault                     worst intake->assigned (s)   worst handoff delay (s)   tickets in window"
        "   never assigned"
    )
    for stamp, note in rig.events:
        # Tickets created from 2 s before the fault to 10 s after it.
        window = [r for r in rows if stamp - 2 <= float(r[0]) <= stamp + 10]
        assigned = [float(r[1]) for r in window if r[1] is not None]
        handoffs = [float(r[2]) for r in window if r[2] is not None]
        name = note.split(":")[0]
        print(
            f"  {name:<24}{max(assigned, default=float('nan')):>18.2f}{max(handoffs, default=float('nan')):>26.2f}"
            f"{len(window):>20}{len(window) - len(assigned):>17}"
        )
    every = [float(r[1]) for r in rows if r[1] is not None]
    print(
        f"\nAll tickets: intake->assigned p50 {percentile(every, 0.5):.3f} s, p99 {percentile(every, 0.99):.3f} s, "
        f"max {max(every, default=float('nan')):.2f} s"
    )


if __name__ == "__main__":
    main()
