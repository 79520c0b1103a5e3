"""DRF's JSON parser, with JSON nested too deep to read answered as a 400.

Python's json module recurses once per level of nesting, so a body nested about a thousand
levels deep raises RecursionError — a 500 from any JSON endpoint, without a login where the
endpoint is the shopper's. Nothing this API accepts nests more than a few levels, so anything
past MAX_DEPTH is refused as well, before a serializer or a log line has to walk it.
"""

import io
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def nesting_depth_exceeds(data: Any, limit: int) -> bool:
    """Whether containers nest deeper than `limit` (iterative: deep input cannot overflow it)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class SafeJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(f"JSON parse error - nested more than {MAX_DEPTH} levels deep.") from exc
        # Walk only a body with enough brackets to nest that deep (counting is C-fast; the
        # walk costs more than parsing a typical inquiry).
        if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and nesting_depth_exceeds(data, MAX_DEPTH):
            raise ParseError(f"JSON parse error - nested more than {MAX_DEPTH} levels deep.")
        return data
