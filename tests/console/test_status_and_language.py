"""The header's controls: the agent's status and load, and the console's language."""

import zoneinfo

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission

from teams.models import AgentProfile, AgentStatus
from tests.factories import UserFactory
from tests.helpers import refreshed
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db


def profile(agent: AgentProfile) -> AgentProfile:
    return AgentProfile.objects.get(pk=agent.pk)


def test_every_console_page_shows_my_status_and_load_in_the_header(signed_in, ana, inquiry) -> None:
    ticket = inquiry()
    for path in ("/console/", f"/console/tickets/{ticket.id}/"):
        page = signed_in(ana).get(path).text
        assert "1 / 3 open" in page
        assert 'value="online" class="status-btn status-online" aria-pressed="true"' in page
        assert 'value="away" class="status-btn status-away" aria-pressed="false"' in page


def test_ana_steps_away_from_the_header_and_new_tickets_wait_for_her(signed_in, ana, inquiry) -> None:
    response = signed_in(ana).post("/console/status/", {"status": "away", "next": "/console/"}, follow=True)

    assert response.redirect_chain[-1][0] == "/console/"
    assert "You are now Away." in response.text
    assert profile(ana).status == AgentStatus.AWAY
    assert refreshed(inquiry()).status == TicketStatus.QUEUED


def test_coming_back_online_pulls_the_waiting_work(signed_in, ana, inquiry, after_commit) -> None:
    client = signed_in(ana)
    client.post("/console/status/", {"status": "away"})
    waiting = inquiry()

    with after_commit():
        client.post("/console/status/", {"status": "online"})

    assert refreshed(waiting).assigned_agent == ana.user
    assert "1 / 3 open" in client.get("/console/").text


def test_an_unknown_status_changes_nothing_and_says_so(signed_in, ana) -> None:
    response = signed_in(ana).post("/console/status/", {"status": "asleep"}, follow=True)
    assert "Choose online, away or offline." in response.text
    assert profile(ana).status == AgentStatus.ONLINE


def test_the_status_form_only_returns_to_pages_of_this_site(signed_in, ana) -> None:
    response = signed_in(ana).post("/console/status/", {"status": "away", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/console/"


def test_a_supervisor_without_an_agent_profile_is_told_there_is_no_status_to_set(client) -> None:
    boss = UserFactory.create(username="boss")
    boss.user_permissions.add(
        Permission.objects.get(codename="work_tickets"), Permission.objects.get(codename="supervise_queues")
    )
    client.force_login(boss)

    page = client.get("/console/").text
    assert "Supervisor" in page and "status-control" not in page
    response = client.post("/console/status/", {"status": "away"}, follow=True)
    assert "You have no agent profile" in response.text


def test_ana_switches_the_console_to_chinese_and_it_stays_chinese(signed_in, ana) -> None:
    client = signed_in(ana)

    response = client.post("/console/language/", {"language": "zh-hans", "next": "/console/"}, follow=True)

    assert profile(ana).ui_language == "zh-hans"
    assert '<html lang="zh-hans">' in response.text
    assert "我的工单" in response.text and "语言已保存。" in response.text
    # The preference is the agent's, not the browser's: a new session in an English browser too.
    fresh = signed_in(ana)
    assert "我的工单" in fresh.get("/console/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").text


def test_without_a_preference_the_browser_language_decides(signed_in, ana) -> None:
    client = signed_in(ana)
    assert "我的工单" in client.get("/console/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").text
    assert "My tickets" in client.get("/console/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8").text


def test_a_saved_preference_beats_the_browser_until_it_is_cleared(signed_in, ana) -> None:
    client = signed_in(ana)
    client.post("/console/language/", {"language": "en"})
    assert "My tickets" in client.get("/console/", HTTP_ACCEPT_LANGUAGE="zh-CN").text

    response = client.post("/console/language/", {"language": ""})

    assert profile(ana).ui_language == ""
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""  # cookie deleted too
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
    assert "我的工单" in client.get("/console/", HTTP_ACCEPT_LANGUAGE="zh-CN").text


def test_the_login_page_can_be_switched_to_chinese_before_signing_in(client) -> None:
    response = client.post("/console/language/", {"language": "zh-hans", "next": "/accounts/login/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert "登录" in response.text and "用户名" in response.text


def test_an_unknown_language_is_refused(signed_in, ana) -> None:
    response = signed_in(ana).post("/console/language/", {"language": "klingon"}, follow=True)
    assert "Choose one of the offered languages." in response.text
    assert profile(ana).ui_language == ""


def test_times_are_shown_in_the_agents_time_zone(signed_in, ana, inquiry) -> None:
    AgentProfile.objects.filter(pk=ana.pk).update(time_zone="Asia/Shanghai")
    ticket = inquiry()
    local = ticket.created_at.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai"))

    page = signed_in(ana).get(f"/console/tickets/{ticket.id}/").text

    assert f'datetime="{local.isoformat()}"' in page
