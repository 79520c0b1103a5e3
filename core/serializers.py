"""Serializers whose fields are built once per class instead of once per request.

DRF deep-copies every declared field for every serializer instance (re-running each field's
__init__): for the intake payload that was the largest single cost of an inquiry (the figure is
in docs/performance.md).
Fields keep no per-request state while validating (values flow through arguments and return
values, errors are raised), so a serializer with SharedFields validates through one set of
fields, built on first use and bound to a data-less template instance (so no request's data is
kept alive by it).

Only for serializers that validate input with plain fields and nested SharedFields serializers:
not for fields that read the serializer's context or instance (related fields with querysets,
HiddenField/CurrentUserDefault, `partial` updates), which do depend on the instance.
"""

from typing import Any

from rest_framework import serializers
from rest_framework.utils.serializer_helpers import BindingDict


class SharedFieldsSerializer(serializers.Serializer[Any]):
    @property
    def fields(self) -> BindingDict:
        cls = type(self)
        shared: BindingDict | None = cls.__dict__.get("_shared_fields")
        if shared is None:
            template = cls()
            shared = BindingDict(template)
            for name, field in template.get_fields().items():
                shared[name] = field
            cls._shared_fields = shared  # type: ignore[attr-defined]  # a benign race: same content
        return shared
