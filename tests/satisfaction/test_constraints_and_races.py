"""The database holds the rules too: one rating per resolution, scores 1–5, even when two
submissions race (a double tap on a slow phone)."""

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from satisfaction.models import Rating
from satisfaction.services import rate_ticket


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_database_keeps_one_rating_per_resolution(resolved) -> None:
    ticket = resolved()
    Rating.objects.create(ticket=ticket, resolved_at=ticket.resolved_at, score=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(ticket=ticket, resolved_at=ticket.resolved_at, score=5)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("score", [0, 6])
def test_the_database_refuses_a_score_outside_one_to_five(resolved, score) -> None:
    ticket = resolved()
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(ticket=ticket, resolved_at=ticket.resolved_at, score=score)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_racing_identical_ratings_store_one(postgres, resolved) -> None:
    ticket = resolved()
    start = threading.Barrier(2)
    results: list[bool] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            start.wait(timeout=5)
            results.append(rate_ticket(ticket_id=ticket.id, score=5, comment="快").created)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert not errors
    assert sorted(results) == [False, True]
    assert Rating.objects.filter(ticket=ticket).count() == 1
