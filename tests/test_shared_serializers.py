"""Serializers that share one set of fields per class still give every payload its own result:
nothing of one inquiry leaks into the next, in sequence or from many threads at once
(core.serializers)."""

import copy
import threading
from decimal import Decimal
from typing import Any

import pytest

from tests.helpers import VALID_INQUIRY
from tickets import api
from tickets.api import InquiryCreateSerializer, OrderSerializer, ShopperSerializer

pytestmark = pytest.mark.django_db

SHOPPER_DEFAULTS = {"name": "", "phone": "", "email": "", "language": "", "time_zone": ""}
ORDER_DEFAULTS = {
    "product_title": "",
    "product_category": "",
    "amount": None,
    "currency": "",
    "paid": None,
    "shipped": None,
}


def validate(data: dict[str, Any]) -> InquiryCreateSerializer:
    serializer = InquiryCreateSerializer(data=data)
    serializer.is_valid()
    return serializer


def as_plain(value: Any) -> Any:
    """validated_data as plain dicts (nested serializers give OrderedDicts)."""
    if isinstance(value, dict):
        return {k: as_plain(v) for k, v in value.items()}
    return value


def test_a_valid_an_invalid_and_a_valid_inquiry_each_get_their_own_result() -> None:
    first = validate(VALID_INQUIRY)
    bad = validate(
        {
            "shopper": {"external_id": "u-2", "phone": "call me", "time_zone": "Mars/Olympus"},
            "channel": "fax",
            "body": "你好",
            "order": {"number": "JD2", "currency": "yuan", "amount": "-1"},
        }
    )
    minimal = validate({"shopper": {"external_id": "u-3"}, "channel": "chat", "body": "还没发货"})

    assert first.errors == {}
    assert as_plain(first.validated_data) == {
        "shopper": {**VALID_INQUIRY["shopper"], "phone": "+8613800138000"},
        "channel": "order_page",
        "subject": "戒指尺寸",
        "body": "戒指尺寸偏大，能换小一号吗？",
        "language": "",
        "order": {**VALID_INQUIRY["order"], "amount": Decimal("3299.00")},
    }

    assert bad.validated_data == {}
    assert set(bad.errors) == {"shopper", "channel", "order"}
    assert set(bad.errors["shopper"]) == {"phone", "time_zone"}
    assert set(bad.errors["order"]) == {"currency", "amount"}

    assert minimal.errors == {}
    assert as_plain(minimal.validated_data) == {
        "shopper": {"external_id": "u-3", **SHOPPER_DEFAULTS},
        "channel": "chat",
        "subject": "",
        "body": "还没发货",
        "language": "",
        "order": None,  # not the first inquiry's order
    }
    # The earlier results are untouched by the later validations.
    assert first.validated_data["shopper"]["external_id"] == "u-1001"
    assert first.validated_data["order"]["number"] == "JD2026112500001"
    assert set(bad.errors["shopper"]) == {"phone", "time_zone"}


def test_an_invalid_nested_payload_leaves_no_error_for_the_next_one() -> None:
    bad = validate({**VALID_INQUIRY, "shopper": {"external_id": "u-9", "email": "not-an-email"}})
    good = validate({**VALID_INQUIRY, "shopper": {"external_id": "u-10", "email": "li@example.com"}})

    assert list(bad.errors) == ["shopper"] and list(bad.errors["shopper"]) == ["email"]
    assert good.errors == {}
    assert good.validated_data["shopper"]["email"] == "li@example.com"
    assert good.validated_data["shopper"]["external_id"] == "u-10"


def test_missing_required_fields_are_reported_every_time_not_only_the_first() -> None:
    for _ in range(3):
        serializer = validate({"shopper": {}, "order": {}})
        assert set(serializer.errors) == {"shopper", "channel", "body", "order"}
        assert list(serializer.errors["shopper"]) == ["external_id"]
        assert list(serializer.errors["order"]) == ["number"]


def test_the_nested_serializers_work_the_same_on_their_own() -> None:
    shopper = ShopperSerializer(data={"external_id": "u-5", "phone": "138 0013 8000"})
    order = OrderSerializer(data={"number": "JD5", "product_category": "no-such-category"})

    assert shopper.is_valid(), shopper.errors
    assert as_plain(shopper.validated_data) == {**SHOPPER_DEFAULTS, "external_id": "u-5", "phone": "13800138000"}
    assert not order.is_valid()
    assert list(order.errors) == ["product_category"]


def test_the_shared_fields_keep_no_inquiry_after_validating() -> None:
    validate(VALID_INQUIRY)

    template = InquiryCreateSerializer().fields["shopper"].root
    assert isinstance(template, InquiryCreateSerializer)
    assert not hasattr(template, "initial_data")
    assert not hasattr(template, "_validated_data")
    assert not hasattr(template.fields["shopper"], "initial_data")
    assert not hasattr(template.fields["order"], "_errors")


def expected_for(thread: int, n: int) -> tuple[dict[str, Any], dict[str, Any] | None, set[str] | None]:
    """A payload unique to (thread, n); its expected validated_data, or the fields it gets wrong."""
    data = copy.deepcopy(VALID_INQUIRY)
    data["shopper"] = {
        "external_id": f"u-{thread}-{n}",
        "name": f"顾客{thread}-{n}",
        "phone": f"+86 138{thread:04d}{n:04d}",
    }
    data["order"] = {"number": f"JD{thread}-{n}", "amount": f"{thread}.{n % 100:02d}", "paid": n % 2 == 0}
    data["body"] = f"问题 {thread}-{n}"
    if n % 3 == 2:
        data.pop("order")
    if n % 5 == 4:  # every fifth payload is wrong, each time somewhere else
        wrong = [("shopper", "phone", "12"), ("order", "currency", "cny"), (None, "channel", "pigeon")][n % 3]
        section, field, value = wrong
        (data[section] if section else data)[field] = value
        return data, None, {section or field}
    validated = {
        "shopper": {
            **SHOPPER_DEFAULTS,
            "external_id": f"u-{thread}-{n}",
            "name": f"顾客{thread}-{n}",
            "phone": f"+86138{thread:04d}{n:04d}",
        },
        "channel": VALID_INQUIRY["channel"],
        "subject": VALID_INQUIRY["subject"],
        "body": f"问题 {thread}-{n}",
        "language": "",
        "order": None
        if n % 3 == 2
        else {
            **ORDER_DEFAULTS,
            "number": f"JD{thread}-{n}",
            "amount": Decimal(f"{thread}.{n % 100:02d}"),
            "paid": n % 2 == 0,
        },
    }
    return data, validated, None


def test_many_threads_validating_at_once_each_get_their_own_result(monkeypatch: pytest.MonkeyPatch) -> None:
    # Validation reads the category slugs once per process; read them here, not in 8 threads.
    slugs = api.category_slugs()
    monkeypatch.setattr(api, "category_slugs", lambda: slugs)
    # Start from unbuilt fields, so the threads also race to build them.
    for cls in (InquiryCreateSerializer, ShopperSerializer, OrderSerializer):
        monkeypatch.delattr(cls, "_shared_fields", raising=False)

    threads_count, per_thread = 8, 200
    barrier = threading.Barrier(threads_count)
    mismatches: list[str] = []
    checked: list[int] = []

    def work(thread: int) -> None:
        barrier.wait()
        for n in range(per_thread):
            data, validated, wrong = expected_for(thread, n)
            serializer = InquiryCreateSerializer(data=data)
            if wrong is None:
                if not serializer.is_valid() or as_plain(serializer.validated_data) != validated:
                    mismatches.append(f"{thread}-{n}: {serializer.errors or serializer.validated_data}")
            elif serializer.is_valid() or set(serializer.errors) != wrong:
                mismatches.append(f"{thread}-{n}: expected errors in {wrong}, got {serializer.errors}")
        checked.append(thread)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(checked) == list(range(threads_count))
    assert mismatches == []
