"""Print the classifier's speed and size: single-inquiry latency, batch throughput, memory."""

import json
import os
import resource
import statistics
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from threadpoolctl import threadpool_limits

from classification import textmodel
from classification.services import classify_batch, classify_text


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Benchmark the classifier (one core): p50/p95/p99 single latency, batch texts/s, artifact size, RSS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--single", type=int, default=3000, help="Single-inquiry calls to time.")
        parser.add_argument("--batch", type=int, default=20000, help="Texts in the batch run.")
        parser.add_argument("--json", dest="json_path", help="Also write the figures as JSON here.")

    def handle(self, *args: object, single: int, batch: int, json_path: str | None, **options: object) -> None:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
        before = rss_mb()
        path = settings.CLASSIFIER_MODEL_PATH
        started = time.perf_counter()
        model = textmodel.load(path)
        load_s = time.perf_counter() - started
        after = rss_mb()
        _, holdout = textmodel.split_holdout(textmodel.load_examples())
        texts = [e.text for e in holdout]
        with threadpool_limits(limits=1):
            for text in texts[:200]:
                classify_text(text=text)  # warm-up
            latencies = []
            for i in range(single):
                text = texts[i % len(texts)]
                t0 = time.perf_counter()
                classify_text(text=text)
                latencies.append((time.perf_counter() - t0) * 1000)
            batch_texts = [texts[i % len(texts)] for i in range(batch)]
            runs = []
            for _ in range(3):
                t0 = time.perf_counter()
                classify_batch(batch_texts)
                runs.append(batch / (time.perf_counter() - t0))
        figures = {
            "model": model.version,
            "artifact_mb": round(Path(path).stat().st_size / 1e6, 2),
            "load_seconds": round(load_s, 2),
            "rss_before_load_mb": round(before, 1),
            "rss_after_load_mb": round(after, 1),
            "single_p50_ms": round(statistics.median(latencies), 3),
            "single_p95_ms": round(percentile(latencies, 0.95), 3),
            "single_p99_ms": round(percentile(latencies, 0.99), 3),
            "single_calls": single,
            "batch_texts_per_second_median": round(statistics.median(runs)),
            "batch_size": batch,
            "rss_after_run_mb": round(rss_mb(), 1),
        }
        width = max(map(len, figures))
        for key, value in figures.items():
            self.stdout.write(f"{key:<{width}}  {value}")
        if json_path:
            Path(json_path).write_text(json.dumps(figures, indent=2))
