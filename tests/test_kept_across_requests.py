"""What every console request reads about its user (permissions, queues, interface language) is
kept across requests (core.generations) and never outlives a change: the next request after a
change sees it, and a value read before a commit elsewhere is not kept past that commit."""

from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from console.services import set_ui_language
from core.generations import Generational
from routing.selectors import agent_queue_ids
from teams.models import SpecialistQueue
from teams.services import SUPERVISORS_GROUP, set_agent_skills

pytestmark = pytest.mark.django_db

LIVE = "/console/inbox/live/"


def _sql(queries: CaptureQueriesContext) -> str:
    return "\n".join(q["sql"] for q in queries.captured_queries)


def test_a_second_request_reads_no_permission_queue_or_preference_row(signed_in, ana) -> None:
    client = signed_in(ana)
    assert client.get(LIVE).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(LIVE).status_code == 200
    sql = _sql(queries)
    assert "auth_permission" not in sql
    assert '"ui_language" AS "ui_language"' not in sql  # the middleware's own read
    assert "teams_agentskill" not in sql


def test_a_supervisor_taken_out_of_the_group_is_refused_at_the_next_request(signed_in, sam) -> None:
    client = signed_in(sam)
    assert client.get("/console/dashboard/").status_code == 200
    sam.user.groups.remove(Group.objects.get(name=SUPERVISORS_GROUP))
    assert client.get("/console/dashboard/").status_code == 403
    sam.user.groups.add(Group.objects.get(name=SUPERVISORS_GROUP))
    assert client.get("/console/dashboard/").status_code == 200


def test_a_deactivated_user_keeps_no_permission(signed_in, sam) -> None:
    client = signed_in(sam)
    assert client.get("/console/dashboard/").status_code == 200
    sam.user.is_active = False
    sam.user.save(update_fields=["is_active"])
    assert client.get("/console/dashboard/").status_code != 200


def test_new_skills_show_their_queue_at_once(ana) -> None:
    flowers = SpecialistQueue.objects.get(slug="flowers")
    assert flowers.pk not in agent_queue_ids(ana.user)
    set_agent_skills(agent=ana, primary=["jewelry", "flowers"])
    assert flowers.pk in agent_queue_ids(ana.user)
    set_agent_skills(agent=ana, primary=["jewelry"])
    assert flowers.pk not in agent_queue_ids(ana.user)


def test_a_language_saved_through_the_service_applies_to_the_next_request(signed_in, ana) -> None:
    client = signed_in(ana)
    assert 'lang="en"' in client.get("/console/").text
    set_ui_language(user=ana.user, language="zh-hans")
    assert 'lang="zh-hans"' in client.get("/console/").text


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_value_read_before_a_commit_is_not_kept_past_it() -> None:
    """A reader elsewhere reads the old rows while the change is in flight and stores them after
    the change's first bump: the bump after the commit makes that value stale."""
    kept: Generational[str] = Generational("test:race")
    kept.forget()
    assert kept.get(1, lambda: "old") == "old"
    with transaction.atomic():
        kept.changed()
        # The other reader: it saw the rows as they were before this transaction commits.
        assert kept.get(1, lambda: "old") == "old"
    assert kept.get(1, lambda: "new") == "new"


def test_a_failing_cache_costs_only_the_computation() -> None:
    kept: Generational[str] = Generational("test:failing")
    calls: list[int] = []

    def compute() -> str:
        calls.append(1)
        return "value"

    with mock.patch("core.generations.cache.get_many", side_effect=ConnectionError("down")):
        assert kept.get(1, compute) == "value"
        assert kept.get(1, compute) == "value"
    assert len(calls) == 2
