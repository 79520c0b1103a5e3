"""Sam reads the dashboard's pages on a tablet as well as a desktop: every agent-board cell says
what it is when the table folds into cards, and every skill checkbox sits with its own label."""

import re

import pytest

from teams.models import AgentProfile

pytestmark = pytest.mark.django_db


def test_every_agent_board_cell_is_labelled_for_narrow_screens(sam, ana, bo, signed_in) -> None:
    AgentProfile.objects.filter(pk=ana.pk).update(status="away", status_set_by_presence=True)
    AgentProfile.objects.filter(pk=bo.pk).update(status="offline", active_ticket_count=1)
    page = signed_in(sam).get("/console/dashboard/").content.decode()
    board = page[page.index('id="agent-board"') : page.index('id="satisfaction"')]

    cells = re.findall(r"<td\b[^>]*>", board)
    assert len(cells) == 5 * 2  # Ana and Bo need attention (Sam does not): five columns each
    unlabelled = [cell for cell in cells if 'data-label="' not in cell]
    assert unlabelled == []
    assert 'data-label="Open / capacity"' in board


def test_the_agent_form_puts_each_checkbox_with_its_own_label(sam, ana, signed_in) -> None:
    page = signed_in(sam).get(f"/console/dashboard/agents/{ana.id}/").content.decode()

    assert '<label for="">' not in page  # a group has a legend, not a label pointing nowhere
    for legend in ("Primary skills", "Secondary skills (after the overflow time)", "Languages"):
        assert f"<legend>{legend}</legend>" in page
    # Ana's primary skill: the checked box inside the label that names it.
    jewelry = re.search(r'<label for="agent_primary_\d+"><input[^>]*value="jewelry"[^>]*>\s*([^<]+)</label>', page)
    assert jewelry is not None and "Jewelry" in jewelry.group(1)
    assert "checked" in jewelry.group(0)
