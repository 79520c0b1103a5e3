"""Run the rules sweep once, to the end, and print what it opened (operations and the benchmark).

manage.py proactive_sweep [--batch-size 100]
"""

import json
import resource
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from proactive.services import SWEEP_BATCH, sweep


class Command(BaseCommand):
    help = "Evaluate every anomaly rule over the in-flight orders once, opening the cases found."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=SWEEP_BATCH)

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        result = sweep(batch_size=options["batch_size"])
        self.stdout.write(
            json.dumps(
                {
                    "opened": result.opened,
                    "total": result.total,
                    "compensations": result.compensations,
                    "seconds": round(time.perf_counter() - started, 2),
                    # Linux reports kilobytes.
                    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                }
            )
        )
