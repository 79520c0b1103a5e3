"""Build the classifier artifact from the project's data files and the labels agents stored."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from classification import textmodel


def stored_labels() -> list[textmodel.Example]:
    from classification.models import CategoryLabel

    rows = CategoryLabel.objects.select_related("category").order_by("id")
    return [textmodel.Example(label.text, label.language, label.category.slug, "", "agent_label") for label in rows]


class Command(BaseCommand):
    help = "Train the category and intent models (deterministic) and write the artifact."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--if-missing", action="store_true", help="Do nothing when the artifact exists.")
        parser.add_argument("--output", default=str(settings.CLASSIFIER_MODEL_PATH))
        parser.add_argument("--no-labels", action="store_true", help="Ignore agents' stored labels.")

    def handle(self, *args: object, if_missing: bool, output: str, no_labels: bool, **options: object) -> None:
        from pathlib import Path

        path = Path(output)
        if if_missing and path.exists():
            self.stdout.write(f"Classifier present at {path}; not retraining.")
            return
        started = time.perf_counter()
        train, holdout = textmodel.split_holdout(textmodel.load_examples())
        labels: list[textmodel.Example] = []
        if not no_labels:
            try:
                labels = stored_labels()
            except DatabaseError:
                self.stdout.write("No database with stored labels yet: training on the data files only.")
        model = textmodel.train([*train, *labels])
        textmodel.save(model, path)
        textmodel.forget_loaded()
        self.stdout.write(
            f"Trained {model.version} on {len(train)} examples + {len(labels)} agent labels "
            f"({len(holdout)} held out) in {time.perf_counter() - started:.1f}s -> {path} "
            f"({path.stat().st_size / 1e6:.1f} MB)"
        )
