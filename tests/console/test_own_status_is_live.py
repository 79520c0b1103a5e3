"""An agent's own status shows at once on every page of theirs (another tab, the dashboard's panel).

Whoever changes it (the agent in one tab, a supervisor, the presence sweep), the change gives the
agent's live group a new version and sends their pages a hint: a tab re-reading with the ETag of
its last read gets the new status in full, never a 304 that keeps the old one on screen.
"""

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from console.push import AGENT_HINT_TYPE, agent_group
from routing.services import set_agent_status
from teams.events import agent_status_changed
from teams.models import AgentStatus
from tests.helpers import drain, listening
from tests.helpers import run_async as run

INBOX = "/console/inbox/live/"


def etag_of(client: Client) -> str:
    response = client.get(INBOX)
    assert response.status_code == 200
    return str(response["ETag"])


def test_going_away_in_one_tab_makes_the_other_tabs_next_read_full(
    signed_in, ana, django_capture_on_commit_callbacks: Any
) -> None:
    other_tab = signed_in(ana)
    etag = etag_of(other_tab)
    assert other_tab.get(INBOX, headers={"if-none-match": etag}).status_code == 304

    with django_capture_on_commit_callbacks(execute=True):
        signed_in(ana).post("/console/status/", {"status": AgentStatus.AWAY})

    response = other_tab.get(INBOX, headers={"if-none-match": etag})
    assert response.status_code == 200
    assert 'status-away" aria-pressed="true"' in response.text


def test_a_supervisor_setting_me_away_reaches_my_open_page(
    signed_in, ana, sam, django_capture_on_commit_callbacks: Any
) -> None:
    anas_page = signed_in(ana)
    etag = etag_of(anas_page)

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(sam).post(
            f"/console/dashboard/agents/{ana.pk}/status/", {"status": AgentStatus.AWAY, "reason": "break"}
        )
    assert response.status_code == 302

    assert anas_page.get(INBOX, headers={"if-none-match": etag}).status_code == 200


def test_setting_the_status_i_already_have_changes_nothing(
    signed_in, ana, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        set_agent_status(agent=ana, status=AgentStatus.ONLINE)
    page = signed_in(ana)
    etag = etag_of(page)
    sent: list[dict[str, Any]] = []

    def record(sender: object, **kwargs: Any) -> None:
        sent.append(kwargs)

    agent_status_changed.connect(record)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            set_agent_status(agent=ana, status=AgentStatus.ONLINE)
    finally:
        agent_status_changed.disconnect(record)

    assert sent == []
    assert page.get(INBOX, headers={"if-none-match": etag}).status_code == 304


def test_a_status_change_is_announced_only_after_commit(ana, django_capture_on_commit_callbacks: Any) -> None:
    sent: list[dict[str, Any]] = []

    def record(sender: object, **kwargs: Any) -> None:
        sent.append(kwargs)

    agent_status_changed.connect(record)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            set_agent_status(agent=ana, status=AgentStatus.AWAY)
        assert sent == []
        for callback in callbacks:
            callback()
    finally:
        agent_status_changed.disconnect(record)

    assert [(s["agent_user_id"], s["status"]) for s in sent] == [(ana.user_id, AgentStatus.AWAY)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # hints leave from another thread
def test_the_agents_pages_hear_of_the_change(memory_layer, ana) -> None:
    async def scenario() -> list[dict[str, Any]]:
        channel = await listening(memory_layer, agent_group(ana.user_id))
        await database_sync_to_async(set_agent_status)(agent=ana, status=AgentStatus.AWAY)
        return await drain(memory_layer, channel)

    hints = run(scenario)
    assert [(h["type"], h["status"]) for h in hints] == [(AGENT_HINT_TYPE, AgentStatus.AWAY)]
