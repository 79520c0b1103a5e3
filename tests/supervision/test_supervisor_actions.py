"""Supervisor Sam acts from the dashboard: each action changes routing as expected and is audited.

Routing runs inline (eager Celery), so a dispatch triggered by an action shows at once.
"""

import pytest
from django.contrib.auth.models import User

from routing.services import set_agent_status
from supervision.models import SupervisorAction
from teams.models import AgentProfile, AgentStatus, SpecialistQueue
from tests.factories import queue
from tests.helpers import refreshed
from tickets.models import TicketStatus

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("eager_celery"),
]


def last_action() -> SupervisorAction:
    return SupervisorAction.objects.select_related("actor").latest("id")


def agent(profile: AgentProfile) -> AgentProfile:
    return AgentProfile.objects.get(pk=profile.pk)


def test_sam_reassigns_a_ticket_to_another_queue_where_its_specialist_takes_it(
    sam, ana, mei, inquiry, signed_in, after_commit
) -> None:
    ticket = inquiry()
    assert ticket.assigned_agent == ana.user

    with after_commit():
        response = signed_in(sam).post(
            "/console/dashboard/reassign/",
            {"ticket": ticket.id, "queue": queue("maternal_baby").id, "reason": "It is about a baby bottle"},
        )

    assert response.status_code == 302
    ticket = refreshed(ticket)
    assert (ticket.queue.slug, ticket.assigned_agent) == ("maternal_baby", mei.user)
    assert agent(ana).active_ticket_count == 0
    entry = last_action()
    assert (entry.actor, entry.action, entry.target_type, entry.target_id) == (
        sam.user,
        SupervisorAction.Kind.REASSIGN_TICKET,
        "ticket",
        str(ticket.id),
    )
    assert entry.before == {"status": "assigned", "queue": "jewelry", "agent": "ana"}
    # The audit records the move itself; the dispatch that gave it to Mei ran after the commit.
    assert entry.after == {"status": "queued", "queue": "maternal_baby", "agent": None}
    assert entry.reason == "It is about a baby bottle"
    assert ticket.messages.filter(is_internal=True, body__contains="baby bottle").exists()


def test_sam_hands_a_ticket_to_a_named_agent(sam, ana, bo, inquiry, signed_in, after_commit) -> None:
    ticket = inquiry()
    holder, other = (ana, bo) if ticket.assigned_agent == ana.user else (bo, ana)

    with after_commit():
        response = signed_in(sam).post(
            "/console/dashboard/reassign/", {"ticket": ticket.id, "agent": other.id, "reason": "VIP shopper"}
        )

    assert response.status_code == 302
    assert refreshed(ticket).assigned_agent == other.user
    assert agent(holder).active_ticket_count == 0 and agent(other).active_ticket_count == 1
    assert last_action().after["agent"] == other.user.username


def test_reassigning_to_an_offline_agent_is_refused_and_leaves_no_trace(
    sam, ana, bo, inquiry, signed_in, after_commit
) -> None:
    with after_commit():
        set_agent_status(agent=bo, status=AgentStatus.OFFLINE)
    ticket = inquiry()
    assert ticket.assigned_agent == ana.user

    with after_commit():
        response = signed_in(sam).post(
            "/console/dashboard/reassign/", {"ticket": ticket.id, "agent": bo.id, "reason": "try"}
        )

    assert response.status_code == 409
    assert "offline or has no free capacity" in response.content.decode()
    assert refreshed(ticket).assigned_agent == ana.user
    assert agent(ana).active_ticket_count == 1
    assert not SupervisorAction.objects.exists()
    assert not ticket.messages.filter(is_internal=True).exists()  # the transfer note rolled back too


def test_the_reassign_form_says_what_is_missing(sam, signed_in) -> None:
    client = signed_in(sam)

    neither = client.post("/console/dashboard/reassign/", {"ticket": 1, "reason": "x"})
    assert neither.status_code == 400
    assert "Choose either a queue or an agent." in neither.content.decode()
    no_reason = client.post("/console/dashboard/reassign/", {"ticket": 1, "queue": queue("books").id})
    assert no_reason.status_code == 400 and "Say why, for the audit log." in no_reason.content.decode()
    unknown = client.post("/console/dashboard/reassign/", {"ticket": 999999, "queue": queue("books").id, "reason": "x"})
    assert unknown.status_code == 409 and "There is no ticket #999999." in unknown.content.decode()
    huge = client.post("/console/dashboard/reassign/", {"ticket": 10**19, "queue": queue("books").id, "reason": "x"})
    assert huge.status_code == 400 and "Ensure this value is less than or equal to" in huge.content.decode()
    assert not SupervisorAction.objects.exists()


def test_a_closed_ticket_cannot_be_reassigned(sam, ana, inquiry, signed_in, after_commit) -> None:
    with after_commit():
        set_agent_status(agent=ana, status=AgentStatus.AWAY)
    ticket = inquiry()
    from routing.services import cancel_inquiry

    with after_commit():
        cancel_inquiry(ticket_id=ticket.id)

    with after_commit():
        response = signed_in(sam).post(
            "/console/dashboard/reassign/", {"ticket": ticket.id, "queue": queue("books").id, "reason": "x"}
        )
    assert response.status_code == 409
    assert refreshed(ticket).status == TicketStatus.CLOSED


def test_sam_sets_ana_offline_and_her_unanswered_ticket_goes_to_bo(
    sam, ana, bo, inquiry, signed_in, after_commit
) -> None:
    with after_commit():
        set_agent_status(agent=bo, status=AgentStatus.AWAY)
    ticket = inquiry()
    assert ticket.assigned_agent == ana.user
    with after_commit():
        set_agent_status(agent=bo, status=AgentStatus.ONLINE)

    with after_commit():
        response = signed_in(sam).post(
            f"/console/dashboard/agents/{ana.id}/status/", {"status": "offline", "reason": "shift over"}
        )

    assert response.status_code == 302
    assert agent(ana).status == AgentStatus.OFFLINE
    assert refreshed(ticket).assigned_agent == bo.user
    entry = last_action()
    assert entry.action == SupervisorAction.Kind.SET_AGENT_STATUS
    assert entry.before == {"status": "online", "open_tickets": 1}
    assert entry.after == {"status": "offline", "open_tickets": 0}
    assert entry.reason == "shift over"


def test_setting_ana_online_pulls_the_waiting_ticket(sam, ana, inquiry, signed_in, after_commit) -> None:
    with after_commit():
        set_agent_status(agent=ana, status=AgentStatus.AWAY)
    ticket = inquiry()
    assert refreshed(ticket).status == TicketStatus.QUEUED

    with after_commit():
        signed_in(sam).post(f"/console/dashboard/agents/{ana.id}/status/", {"status": "online"})

    assert refreshed(ticket).assigned_agent == ana.user
    assert SupervisorAction.objects.filter(action=SupervisorAction.Kind.SET_AGENT_STATUS).count() == 1


def test_setting_the_status_an_agent_already_has_records_nothing(sam, ana, signed_in, after_commit) -> None:
    with after_commit():
        signed_in(sam).post(f"/console/dashboard/agents/{ana.id}/status/", {"status": "online"})
    assert not SupervisorAction.objects.exists()
    with after_commit():
        bad = signed_in(sam).post(f"/console/dashboard/agents/{ana.id}/status/", {"status": "asleep"})
    assert bad.status_code == 400


def test_capacity_cannot_go_below_the_open_tickets(sam, ana, inquiry, signed_in, after_commit) -> None:
    inquiry()
    inquiry("项链扣坏了")
    assert agent(ana).active_ticket_count == 2

    with after_commit():
        response = signed_in(sam).post(
            f"/console/dashboard/agents/{ana.id}/", {"primary": ["jewelry"], "languages": ["zh"], "capacity": 1}
        )

    assert response.status_code == 400
    assert "holds 2 open tickets; capacity cannot go below that." in response.content.decode()
    assert agent(ana).capacity == 3 and agent(ana).languages == ["zh", "en"]
    assert not SupervisorAction.objects.exists()


def test_raising_capacity_pulls_waiting_work_at_once(sam, ana, inquiry, signed_in, after_commit) -> None:
    AgentProfile.objects.filter(pk=ana.pk).update(capacity=1)
    first = inquiry()
    second = inquiry("项链扣坏了")
    assert refreshed(second).status == TicketStatus.QUEUED

    with after_commit():
        response = signed_in(sam).post(
            f"/console/dashboard/agents/{ana.id}/",
            {"primary": ["jewelry"], "languages": ["zh", "en"], "capacity": 2, "reason": "busy morning"},
        )

    assert response.status_code == 302
    assert refreshed(first).assigned_agent == refreshed(second).assigned_agent == ana.user
    entry = last_action()
    assert entry.action == SupervisorAction.Kind.EDIT_AGENT
    assert (entry.before["capacity"], entry.after["capacity"]) == (1, 2)


def test_giving_mei_the_jewelry_skill_lets_her_take_jewelry_tickets(
    sam, ana, mei, inquiry, signed_in, after_commit
) -> None:
    with after_commit():
        set_agent_status(agent=ana, status=AgentStatus.AWAY)
    ticket = inquiry()
    assert refreshed(ticket).status == TicketStatus.QUEUED

    with after_commit():
        signed_in(sam).post(
            f"/console/dashboard/agents/{mei.id}/",
            {"primary": ["maternal_baby", "jewelry"], "secondary": [], "languages": ["zh", "en"], "capacity": 3},
        )

    assert refreshed(ticket).assigned_agent == mei.user
    entry = last_action()
    assert entry.before["primary"] == ["maternal_baby"]
    assert entry.after["primary"] == ["jewelry", "maternal_baby"]


def test_the_agent_form_rejects_nonsense(sam, ana, signed_in) -> None:
    client = signed_in(sam)
    url = f"/console/dashboard/agents/{ana.id}/"
    assert client.get(url).status_code == 200

    same_skill_twice = client.post(
        url, {"primary": ["jewelry"], "secondary": ["jewelry"], "languages": ["zh"], "capacity": 3}
    )
    no_language = client.post(url, {"primary": ["jewelry"], "capacity": 3})
    unknown_category = client.post(url, {"primary": ["spaceships"], "languages": ["zh"], "capacity": 3})
    zero_capacity = client.post(url, {"primary": ["jewelry"], "languages": ["zh"], "capacity": 0})

    for response in (same_skill_twice, no_language, unknown_category, zero_capacity):
        assert response.status_code == 400
    assert "either primary or secondary" in same_skill_twice.content.decode()
    assert "at least one language" in no_language.content.decode()
    assert not SupervisorAction.objects.exists()
    assert client.get("/console/dashboard/agents/999999/").status_code == 404


def test_sam_changes_a_queues_targets_and_the_tile_follows(sam, signed_in) -> None:
    jewelry = queue("jewelry")
    client = signed_in(sam)

    response = client.post(
        f"/console/dashboard/queues/{jewelry.id}/",
        {
            "service_level_seconds": 60,
            "service_level_target_percent": 90,
            "overflow_seconds": 240,
            "reason": "peak season",
        },
    )

    assert response.status_code == 302
    jewelry = SpecialistQueue.objects.get(pk=jewelry.pk)
    assert (jewelry.service_level_seconds, jewelry.service_level_target_percent, jewelry.overflow_seconds) == (
        60,
        90,
        240,
    )
    entry = last_action()
    assert entry.action == SupervisorAction.Kind.CHANGE_QUEUE_TARGETS
    assert entry.before == {"service_level_seconds": 120, "service_level_target_percent": 80, "overflow_seconds": 300}
    assert entry.after["service_level_target_percent"] == 90
    page = client.get("/console/dashboard/").content.decode()
    assert "target 90% in 60s" in page


def test_queue_targets_must_make_sense(sam, signed_in, after_commit) -> None:
    url = f"/console/dashboard/queues/{queue('jewelry').id}/"
    with after_commit():
        response = signed_in(sam).post(
            url, {"service_level_seconds": 0, "service_level_target_percent": 150, "overflow_seconds": "soon"}
        )

    assert response.status_code == 400
    body = response.content.decode()
    assert body.count('class="field-error"') == 3
    assert queue("jewelry").service_level_target_percent == 80
    assert not SupervisorAction.objects.exists()


def test_the_audit_log_is_in_the_admin_and_read_only(sam, ana, signed_in, after_commit) -> None:
    with after_commit():
        signed_in(sam).post(f"/console/dashboard/agents/{ana.id}/status/", {"status": "away", "reason": "lunch"})
    admin = User.objects.create_superuser("root", "root@example.com", "pw-for-tests")
    client = signed_in(AgentProfile(user=admin))
    entry = last_action()

    listing = client.get("/admin/supervision/supervisoraction/")
    assert listing.status_code == 200 and "lunch" in listing.content.decode()
    assert client.get(f"/admin/supervision/supervisoraction/{entry.id}/change/").status_code == 200  # view only
    assert client.get("/admin/supervision/supervisoraction/add/").status_code == 403
    client.post(f"/admin/supervision/supervisoraction/{entry.id}/change/", {"reason": "rewritten"})
    assert SupervisorAction.objects.get(pk=entry.id).reason == "lunch"
    assert client.post(f"/admin/supervision/supervisoraction/{entry.id}/delete/", {"post": "yes"}).status_code == 403
