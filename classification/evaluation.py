"""Scores for the classifier: per-category precision/recall/F1, macro-F1, confusion pairs."""

import csv
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sklearn.metrics import f1_score, precision_recall_fscore_support

from classification.textmodel import Example, TextModel


@dataclass
class Report:
    title: str
    rows: list[tuple[str, float, float, float, int]]  # category, precision, recall, f1, support
    macro_f1: float
    accuracy: float
    confusions: list[tuple[str, str, int]]  # true, predicted, count
    intent_macro_f1: float | None
    count: int
    confident_share: float
    confident_accuracy: float

    def render(self) -> str:
        lines = [f"== {self.title}: {self.count} texts, macro-F1 {self.macro_f1:.3f}, accuracy {self.accuracy:.3f}"]
        lines.append(f"   {'category':<15}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>9}")
        for category, p, r, f, n in self.rows:
            lines.append(f"   {category:<15}{p:>10.3f}{r:>10.3f}{f:>10.3f}{n:>9}")
        if self.intent_macro_f1 is not None:
            lines.append(f"   intent macro-F1 {self.intent_macro_f1:.3f}")
        lines.append(
            f"   above the confidence threshold: {self.confident_share:.1%} of texts, accuracy {self.confident_accuracy:.3f}"
        )
        if self.confusions:
            worst = ", ".join(f"{t}→{p} ({n})" for t, p, n in self.confusions)
            lines.append(f"   confusions that hurt most: {worst}")
        return "\n".join(lines)


def evaluate(model: TextModel, examples: Sequence[Example], *, title: str, threshold: float) -> Report:
    predictions = model.predict([e.text for e in examples])
    truth = [e.category for e in examples]
    predicted = [p[0] for p in predictions]
    labels = sorted(set(truth))
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    rows = [
        (c, float(p), float(r), float(f), int(n))
        for c, p, r, f, n in zip(labels, precision, recall, f1, support, strict=True)
    ]
    confusions = Counter((t, p) for t, p in zip(truth, predicted, strict=True) if t != p).most_common(5)
    with_intent = [(e.intent, p[2]) for e, p in zip(examples, predictions, strict=True) if e.intent]
    intent_f1 = (
        float(f1_score([t for t, _ in with_intent], [p for _, p in with_intent], average="macro"))
        if with_intent
        else None
    )
    confident = [(t, p[0]) for t, p in zip(truth, predictions, strict=True) if p[1] >= threshold]
    return Report(
        title=title,
        rows=rows,
        macro_f1=float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
        accuracy=sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth),
        confusions=[(t, p, n) for (t, p), n in confusions],
        intent_macro_f1=intent_f1,
        count=len(examples),
        confident_share=len(confident) / len(truth),
        confident_accuracy=(sum(t == p for t, p in confident) / len(confident)) if confident else 0.0,
    )


def read_labelled_csv(path: Path) -> list[Example]:
    """Rows with text and category (and lang or language, and intent, when present)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "category"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path} lacks the column(s): {', '.join(sorted(missing))}")
        return [
            Example(row["text"], row.get("lang") or row.get("language") or "", row["category"], row.get("intent") or "")
            for row in reader
            if row["text"].strip()
        ]
