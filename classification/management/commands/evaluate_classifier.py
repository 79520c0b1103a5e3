"""Score the shipped classifier on the held-out split of the project's data, or on any CSV."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from classification import textmodel
from classification.evaluation import evaluate, read_labelled_csv
from classification.services import get_model


class Command(BaseCommand):
    help = "Per-category precision, recall, F1 and macro-F1 per language on the holdout (or --csv PATH)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csv", dest="csv_path", help="A labelled CSV (text,category[,lang]) to score instead.")
        parser.add_argument("--json", dest="json_path", help="Also write the figures as JSON here.")

    def handle(self, *args: object, csv_path: str | None, json_path: str | None, **options: object) -> None:
        try:
            model = get_model()
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc
        if csv_path:
            path = Path(csv_path)
            if not path.exists():
                raise CommandError(f"No such file: {path}")
            try:
                examples = read_labelled_csv(path)
            except (ValueError, KeyError) as exc:
                raise CommandError(str(exc)) from exc
            source = str(path)
        else:
            _, examples = textmodel.split_holdout(textmodel.load_examples())
            source = "held-out split of classification/data (never trained on)"
        if not examples:
            raise CommandError("No labelled rows to score.")
        threshold = settings.CLASSIFIER_CONFIDENCE_THRESHOLD
        self.stdout.write(f"Model {model.version}; scoring {source}")
        figures = {}
        reports = [evaluate(model, examples, title="all languages", threshold=threshold)]
        for language in ("zh", "en"):
            subset = [e for e in examples if e.language == language]
            if subset:
                reports.append(evaluate(model, subset, title=f"language {language}", threshold=threshold))
        for report in reports:
            self.stdout.write(report.render())
            figures[report.title] = {
                "macro_f1": round(report.macro_f1, 4),
                "accuracy": round(report.accuracy, 4),
                "count": report.count,
                "intent_macro_f1": report.intent_macro_f1,
            }
        if json_path:
            Path(json_path).write_text(json.dumps({"model": model.version, "source": source, **figures}, indent=2))
