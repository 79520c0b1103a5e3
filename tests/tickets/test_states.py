"""The ticket state machine refuses moves that make no sense."""

import pytest

from tickets.models import TicketStatus as S
from tickets.states import TRANSITIONS, InvalidTransition, check_transition


@pytest.mark.parametrize(
    ("current", "target"),
    [(S.NEW, S.QUEUED), (S.QUEUED, S.ASSIGNED), (S.ASSIGNED, S.WAITING_ON_SHOPPER), (S.RESOLVED, S.QUEUED)],
)
def test_the_normal_path_is_allowed(current: str, target: str) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [(S.CLOSED, S.QUEUED), (S.NEW, S.RESOLVED), (S.QUEUED, S.RESOLVED), (S.CLOSED, S.ASSIGNED)],
)
def test_impossible_moves_are_refused(current: str, target: str) -> None:
    with pytest.raises(InvalidTransition):
        check_transition(current, target)


def test_every_status_has_a_row_in_the_table() -> None:
    assert set(TRANSITIONS) == set(S.values)
