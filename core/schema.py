"""The OpenAPI schema states the error answers every operation can give, not only its success.

drf-spectacular documents what a view's @extend_schema names; the 4xx answers that come from the
framework itself (bad input, authentication, permission, a missing object, throttling) and the
503 of core.api would otherwise be missing, and clients (and schemathesis) would meet answers the
schema never mentioned. Which codes apply is read from the view: its method, path parameters,
permission and throttle classes. Error bodies are DRF's: {"detail": "..."} or field errors.
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import AllowAny

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": '{"detail": "..."} or, for bad input, a list of messages per field.',
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
DESCRIPTIONS = {
    "400": "Bad input: the reasons, by field.",
    "401": "No valid credentials (Authorization: Token …, or a session).",
    "403": "Signed in, but not allowed to do this.",
    "404": "Nothing with this id (or a tracking token that does not match: the same answer).",
    "409": "Not possible in the present state (e.g. the ticket is held by an agent or closed).",
    "429": "Too many requests; wait for the time in Retry-After.",
    "503": "The service is busy or its database unavailable; nothing was saved. Retry after Retry-After.",
}


class ApiAutoSchema(AutoSchema):
    def _error_codes(self) -> list[str]:
        view = self.view
        codes = ["503"]
        writes = self.method in ("POST", "PUT", "PATCH")
        has_query = any(getattr(p, "location", None) == "query" for p in self.get_override_parameters()) or bool(
            getattr(view, "filter_backends", None)
        )
        if writes or has_query:
            codes.append("400")
        if not all(issubclass(p, AllowAny) for p in getattr(view, "permission_classes", [])):
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        if writes:
            codes.append("409")
        if getattr(view, "throttle_classes", None):
            codes.append("429")
        return codes

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code in self._error_codes():
            existing = responses.get(code)
            if existing is None or not existing.get("content"):
                responses[code] = {
                    "description": (existing or {}).get("description") or DESCRIPTIONS[code],
                    "content": {"application/json": {"schema": ERROR_SCHEMA}},
                }
        return dict(sorted(responses.items()))
