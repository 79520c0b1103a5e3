"""Classify inquiries (category, intent, signals) and learn from agents' corrections."""

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from classification import textmodel
from classification.models import CategoryLabel, ClassificationDecision, Method
from classification.signals import SignalContext, demands_a_person, detect_signals, priority_for
from teams.models import Category
from teams.selectors import categories_by_slug
from teams.taxonomy import CATEGORY_SLUGS
from tickets.models import Ticket


@dataclass(frozen=True)
class Classification:
    category: str
    confidence: float
    intent: str
    signals: list[str]
    method: str
    model_version: str
    # The model was unsure: the ticket goes to triage for an agent to set the category.
    needs_category: bool = False
    latency_ms: float = 0.0
    intent_confidence: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def priority(self) -> int:
        return priority_for(self.signals)

    @property
    def demands_a_person(self) -> bool:
        return demands_a_person(self.signals)

    def as_dict(self) -> dict[str, object]:
        return {
            "category": self.category,
            "confidence": round(self.confidence, 4),
            "intent": self.intent,
            "signals": self.signals,
            "method": self.method,
            "needs_category": self.needs_category,
            "model_version": self.model_version,
        }


def get_model() -> textmodel.TextModel:
    """The shipped text model, loaded once per process."""
    return textmodel.load(settings.CLASSIFIER_MODEL_PATH)


def classify_text(
    *,
    text: str,
    order_category: str = "",
    order_amount: Decimal | float | None = None,
    recent_inquiries: int = 0,
    known_categories: frozenset[str] | None = None,
) -> Classification:
    """Category from the order when it names a known one, else from the text model; intent and
    signals always. Pure: reads no database (the CLI works before any migration)."""
    started = time.perf_counter()
    model = get_model()
    predicted, confidence, intent, intent_confidence = model.predict_one(text)
    known = known_categories if known_categories is not None else frozenset(CATEGORY_SLUGS)
    if order_category and order_category in known:
        category, confidence, method, unsure = order_category, 1.0, Method.ORDER, False
    else:
        category, method = predicted, Method.MODEL
        unsure = confidence < settings.CLASSIFIER_CONFIDENCE_THRESHOLD
    signals = detect_signals(
        text,
        SignalContext(
            category=category,
            intent=intent,
            order_amount=order_amount,
            high_value_threshold=settings.HIGH_VALUE_ORDER_AMOUNT,
            recent_inquiries=recent_inquiries,
        ),
    )
    return Classification(
        category=category,
        confidence=confidence,
        intent=intent,
        intent_confidence=intent_confidence,
        signals=signals,
        method=method,
        model_version=model.version,
        needs_category=unsure,
        latency_ms=(time.perf_counter() - started) * 1000,
    )


def classify_batch(texts: list[str]) -> list[Classification]:
    """Text-only classification of many texts at once (vectorized): for imports and benchmarks."""
    started = time.perf_counter()
    model = get_model()
    predictions = model.predict(texts)
    threshold = settings.CLASSIFIER_CONFIDENCE_THRESHOLD
    each_ms = (time.perf_counter() - started) * 1000 / max(len(texts), 1)
    return [
        Classification(
            category=category,
            confidence=confidence,
            intent=intent,
            intent_confidence=intent_confidence,
            signals=detect_signals(text, SignalContext(category=category, intent=intent)),
            method=Method.MODEL,
            model_version=model.version,
            needs_category=confidence < threshold,
            latency_ms=each_ms,
        )
        for text, (category, confidence, intent, intent_confidence) in zip(texts, predictions, strict=True)
    ]


def recent_inquiry_counts(tickets: Sequence[Ticket]) -> dict[int, int]:
    """For each ticket, its shopper's inquiries in the repeat-contact window up to it (itself
    included), in one query for the whole batch."""
    if not tickets:
        return {}
    window = timedelta(hours=settings.REPEAT_CONTACT_WINDOW_HOURS)
    earlier = Ticket.objects.filter(
        shopper_id__in={t.shopper_id for t in tickets},
        created_at__gte=min(t.created_at for t in tickets) - window,
        created_at__lte=max(t.created_at for t in tickets),
    ).values_list("shopper_id", "created_at")
    by_shopper: dict[int, list[datetime]] = {}
    for shopper_id, created_at in earlier:
        by_shopper.setdefault(shopper_id, []).append(created_at)
    return {
        t.id: sum(1 for at in by_shopper.get(t.shopper_id, ()) if t.created_at - window <= at <= t.created_at)
        for t in tickets
    }


def classify_tickets(tickets: Sequence[Ticket]) -> tuple[list[Classification], list[ClassificationDecision]]:
    """Classify tickets: sets category, intent, signals, priority and needs_category on the
    instances, and returns the results with the (unsaved) decision records. The caller, routing,
    saves both in its transaction (the decisions through record_decisions)."""
    categories = categories_by_slug()
    known = frozenset(categories)
    recent = recent_inquiry_counts(tickets)
    results, decisions = [], []
    for ticket in tickets:
        result = classify_text(
            text=f"{ticket.subject}\n{ticket.body}" if ticket.subject else ticket.body,
            order_category=ticket.order_product_category,
            order_amount=ticket.order_amount,
            recent_inquiries=recent[ticket.id],
            known_categories=known,
        )
        category = None if result.needs_category else categories.get(result.category)
        ticket.category = category
        ticket.intent = result.intent
        # Signals set when the ticket was opened (a proactive ticket's) are kept.
        ticket.signals = [*(s for s in ticket.signals or [] if s not in result.signals), *result.signals]
        ticket.priority = max(ticket.priority, result.priority)
        ticket.needs_category = result.needs_category or category is None
        decisions.append(
            ClassificationDecision(
                ticket=ticket,
                category=category,
                predicted_slug=result.category,
                method=Method.FALLBACK if result.needs_category else result.method,
                confidence=result.confidence,
                model_version=result.model_version,
                intent=result.intent,
                signals=result.signals,
                latency_ms=result.latency_ms,
            )
        )
        results.append(result)
    return results, decisions


# A batch of decisions in one statement of constant text: the rows travel as arrays.
_INSERT_DECISIONS = """
INSERT INTO classification_classificationdecision (
    ticket_id, category_id, predicted_slug, method, confidence, model_version, intent, signals, latency_ms,
    decided_by_id, created_at
)
SELECT ticket_id, category_id, predicted_slug, method, confidence, model_version, intent, signals::jsonb, latency_ms,
    decided_by_id, created_at
FROM unnest(
    %s::bigint[], %s::bigint[], %s::varchar[], %s::varchar[], %s::float8[], %s::varchar[], %s::varchar[], %s::text[],
    %s::float8[], %s::bigint[], %s::timestamptz[]
) AS d (
    ticket_id, category_id, predicted_slug, method, confidence, model_version, intent, signals, latency_ms,
    decided_by_id, created_at
)
"""


def record_decisions(decisions: Sequence[ClassificationDecision]) -> None:
    """Save a batch of classify_tickets' decisions in the caller's transaction: one statement on
    PostgreSQL, bulk_create elsewhere (the embedded mode). Their ids are not read back."""
    if not decisions:
        return
    if connection.vendor != "postgresql":
        ClassificationDecision.objects.bulk_create(decisions)
        return
    columns: list[list[Any]] = [
        [d.ticket_id for d in decisions],
        [d.category_id for d in decisions],
        [d.predicted_slug for d in decisions],
        [d.method for d in decisions],
        [d.confidence for d in decisions],
        [d.model_version for d in decisions],
        [d.intent for d in decisions],
        [json.dumps(d.signals) for d in decisions],
        [d.latency_ms for d in decisions],
        [d.decided_by_id for d in decisions],
        [d.created_at for d in decisions],
    ]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_DECISIONS, columns)


@transaction.atomic
def record_agent_category(*, ticket: Ticket, category: Category, by: User | None) -> CategoryLabel:
    """Store an agent's category for a ticket: a training label and a decision record.

    One label per ticket (the latest correction wins). The caller re-routes if the queue changes.
    """
    label, _ = CategoryLabel.objects.update_or_create(
        ticket=ticket,
        defaults={
            "text": f"{ticket.subject}\n{ticket.body}" if ticket.subject else ticket.body,
            "language": ticket.language,
            "category": category,
            "labelled_by": by,
            "created_at": timezone.now(),
        },
    )
    ClassificationDecision.objects.create(
        ticket=ticket,
        category=category,
        predicted_slug=category.slug,
        method=Method.AGENT,
        confidence=1.0,
        intent=ticket.intent,
        signals=ticket.signals,
        decided_by=by,
    )
    return label
