"""A shopper rates the resolution of their inquiry: once per resolution, again after a reopen;
a low score leaves an internal note and a flag for the supervisors; every new rating is an event."""

from collections.abc import Iterator, Sequence
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.errors import ConflictError
from core.events import Event, subscribe, unsubscribe
from routing.services import add_shopper_message, reply_to_shopper, resolve_ticket
from satisfaction.models import Rating
from satisfaction.services import AlreadyRated, NotRateable, follow_up_low_rating, rate_ticket
from tests.factories import queue
from tickets.models import AuthorKind, CloseReason, Message, Ticket, TicketStatus

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def events() -> Iterator[list[Event]]:
    """The rating events the test's writes emitted, recorded inside their transactions (resolving
    and reopening tell events of their own, which these tests are not about)."""
    seen: list[Event] = []

    def record(batch: Sequence[Event]) -> None:
        assert transaction.get_connection().in_atomic_block, "events are told inside the writer's transaction"
        seen.extend(event for event in batch if event.type.startswith("rating."))

    subscribe("test-recorder", record)
    yield seen
    unsubscribe("test-recorder")


def test_a_rating_records_the_resolution_its_agent_and_queue(resolved, ana, events) -> None:
    ticket = resolved()

    result = rate_ticket(ticket_id=ticket.id, score=5, comment="  换得很快，谢谢！ ")

    rating = Rating.objects.get()
    assert result.created and result.rating == rating
    assert (rating.score, rating.comment) == (5, "换得很快，谢谢！")
    assert rating.resolved_at == ticket.resolved_at
    assert rating.agent == ana.user and rating.queue == queue("jewelry")
    assert not rating.needs_follow_up
    assert [(e.type, e.ticket_id, dict(e.data)) for e in events] == [
        (
            "rating.created",
            ticket.id,
            {"rating_id": rating.id, "ticket_id": ticket.id, "score": 5, "comment": "换得很快，谢谢！"},
        )
    ]


def test_the_same_rating_again_returns_the_first_and_a_different_one_is_refused(resolved, events) -> None:
    ticket = resolved()
    first = rate_ticket(ticket_id=ticket.id, score=4, comment="ok")

    again = rate_ticket(ticket_id=ticket.id, score=4, comment="ok")
    assert not again.created and again.rating.pk == first.rating.pk

    with pytest.raises(AlreadyRated):
        rate_ticket(ticket_id=ticket.id, score=1, comment="changed my mind")
    assert Rating.objects.count() == 1
    assert len(events) == 1  # the replay emits nothing


def test_a_reopened_and_re_resolved_ticket_may_be_rated_again(resolved, ana, events) -> None:
    ticket = resolved()
    rate_ticket(ticket_id=ticket.id, score=2, comment="还是不合适")

    add_shopper_message(ticket_id=ticket.id, body="换来的还是大了")  # reopens to Ana
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ASSIGNED
    with pytest.raises(NotRateable):
        rate_ticket(ticket_id=ticket.id, score=5)  # nothing resolved to rate right now

    reply_to_shopper(ticket_id=ticket.id, by=ana.user, body="已为您再换小一号")
    resolve_ticket(ticket_id=ticket.id, by=ana.user)
    second = rate_ticket(ticket_id=ticket.id, score=5, comment="这次好了")

    assert second.created
    assert list(Rating.objects.filter(ticket=ticket).order_by("resolved_at").values_list("score", flat=True)) == [2, 5]
    assert len({r.resolved_at for r in Rating.objects.all()}) == 2
    assert [e.data["score"] for e in events] == [2, 5]


@pytest.mark.parametrize("score", [1, 2])
def test_a_low_score_leaves_an_internal_note_and_flags_the_rating(resolved, score) -> None:
    ticket = resolved()

    rating = rate_ticket(ticket_id=ticket.id, score=score, comment="戒指有划痕").rating

    assert rating.needs_follow_up and rating.followed_up_at is None
    note = Message.objects.filter(ticket=ticket, is_internal=True).get()
    assert note.author_kind == AuthorKind.SYSTEM
    assert f"{score}/5" in note.body and "戒指有划痕" in note.body


def test_a_score_of_three_or_more_leaves_no_note_and_no_flag(resolved) -> None:
    ticket = resolved()
    rating = rate_ticket(ticket_id=ticket.id, score=3).rating
    assert not rating.needs_follow_up
    assert not Message.objects.filter(ticket=ticket, is_internal=True).exists()


def test_a_supervisor_follows_up_a_low_rating_once(resolved, sam, ana) -> None:
    low = rate_ticket(ticket_id=resolved().id, score=1).rating
    done = follow_up_low_rating(rating_id=low.id, by=sam.user)
    assert done.followed_up_by == sam.user and done.followed_up_at is not None

    again = follow_up_low_rating(rating_id=low.id, by=ana.user)
    assert again.followed_up_by == sam.user and again.followed_up_at == done.followed_up_at

    fine = rate_ticket(ticket_id=resolved().id, score=5).rating
    with pytest.raises(ConflictError):
        follow_up_low_rating(rating_id=fine.id, by=sam.user)


@pytest.mark.parametrize("score", [0, 6, -1, "5", 4.5, True, None])
def test_a_score_outside_one_to_five_is_refused_with_a_field_error(resolved, score) -> None:
    ticket = resolved()
    with pytest.raises(ValidationError) as refused:
        rate_ticket(ticket_id=ticket.id, score=score)
    assert "score" in refused.value.message_dict
    assert not Rating.objects.exists()


def test_a_comment_over_the_limit_is_refused_with_a_field_error(resolved) -> None:
    ticket = resolved()
    with pytest.raises(ValidationError) as refused:
        rate_ticket(ticket_id=ticket.id, score=4, comment="好" * 1001)
    assert "comment" in refused.value.message_dict
    assert not Rating.objects.exists()


def test_an_open_ticket_cannot_be_rated(inquiry, ana) -> None:
    ticket = inquiry()
    with pytest.raises(NotRateable):
        rate_ticket(ticket_id=ticket.id, score=5)
    assert not Rating.objects.exists()


@pytest.mark.parametrize("reason", [CloseReason.ABANDONED, CloseReason.CANCELLED])
def test_an_abandoned_or_cancelled_inquiry_cannot_be_rated(db, reason) -> None:
    from tests.factories import TicketFactory

    now = timezone.now()
    ticket = TicketFactory.create(status=TicketStatus.CLOSED, close_reason=reason, closed_at=now)
    with pytest.raises(NotRateable):
        rate_ticket(ticket_id=ticket.id, score=5)


def test_a_closed_ticket_that_was_resolved_can_be_rated(db, ana) -> None:
    from tests.factories import TicketFactory

    now = timezone.now()
    ticket = TicketFactory.create(
        status=TicketStatus.CLOSED,
        close_reason=CloseReason.RESOLVED,
        resolved_at=now - timedelta(hours=1),
        closed_at=now,
        assigned_agent=ana.user,
    )
    assert rate_ticket(ticket_id=ticket.id, score=4).rating.agent == ana.user


def test_a_resolution_older_than_the_rating_window_cannot_be_rated(resolved, settings) -> None:
    settings.CSAT_RATING_WINDOW_DAYS = 14
    ticket = resolved()
    with time_machine.travel(ticket.resolved_at + timedelta(days=14, seconds=1)), pytest.raises(NotRateable):
        rate_ticket(ticket_id=ticket.id, score=5)
    with time_machine.travel(ticket.resolved_at + timedelta(days=13)):
        assert rate_ticket(ticket_id=ticket.id, score=5).created


def test_an_unknown_ticket_is_reported_as_missing(db) -> None:
    with pytest.raises(Ticket.DoesNotExist):
        rate_ticket(ticket_id=987654, score=5)
