"""People read rule names, not codes: every code a decision records has a name in English and
Chinese (one table, aftersales.rules), and the ticket page's after-sales panel shows the name
("Return overdue", "退货逾期") where it used to print `return_overdue`."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import translation

from aftersales import policies, rules, services
from aftersales.models import AfterSalesPolicy, DenialReason
from aftersales.services import ClaimedItem, open_request
from tests.helpers import set_ui_language
from tests.photos import jpeg_with_location
from tickets.attachments import NamedBytes, prepare_images

POLICY_RULES = sorted(
    value for name, value in vars(policies).items() if name.isupper() and isinstance(value, str) and name != "Stage"
)


def test_every_rule_the_policy_can_decide_by_has_a_name_in_both_languages() -> None:
    assert "within_policy" in POLICY_RULES and "amount_above_limit" in POLICY_RULES
    codes = sorted({*POLICY_RULES, *rules.LABELS})
    with translation.override("en"):
        english = {code: rules.rule_label(code) for code in codes}
    with translation.override("zh-hans"):
        chinese = {code: rules.rule_label(code) for code in codes}
    assert [code for code, name in english.items() if name == code] == []
    assert [code for code, name in chinese.items() if name.isascii()] == []
    assert (english["return_overdue"], chinese["return_overdue"]) == ("Return overdue", "退货逾期")
    assert rules.late_delivery("coupon") in rules.LABELS and rules.late_delivery("shipping_refund") in rules.LABELS


@pytest.mark.parametrize(
    ("code", "english", "chinese"),
    [
        (rules.denied(DenialReason.NO_EVIDENCE), "Denied: The photos do not show the problem", "已拒绝："),
        (rules.reported_by("storefront"), "Reported by the storefront", "由商城报告"),
        (rules.attempt(2), "Attempt 2", "第 2 次尝试"),
        ("something_new", "something_new", "something_new"),  # an unknown code is shown as it is
    ],
)
def test_codes_with_a_part_of_their_own_read_as_sentences(code: str, english: str, chinese: str) -> None:
    with translation.override("en"):
        assert rules.rule_label(code) == english
    with translation.override("zh-hans"):
        assert rules.rule_label(code).startswith(chinese)


@pytest.mark.parametrize(("ui_language", "name"), [("en", "Return overdue"), ("zh-hans", "退货逾期")])
def test_the_ticket_panel_names_the_rule_in_the_agents_language(
    orders, jeans_ticket, tom, signed_in, ui_language, name
) -> None:
    AfterSalesPolicy.objects.filter(category=None, stage="after_receipt").update(max_auto_amount=Decimal("300.00"))
    services.forget_policies()
    request = open_request(
        ticket_id=jeans_ticket.id,
        kind="return_refund",
        items=[ClaimedItem(item_id="1", quantity=1)],
        amount="259.00",
        photos=prepare_images([NamedBytes("jeans.jpg", jpeg_with_location())]),
    ).request
    assert request.return_due_at is not None
    with time_machine.travel(request.return_due_at + timedelta(minutes=1), tick=False):
        assert services.sweep_overdue_returns() == 1
    set_ui_language(ui_language, tom)

    html = signed_in(tom).get(f"/console/tickets/{jeans_ticket.id}/").content.decode()
    panel = html[html.index('id="ticket-aftersales"') :]
    panel = panel[: panel.index("</section>")]
    assert f'data-rule="return_overdue">{name}</dd>' in panel
    assert ">return_overdue<" not in panel and ">within_policy<" not in panel
