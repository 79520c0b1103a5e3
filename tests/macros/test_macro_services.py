"""Canned replies: placeholders filled from the ticket, the status a macro sets, usage counts,
and who may manage them."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from macros.models import Macro, ThenStatus
from macros.selectors import composer_macros, macros_for_ticket
from macros.services import MacroRefused, create_macro, delete_macro, reply_with_macro, update_macro
from tests.factories import queue
from tests.helpers import refreshed
from tickets.models import AuthorKind, Message, TicketStatus

pytestmark = pytest.mark.django_db


def _macro(sam, **fields) -> Macro:
    values = {
        "name": "Ask for photos",
        "shortcut": "photos",
        "queue": None,
        "body_en": "Hi {{shopper_name}}, please send photos of order {{order_number}}. — {{agent_name}}, {{queue_name}}",
        "body_zh": "{{shopper_name}}您好，请发订单{{order_number}}的照片。{{agent_name}}（{{queue_name}}）",
        **fields,
    }
    return create_macro(actor=sam.user, **values)


def test_placeholders_are_filled_from_the_ticket_in_the_shoppers_language(sam, ana, inquiry) -> None:
    ticket = inquiry()  # Chinese, order JD1, assigned to Ana in jewelry
    ticket.shopper.name = "王芳"
    ticket.shopper.save()
    ana.display_name = "Ana"
    ana.save()
    _macro(sam)

    [offered] = composer_macros(refreshed(ticket), ana.user)

    jewelry = queue("jewelry")
    assert offered["text"] == f"王芳您好，请发订单JD1的照片。Ana（{jewelry.name_zh or jewelry.name}）"


def test_a_missing_value_is_left_visible_for_the_agent_to_fill(sam, ana, inquiry) -> None:
    ticket = inquiry("My ring is too big", language="en", category="")
    ticket.shopper.name = ""
    ticket.shopper.save()
    _macro(sam)

    [offered] = composer_macros(refreshed(ticket), ana.user)

    assert str(offered["text"]).startswith("Hi there, please send photos of order [order number].")


def test_text_with_markup_stays_plain_text(sam, ana, inquiry) -> None:
    ticket = inquiry()
    ticket.shopper.name = "<script>alert(1)</script>"
    ticket.shopper.save()
    _macro(sam, body_zh="{{shopper_name}}")

    [offered] = composer_macros(refreshed(ticket), ana.user)

    # Plain text: the page puts it into a textarea's value and escapes it wherever it is shown.
    assert offered["text"] == "<script>alert(1)</script>"


def test_an_unknown_placeholder_is_refused_and_nothing_is_saved(sam) -> None:
    with pytest.raises(ValidationError) as refused:
        _macro(sam, body_en="Hi {{shopper_nmae}}")

    assert "body_en" in refused.value.message_dict
    assert "{{shopper_nmae}}" in refused.value.message_dict["body_en"][0]
    assert not Macro.objects.exists()


def test_a_macro_needs_a_text_and_a_free_shortcut(sam) -> None:
    _macro(sam)
    with pytest.raises(ValidationError) as duplicate:
        _macro(sam, name="Another")
    assert "shortcut" in str(duplicate.value.message_dict) or "__all__" in duplicate.value.message_dict
    with pytest.raises(ValidationError):
        _macro(sam, shortcut="empty", body_en="", body_zh="")
    # The same shortcut in a queue of its own is another macro.
    _macro(sam, queue=queue("jewelry"))
    assert Macro.objects.count() == 2


def test_only_supervisors_manage_macros(sam, ana) -> None:
    macro = _macro(sam)
    with pytest.raises(PermissionDenied):
        create_macro(actor=ana.user, name="x", shortcut="x", queue=None, body_en="x", body_zh="")
    with pytest.raises(PermissionDenied):
        update_macro(actor=ana.user, macro_id=macro.pk, name="mine now")
    with pytest.raises(PermissionDenied):
        delete_macro(actor=ana.user, macro_id=macro.pk)
    assert Macro.objects.get().name == "Ask for photos"

    update_macro(actor=sam.user, macro_id=macro.pk, name="Photos please")
    assert Macro.objects.get().name == "Photos please"
    delete_macro(actor=sam.user, macro_id=macro.pk)
    assert not Macro.objects.exists()


def test_a_ticket_is_offered_global_macros_and_its_own_queues_only(sam, ana, inquiry) -> None:
    ticket = inquiry()
    everywhere = _macro(sam, shortcut="hello")
    jewelry = _macro(sam, shortcut="ring", queue=queue("jewelry"))
    _macro(sam, shortcut="bottle", queue=queue("maternal_baby"))

    assert set(macros_for_ticket(refreshed(ticket))) == {everywhere, jewelry}


def test_sending_with_a_macro_counts_its_use_and_waits_on_the_shopper(sam, ana, inquiry, after_commit) -> None:
    ticket = inquiry()
    macro = _macro(sam, then_status=ThenStatus.WAITING_ON_SHOPPER)

    with after_commit():
        message, after = reply_with_macro(ticket_id=ticket.id, by=ana.user, body="edited text", macro_id=macro.pk)

    assert (message.body, message.author_kind) == ("edited text", AuthorKind.AGENT)
    assert after.status == TicketStatus.WAITING_ON_SHOPPER
    macro.refresh_from_db()
    assert macro.usage_count == 1 and macro.last_used_at is not None


def test_reply_and_resolve_resolves_the_ticket_and_frees_the_slot(sam, ana, inquiry, after_commit) -> None:
    ticket = inquiry()
    macro = _macro(sam, shortcut="done", then_status=ThenStatus.RESOLVED)

    with after_commit():
        _message, after = reply_with_macro(ticket_id=ticket.id, by=ana.user, body="All sorted!", macro_id=macro.pk)

    assert after.status == TicketStatus.RESOLVED and after.resolved_at is not None
    ana.refresh_from_db()
    assert ana.active_ticket_count == 0
    assert Macro.objects.get(pk=macro.pk).usage_count == 1


def test_another_queues_macro_is_refused_and_nothing_is_sent_or_counted(sam, ana, inquiry, after_commit) -> None:
    ticket = inquiry()
    elsewhere = _macro(sam, shortcut="bottle", queue=queue("maternal_baby"))

    with pytest.raises(MacroRefused), after_commit():
        reply_with_macro(ticket_id=ticket.id, by=ana.user, body="hi", macro_id=elsewhere.pk)

    assert not Message.objects.filter(ticket=ticket, author_kind=AuthorKind.AGENT).exists()
    assert refreshed(ticket).status == TicketStatus.ASSIGNED
    assert Macro.objects.get(pk=elsewhere.pk).usage_count == 0


def test_a_refused_reply_counts_nothing(sam, ana, inquiry, after_commit) -> None:
    from routing.services import RoutingError, resolve_ticket

    ticket = inquiry()
    macro = _macro(sam)
    with after_commit():
        resolve_ticket(ticket_id=ticket.id, by=ana.user)

    with pytest.raises(RoutingError), after_commit():
        reply_with_macro(ticket_id=ticket.id, by=ana.user, body="hi", macro_id=macro.pk)

    assert Macro.objects.get(pk=macro.pk).usage_count == 0
