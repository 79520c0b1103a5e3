"""Keyset ("cursor") pagination for long lists, and capped counts to go with them.

An OFFSET page costs as much as every row before it; a keyset page starts where the previous one
ended, through the index that serves the list's ordering, so the thousandth page costs what the
first does. A cursor names the boundary row by the values of the ordering's fields; the ordering
must end on a unique field (id) so that no two rows share a cursor.
"""

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Field, Model, Q, QuerySet

M = TypeVar("M", bound=Model)


class InvalidCursor(ValueError):
    """A cursor this list did not make (edited by hand, or from another list): the view answers 400."""


@dataclass(frozen=True)
class KeysetPage(Generic[M]):
    rows: list[M]
    next_cursor: str | None
    previous_cursor: str | None


def _field_of(model: type[Model], name: str) -> "Field[Any, Any]":
    field = model._meta.get_field(name)
    assert isinstance(field, Field)  # noqa: S101  # orderings name concrete columns
    return field


def _encode(values: Sequence[Any]) -> str:
    plain = [value.isoformat() if hasattr(value, "isoformat") else value for value in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(model: type[Model], order: Sequence[str], cursor: str) -> list[Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("This page link is not valid.") from exc
    if not isinstance(raw, list) or len(raw) != len(order):
        raise InvalidCursor("This page link is not valid.")
    values = []
    for name, value in zip(order, raw, strict=True):
        field = _field_of(model, name.lstrip("-"))
        if value is None or isinstance(value, list | dict):
            raise InvalidCursor("This page link is not valid.")
        try:
            values.append(field.to_python(value))
        except ValidationError as exc:
            raise InvalidCursor("This page link is not valid.") from exc
    return values


def _beyond(order: Sequence[str], values: Sequence[Any], *, forward: bool) -> Q:
    """Rows strictly after (forward) or before the boundary row in this ordering.

    (a, b, id) > (x, y, z) spelled as a OR of prefixes, plus a plain bound on the first field
    (a >= x) that the index can start from; without it a deep page would read every row above it."""
    names = [name.lstrip("-") for name in order]
    descending = [name.startswith("-") for name in order]
    after = Q()
    for depth, name in enumerate(names):
        upward = descending[depth] != forward
        step = Q(**{f"{name}__{'gt' if upward else 'lt'}": values[depth]})
        for earlier in range(depth):
            step &= Q(**{names[earlier]: values[earlier]})
        after |= step
    first_upward = descending[0] != forward
    bound = Q(**{f"{names[0]}__{'gte' if first_upward else 'lte'}": values[0]})
    return bound & after


def cursor_for(row: Model, order: Sequence[str]) -> str:
    """The cursor naming this row in `order`: the page after it starts with the next row."""
    return _encode([getattr(row, name.lstrip("-")) for name in order])


def keyset_page(
    rows: QuerySet[M], *, order: Sequence[str], size: int, after: str = "", before: str = ""
) -> KeysetPage[M]:
    """One page of `rows` in `order` (field names, "-" for descending, ending on a unique one):
    the first page, the page after cursor `after`, or the page before cursor `before`."""
    model = rows.model
    if before:
        values = _decode(model, order, before)
        reverse = [name[1:] if name.startswith("-") else f"-{name}" for name in order]
        found = list(rows.filter(_beyond(order, values, forward=False)).order_by(*reverse)[: size + 1])
        has_more_before = len(found) > size
        page = list(reversed(found[:size]))
        has_more_after = True
    else:
        if after:
            rows = rows.filter(_beyond(order, _decode(model, order, after), forward=True))
        found = list(rows.order_by(*order)[: size + 1])
        page = found[:size]
        has_more_after = len(found) > size
        has_more_before = bool(after)
    if not page:
        return KeysetPage(rows=[], next_cursor=None, previous_cursor=None)
    return KeysetPage(
        rows=page,
        next_cursor=cursor_for(page[-1], order) if has_more_after else None,
        previous_cursor=cursor_for(page[0], order) if has_more_before else None,
    )


def capped_count(rows: QuerySet[Any], *, cap: int) -> int:
    """How many rows, counting no further than cap + 1 (shown as "99+"): a view's badge must not
    cost a scan of a million rows."""
    return rows.order_by()[: cap + 1].count()
