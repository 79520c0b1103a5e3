"""Classify JSON lines from stdin: one JSON line out per line in, errors included, in order."""

import json
import sys
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from classification.services import classify_text


class BadLine(ValueError):
    pass


def parse_line(line: str) -> dict[str, Any]:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadLine(f"not valid JSON: {exc.msg} at column {exc.colno}") from exc
    if not isinstance(data, dict):
        raise BadLine("expected a JSON object")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadLine('"text" is required and must be a non-empty string')
    if len(text) > settings.INQUIRY_BODY_MAX_LENGTH:
        raise BadLine(f'"text" is longer than {settings.INQUIRY_BODY_MAX_LENGTH} characters')
    language = data.get("language")
    if language is not None and language not in ("zh", "en"):
        raise BadLine('"language" must be "zh" or "en"')
    order = data.get("order") or {}
    if not isinstance(order, dict):
        raise BadLine('"order" must be an object')
    amount = order.get("amount")
    if amount is not None:
        try:
            amount = Decimal(str(amount))
        except InvalidOperation as exc:
            raise BadLine('"order.amount" must be a number') from exc
        if amount < 0:
            raise BadLine('"order.amount" must not be negative')
    category = order.get("product_category") or ""
    if not isinstance(category, str):
        raise BadLine('"order.product_category" must be a string')
    return {"text": text, "order_category": category, "order_amount": amount}


class Command(BaseCommand):
    help = (
        'Read JSON lines {"text": ..., "order": {...}, "language": "zh"} on stdin and write one JSON line '
        "per input line: category, confidence, intent, signals, method (or an error)."
    )

    def handle(self, *args: object, **options: object) -> None:
        try:
            classify_text(text="warm-up")
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc
        out = sys.stdout
        for line in sys.stdin:
            try:
                if not line.strip():
                    raise BadLine("empty line")
                result = classify_text(**parse_line(line)).as_dict()
            except BadLine as exc:
                result = {"error": str(exc)}
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
            out.flush()
