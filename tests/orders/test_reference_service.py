"""The reference order service stays on loopback."""

import pytest
from django.core.management import CommandError, call_command

from orders.reference import ReferenceOrderService


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com"])
def test_the_reference_service_refuses_to_listen_beyond_loopback(host: str) -> None:
    with pytest.raises(CommandError, match="loopback only"):
        call_command("serve_orders", host=host)
    with pytest.raises(ValueError, match="loopback only"):
        ReferenceOrderService(host=host)


def test_its_seeded_orders_match_the_demo_inquiries() -> None:
    from ops.management.commands.seed_demo import SAMPLE_INQUIRIES

    service = ReferenceOrderService()
    for external_id, _name, _language, _body, order in SAMPLE_INQUIRIES:
        assert service.list_orders(external_id, 10), f"{external_id} has no orders"
        if order is not None:
            found = service.order(order.number)
            assert found is not None and found["shopper"] == external_id
