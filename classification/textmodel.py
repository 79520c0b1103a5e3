"""The text model: character n-grams (Chinese needs no word segmenter) and English word n-grams,
a linear classifier for the category and another for the intent, saved as one joblib artifact.

Training is deterministic: the same rows give the same artifact and the same version string.
"""

import csv
import hashlib
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

DATA_DIR = Path(__file__).resolve().parent / "data"
# Every *_zh.csv / *_en.csv here: inquiries written for the project (text,category,intent) and
# the product lexicon (short product terms, no intent).
DATA_FILES = tuple(sorted(DATA_DIR.glob("*_zh.csv")) + sorted(DATA_DIR.glob("*_en.csv")))
HOLDOUT_SHARE = 0.2  # of each (language, category) group; never trained on by the shipped model
FEATURE_VERSION = "f5"

_PUNCT_OR_SPACE = re.compile(r"[\W_]+", re.UNICODE)
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Space out Chinese characters so the word analyzer sees each as a token, like English words.
_CJK_CHAR = re.compile(f"([{_CJK}])")


def normalize(text: str) -> str:
    """NFKC, lower case, punctuation folded to spaces: "ＩＰＨＯＮＥ，屏幕！" -> "iphone 屏幕"."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _PUNCT_OR_SPACE.sub(" ", text).strip()


def _words(text: str) -> str:
    return _CJK_CHAR.sub(r" \1 ", text)


@dataclass(frozen=True)
class Example:
    text: str
    language: str
    category: str
    intent: str = ""
    source: str = ""  # the data file's stem, e.g. "inquiries_zh" or "lexicon_en"

    @property
    def is_lexicon(self) -> bool:
        return self.source.startswith("lexicon")


def load_examples(paths: Iterable[Path] = DATA_FILES) -> list[Example]:
    examples: list[Example] = []
    for path in paths:
        language = "zh" if path.stem.endswith("_zh") else "en"
        with path.open(newline="", encoding="utf-8") as handle:
            examples.extend(
                Example(row["text"], language, row["category"], row.get("intent") or "", path.stem)
                for row in csv.DictReader(handle)
            )
    return examples


def _stable_rank(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def split_holdout(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """Deterministic stratified split of the written inquiries: in each (language, category)
    group, the 20% of texts with the smallest SHA-1 go to the holdout, so adding rows never
    moves an old row from holdout to train. Lexicon terms always train."""
    groups: dict[tuple[str, str], list[Example]] = {}
    train: list[Example] = []
    holdout: list[Example] = []
    for example in examples:
        if example.is_lexicon:
            train.append(example)
        else:
            groups.setdefault((example.language, example.category), []).append(example)
    for key in sorted(groups):
        ranked = sorted(groups[key], key=lambda e: _stable_rank(e.text))
        cut = round(len(ranked) * HOLDOUT_SHARE)
        holdout.extend(ranked[:cut])
        train.extend(ranked[cut:])
    return train, holdout


def _features() -> FeatureUnion:
    return FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    min_df=2,
                    sublinear_tf=True,
                    max_features=200_000,
                    dtype=np.float32,
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    preprocessor=_words,
                    token_pattern=r"(?u)\b\w+\b",  # noqa: S106  # a regular expression, not a password
                    ngram_range=(1, 3),
                    min_df=1,
                    sublinear_tf=True,
                    max_features=150_000,
                    dtype=np.float32,
                ),
            ),
        ]
    )


def _classifier(c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced")


class FastScorer:
    """The trained vectorizers and linear models, re-expressed as dicts and dense arrays so one
    text is scored without sklearn's per-call overhead, which dominates for a single text. Same
    numbers as the sklearn path (a test holds them equal)."""

    def __init__(self, features: FeatureUnion, models: Sequence[LogisticRegression]) -> None:
        self.blocks = []
        offset = 0
        for _, vectorizer in features.transformer_list:
            vocabulary = {term: index + offset for term, index in vectorizer.vocabulary_.items()}
            self.blocks.append((vectorizer.build_analyzer(), vocabulary, vectorizer.sublinear_tf))
            offset += len(vectorizer.vocabulary_)
        self.idf = np.concatenate([v.idf_ for _, v in features.transformer_list]).astype(np.float64)
        self.weights = [np.ascontiguousarray(m.coef_.T, dtype=np.float64) for m in models]
        self.intercepts = [m.intercept_.astype(np.float64) for m in models]

    def probabilities(self, text: str) -> list[np.ndarray]:
        indexes: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for analyzer, vocabulary, sublinear in self.blocks:
            counts: dict[int, int] = {}
            for term in analyzer(text):
                index = vocabulary.get(term)
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
            if not counts:
                continue
            idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            if sublinear:
                tf = np.log(tf) + 1.0
            weighted = tf * self.idf[idx]
            weighted /= np.sqrt(weighted @ weighted)  # l2 per vectorizer, as TfidfVectorizer does
            indexes.append(idx)
            values.append(weighted)
        result = []
        for weights, intercept in zip(self.weights, self.intercepts, strict=True):
            scores = intercept.copy()
            for idx, val in zip(indexes, values, strict=True):
                scores += val @ weights[idx]
            scores = np.exp(scores - scores.max())
            result.append(scores / scores.sum())
        return result


@dataclass
class TextModel:
    """One feature extractor shared by two linear models (category, intent): each text is
    vectorized once per prediction."""

    version: str
    features: FeatureUnion
    category: LogisticRegression
    intent: LogisticRegression
    trained_rows: int
    categories: list[str] = field(default_factory=list)
    fast: FastScorer | None = None

    def predict_one(self, text: str) -> tuple[str, float, str, float]:
        """The single-inquiry path: same result as predict([text])[0], several times faster."""
        if self.fast is None:
            return self.predict([text])[0]
        cat_proba, int_proba = self.fast.probabilities(normalize(text))
        c, i = int(cat_proba.argmax()), int(int_proba.argmax())
        return (str(self.category.classes_[c]), float(cat_proba[c]), str(self.intent.classes_[i]), float(int_proba[i]))

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float, str, float]]:
        """(category, confidence, intent, intent confidence) for each text (vectorized)."""
        matrix = self.features.transform([normalize(t) for t in texts])
        cat_proba = self.category.predict_proba(matrix)
        int_proba = self.intent.predict_proba(matrix)
        cat_labels = self.category.classes_
        int_labels = self.intent.classes_
        cat_best = cat_proba.argmax(axis=1)
        int_best = int_proba.argmax(axis=1)
        return [
            (str(cat_labels[c]), float(cp[c]), str(int_labels[i]), float(ip[i]))
            for c, i, cp, ip in zip(cat_best, int_best, cat_proba, int_proba, strict=True)
        ]


def train(examples: Sequence[Example], *, category_c: float = 40.0, intent_c: float = 10.0) -> TextModel:
    ordered = sorted(examples, key=lambda e: (e.language, e.category, e.text))
    digest = hashlib.sha256(f"{FEATURE_VERSION}|{category_c}|{intent_c}".encode())
    for example in ordered:
        digest.update(f"{example.language}\t{example.category}\t{example.intent}\t{example.text}\n".encode())
    features = _features()
    matrix = features.fit_transform([normalize(e.text) for e in ordered])
    category = _classifier(category_c).fit(matrix, [e.category for e in ordered])
    rows = [i for i, e in enumerate(ordered) if e.intent]
    intent = _classifier(intent_c).fit(matrix[rows], [ordered[i].intent for i in rows])
    return TextModel(
        version=f"{FEATURE_VERSION}-{digest.hexdigest()[:12]}",
        features=features,
        category=category,
        intent=intent,
        trained_rows=len(ordered),
        categories=sorted(set(category.classes_)),
        fast=FastScorer(features, [category, intent]),
    )


def save(model: TextModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    joblib.dump(model, tmp, compress=3)
    tmp.replace(path)  # atomic: a process loading it never sees half a file


_loaded: dict[Path, TextModel] = {}
_lock = threading.Lock()


def load(path: Path) -> TextModel:
    """The model at path, loaded once per process."""
    model = _loaded.get(path)
    if model is None:
        with _lock:
            model = _loaded.get(path)
            if model is None:
                if not path.exists():
                    raise FileNotFoundError(
                        f"No classifier at {path}. Build it with: python manage.py train_classifier"
                    )
                model = joblib.load(path)
                _loaded[path] = model
    return model


def forget_loaded() -> None:
    """Drop cached models (after train_classifier replaced the artifact in this process)."""
    with _lock:
        _loaded.clear()
