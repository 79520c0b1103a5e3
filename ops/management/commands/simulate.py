"""Drive a running CX Console with simulated shoppers and agents, or compare routing policies.

manage.py simulate                     # against http://127.0.0.1:8000 (make run)
manage.py simulate --serve             # start the embedded product too (make demo)
manage.py simulate --compare           # specialists vs one generic pool, fresh databases
manage.py simulate --plan-only         # print what the seed's traffic is, touch nothing
"""

import asyncio
import ipaddress
import signal
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.management.commands.seed_demo import AGENTS, DEMO_API_TOKEN, DEMO_PASSWORD
from ops.simulation.driver import RunResult, SimAgent, Simulation
from ops.simulation.model import (
    CATEGORY_MIX,
    Arrival,
    Corpus,
    TrafficConfig,
    WorkConfig,
    describe,
    plan_arrivals,
    staffed_mix,
)
from ops.simulation.report import Summary, format_comparison, format_summary, summarize
from ops.simulation.server import EmbeddedServer

DEFAULT_SERVICE_LEVEL_SECONDS = 60


def demo_roster() -> list[SimAgent]:
    """The demo's agents (seed_demo) with what they really know, and Sam for escalations."""
    roster = [
        SimAgent(username=name, languages=tuple(languages), expertise=frozenset(primary))
        for name, _display, languages, primary, _secondary in AGENTS
    ]
    return [*roster, SimAgent(username="sam", languages=("zh", "en"), expertise=frozenset(), is_supervisor=True)]


def load_corpus() -> Corpus:
    data = Path(settings.BASE_DIR) / "classification" / "data"
    return Corpus.from_csv({"en": data / "inquiries_en.csv", "zh": data / "inquiries_zh.csv"})


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
    except (OSError, ValueError):
        return False


def compare(arrivals: Sequence[Arrival], run_policy: Any) -> dict[str, Summary]:
    """Run the same arrivals under both policies, generic pool first; `run_policy(policy, arrivals)`
    returns a Summary."""
    return {policy: run_policy(policy, list(arrivals)) for policy in ("generic", "specialist")}


class Command(BaseCommand):
    help = "Simulated shoppers and agents against a running instance (public interfaces only)."

    def add_arguments(self, parser: CommandParser) -> None:
        t, w = TrafficConfig(), WorkConfig()
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="The instance to drive.")
        parser.add_argument("--allow-remote", action="store_true", help="Allow a URL that is not loopback.")
        parser.add_argument("--serve", action="store_true", help="Start the embedded product on --url's port too.")
        parser.add_argument("--compare", action="store_true", help="Specialists vs a generic pool, fresh databases.")
        parser.add_argument("--plan-only", action="store_true", help="Print the seed's traffic plan and stop.")
        parser.add_argument("--seed", type=int, default=t.seed)
        parser.add_argument("--rate", type=float, default=t.rate_per_minute, help="Mean inquiries per minute.")
        parser.add_argument("--duration", type=float, default=t.duration_seconds, help="Seconds of arrivals.")
        parser.add_argument("--max-inquiries", type=int, default=t.max_inquiries)
        parser.add_argument("--day-seconds", type=float, default=t.day_seconds, help="Real seconds per simulated day.")
        parser.add_argument("--start-hour", type=float, default=t.start_hour)
        parser.add_argument("--zh-share", type=float, default=t.zh_share)
        parser.add_argument(
            "--mix",
            choices=["platform", "staffed"],
            default="platform",
            help="Category mix: the platform's, or proportional to the demo roster's specialists.",
        )
        parser.add_argument(
            "--handoff-share", type=float, default=t.handoff_share, help="Shoppers asking for a person."
        )
        parser.add_argument("--write-back-share", type=float, default=t.write_back_share)
        parser.add_argument("--callback-share", type=float, default=t.callback_share)
        parser.add_argument("--rating-share", type=float, default=t.rating_share)
        parser.add_argument(
            "--patience", type=float, default=t.patience_mean_seconds, help="Mean seconds before giving up."
        )
        parser.add_argument(
            "--handle-mean", type=float, default=w.handle_mean_seconds, help="Specialist's mean seconds."
        )
        parser.add_argument(
            "--generalist-factor",
            type=float,
            default=w.generalist_factor,
            help="Handle time multiplier outside an agent's primary skills.",
        )
        parser.add_argument(
            "--wrap-up", type=float, default=w.wrap_up_seconds, help="Seconds waiting for a write-back."
        )
        parser.add_argument("--escalate-share", type=float, default=w.escalate_share)
        parser.add_argument("--transfer-share", type=float, default=w.transfer_share)
        parser.add_argument(
            "--break-every", type=float, default=w.break_every_seconds, help="Mean seconds between breaks."
        )
        parser.add_argument("--break-mean", type=float, default=w.break_mean_seconds)
        parser.add_argument("--drain", type=float, default=60.0, help="Seconds to let open work finish after arrivals.")
        parser.add_argument("--report-every", type=float, default=5.0)
        parser.add_argument("--service-level-seconds", type=int, default=DEFAULT_SERVICE_LEVEL_SECONDS)
        parser.add_argument("--token", default=DEMO_API_TOKEN, help="Storefront API token.")
        parser.add_argument("--password", default=DEMO_PASSWORD, help="The simulated agents' password.")
        parser.add_argument("--supervisor", default="sam")

    def handle(self, *args: object, **o: Any) -> None:
        if o["rate"] <= 0 or o["duration"] <= 0 or o["max_inquiries"] <= 0 or o["day_seconds"] <= 0:
            raise CommandError("--rate, --duration, --max-inquiries and --day-seconds must be positive.")
        if not (o["allow_remote"] or is_loopback(o["url"])):
            raise CommandError(f"{o['url']} is not a loopback address; pass --allow-remote to drive it anyway.")
        traffic = TrafficConfig(
            seed=o["seed"],
            rate_per_minute=o["rate"],
            duration_seconds=o["duration"],
            max_inquiries=o["max_inquiries"],
            day_seconds=o["day_seconds"],
            start_hour=o["start_hour"],
            zh_share=o["zh_share"],
            handoff_share=o["handoff_share"],
            write_back_share=o["write_back_share"],
            callback_share=o["callback_share"],
            rating_share=o["rating_share"],
            patience_mean_seconds=o["patience"],
            category_mix=(
                staffed_mix(agent.expertise for agent in demo_roster() if not agent.is_supervisor)
                if o["mix"] == "staffed"
                else dict(CATEGORY_MIX)
            ),
        )
        work = WorkConfig(
            seed=o["seed"],
            handle_mean_seconds=o["handle_mean"],
            generalist_factor=o["generalist_factor"],
            wrap_up_seconds=o["wrap_up"],
            escalate_share=o["escalate_share"],
            transfer_share=o["transfer_share"],
            break_every_seconds=o["break_every"],
            break_mean_seconds=o["break_mean"],
        )
        arrivals = plan_arrivals(traffic, load_corpus())
        self.stdout.write(f"Plan for seed {traffic.seed}: {describe(arrivals)}")
        if o["plan_only"]:
            return
        if o["compare"]:
            self._compare(arrivals, traffic, work, o)
            return
        server = None
        if o["serve"]:
            split = urlsplit(o["url"])
            log_path = Path(settings.BASE_DIR) / "var" / "simulate-serve.log"
            log_path.parent.mkdir(exist_ok=True)
            server = EmbeddedServer(
                manage_py=Path(settings.BASE_DIR) / "manage.py",
                host=split.hostname or "127.0.0.1",
                port=split.port or 8000,
                log=log_path.open("w"),
            )
            self.stdout.write(f"Starting the embedded product (its log: {log_path}) ...")
            server.start()
            self.stdout.write(
                self.style.SUCCESS(f"CX Console with simulated traffic on {server.url}/  (Ctrl-C to stop)")
            )
        try:
            result = self._run(o["url"], arrivals, traffic, work, o)
        finally:
            if server is not None:
                server.stop()
        self.stdout.write(self._table(result, o, title=f"Simulation, seed {traffic.seed}"))

    def _simulation(
        self, url: str, arrivals: Sequence[Arrival], traffic: TrafficConfig, work: WorkConfig, o: dict[str, Any]
    ) -> Simulation:
        return Simulation(
            base_url=url,
            api_token=o["token"],
            password=o["password"],
            supervisor=o["supervisor"],
            roster=demo_roster(),
            arrivals=arrivals,
            traffic=traffic,
            work=work,
            drain_seconds=o["drain"],
            report_every=o["report_every"],
            service_level_seconds=o["service_level_seconds"],
            write=self._write_now,
        )

    def _write_now(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()  # the live line, also when stdout is a file or a pipe

    def _run(
        self, url: str, arrivals: Sequence[Arrival], traffic: TrafficConfig, work: WorkConfig, o: dict[str, Any]
    ) -> RunResult:
        simulation = self._simulation(url, arrivals, traffic, work, o)

        async def main() -> RunResult:
            # First Ctrl-C: stop the traffic, collect and print the table; a second one aborts.
            loop = asyncio.get_running_loop()
            task = asyncio.current_task()

            def interrupted() -> None:
                if simulation.stopping.is_set() and task is not None:
                    task.cancel()
                self.stdout.write("Stopping: collecting the figures (Ctrl-C again to abort).")
                simulation.stopping.set()

            loop.add_signal_handler(signal.SIGINT, interrupted)
            loop.add_signal_handler(signal.SIGTERM, interrupted)
            return await simulation.run()

        try:
            return asyncio.run(main())
        except asyncio.CancelledError as exc:
            raise CommandError("Aborted.") from exc

    def _table(self, result: RunResult, o: dict[str, Any], *, title: str) -> str:
        summary = self._summary(result, o)
        extra = ", ".join(f"{k} {v}" for k, v in sorted(result.stats.items()))
        lines = [format_summary(summary, title=title), f"  counters: {extra}"]
        lines += [f"  error: {e}" for e in result.errors[:5]]
        return "\n".join(lines)

    def _summary(self, result: RunResult, o: dict[str, Any]) -> Summary:
        return summarize(
            result.outcomes,
            targets=result.targets,
            default_target=o["service_level_seconds"],
            now=result.server_now,
        )

    def _compare(
        self, arrivals: Sequence[Arrival], traffic: TrafficConfig, work: WorkConfig, o: dict[str, Any]
    ) -> None:
        if o["serve"]:
            raise CommandError("--compare starts its own servers; leave out --serve.")
        var = Path(settings.BASE_DIR) / "var"
        var.mkdir(exist_ok=True)

        def run_policy(policy: str, same: list[Arrival]) -> Summary:
            database = var / f"simulate-{policy}.sqlite3"
            database.unlink(missing_ok=True)
            with (var / f"simulate-{policy}.log").open("w") as log:
                server = EmbeddedServer(manage_py=Path(settings.BASE_DIR) / "manage.py", sqlite_path=database, log=log)
                self.stdout.write(f"--- {policy}: preparing a fresh database ({database.name})")
                server.prepare(generic_pool=policy == "generic")
                server.start()
                try:
                    result = self._run(server.url, same, traffic, work, o)
                finally:
                    server.stop()
            self.stdout.write(
                self._table(
                    result,
                    o,
                    title=f"{policy} ({'one pool, no skills' if policy == 'generic' else 'specialist routing'})",
                )
            )
            return self._summary(result, o)

        results = compare(arrivals, run_policy)
        self.stdout.write(
            f"\nSame {len(arrivals)} arrivals (seed {traffic.seed}); a generalist takes "
            f"{work.generalist_factor}x a specialist's time:"
        )
        self.stdout.write(format_comparison(results["generic"], results["specialist"]))
