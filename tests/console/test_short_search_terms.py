"""Ana searches for a two-character Chinese word (退款) or a single character (花): on PostgreSQL
the grams indexes find them, and the rows are exactly those of the plain icontains search."""

import pytest
from django.db import connection

from console import lists
from tests.factories import ShopperFactory, TicketFactory, queue
from tickets.models import Shopper, Ticket, TicketStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def inquiries(ana, mei):
    """Ana's tickets with short words in them, and one of Mei's she may not read."""

    zhang = ShopperFactory.create(name="张先生", phone="+8613000000001", email="zhang@example.com")

    def held_by_ana(body: str, **fields):
        fields.setdefault("shopper", zhang)  # a name, phone and email none of the terms below is in
        return TicketFactory.create(body=body, status=TicketStatus.ASSIGNED, assigned_agent=ana.user, **fields)

    return {
        "refund_when": held_by_ana("退款什么时候到账"),
        "refund_done": held_by_ana("退款已经收到了，谢谢"),
        "return": held_by_ana("我想退货"),
        "flowers": held_by_ana("花束送到时已经枯萎了"),
        "english": held_by_ana("Where is my REFUND? Flowers wilted."),
        "named": held_by_ana(
            "订单问题", shopper=ShopperFactory.create(name="王花花", phone="+8613911112222", email="hua@example.com")
        ),
        "meis": TicketFactory.create(
            body="退款花了一周", status=TicketStatus.ASSIGNED, assigned_agent=mei.user, queue=queue("maternal_baby")
        ),
    }


def found(user, query: str) -> set[int]:
    return set(lists.search_rows(user, query).values_list("id", flat=True))


def test_two_chinese_characters_and_single_characters_find_her_tickets(ana, inquiries) -> None:
    ids = {name: ticket.id for name, ticket in inquiries.items()}

    assert found(ana.user, "退款") == {ids["refund_when"], ids["refund_done"]}
    assert found(ana.user, "退") == {ids["refund_when"], ids["refund_done"], ids["return"]}
    assert found(ana.user, "花") == {ids["flowers"]}  # one character: the text only, not names
    assert found(ana.user, "花花") == {ids["named"]}  # the shopper's name
    assert found(ana.user, "re") == {ids["english"]}  # case-insensitive, as longer terms are
    assert found(ana.user, "谢谢") == {ids["refund_done"]}
    assert found(ana.user, "鱼") == set()
    page = lists.search_page(ana.user, "退款")
    assert [t.id for t in page.rows] == [ids["refund_done"], ids["refund_when"]]  # newest first


@pytest.mark.parametrize("query", ["退款", "退", "花", "花花", "re", "RE", "?", "%", "_", "13", "@e", "鱼", "谢谢"])
def test_short_terms_find_exactly_what_the_plain_condition_finds(ana, sam, inquiries, monkeypatch, query) -> None:
    with_grams = {who: found(who.user, query) for who in (ana, sam)}
    monkeypatch.setattr(lists, "GRAMS_UP_TO", 0)  # every term through the plain icontains

    assert with_grams == {who: found(who.user, query) for who in (ana, sam)}


def test_the_grams_indexes_serve_short_terms(postgres, ana, inquiries) -> None:
    """The grams indexes are PostgreSQL's: without it this fails under CI, as every service test does."""
    with connection.cursor() as cursor:
        # A handful of rows is read fastest by a scan, or through another index with a filter:
        # leave the planner only the indexes that can serve the condition itself.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    body_plan = Ticket.objects.filter(lists._text_contains("body", "退款")).explain()
    single_plan = Ticket.objects.filter(lists._text_contains("body", "花")).explain()
    name_plan = Shopper.objects.filter(lists._text_contains("name", "花花")).explain()

    assert "Bitmap Index Scan on ticket_body_grams" in body_plan
    assert "Bitmap Index Scan on ticket_body_grams" in single_plan
    assert "Bitmap Index Scan on shopper_name_grams" in name_plan
