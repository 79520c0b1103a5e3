"""The dashboard's live fragment: "unchanged" (304) costs no query while the cached figures it
showed are current; a change is always shown once they are recomputed; one render of the shared
parts serves every supervisor reading in the same language.

The figures are cached for QUEUE_HEALTH_CACHE_SECONDS; the tests stand for their expiry by
deleting the cached payload and its version together, as the cache's timeout does.
"""

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from console import live
from supervision import selectors
from teams.models import AgentProfile
from teams.services import SUPERVISORS_GROUP
from tests.conftest import _agent
from tests.helpers import ticket_on_timeline

pytestmark = pytest.mark.django_db

LIVE = "/console/dashboard/live/"


def read(client: Client, etag: str | None = None) -> Any:
    headers = {"if-none-match": etag} if etag else {}
    return client.get(LIVE, headers=headers)


def expire_cached_figures() -> None:
    selectors.forget_health()


@pytest.fixture
def sue(db: None) -> AgentProfile:
    """Supervisor Sue, reading the dashboard beside Sam."""
    return _agent("sue", [], group=SUPERVISORS_GROUP, languages=["zh", "en"])


def test_an_unchanged_dashboard_is_a_304_without_a_single_query(sam, signed_in, django_assert_num_queries) -> None:
    client = signed_in(sam)
    first = read(client)
    assert first.status_code == 200

    with django_assert_num_queries(0):
        again = read(client, first["ETag"])

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]


def waiting_in(html: str, queue: str) -> int:
    match = re.search(rf'data-queue="{queue}".*?data-metric="waiting">(\d+)<', html, re.DOTALL)
    assert match, html
    return int(match.group(1))


def test_a_new_ticket_is_shown_once_the_cached_figures_are_recomputed(sam, signed_in) -> None:
    client = signed_in(sam)
    first = read(client)
    assert waiting_in(first.text, "jewelry") == 0

    ticket_on_timeline("jewelry", queued=timezone.now())
    # Within the cache period the page may keep what it shows (one payload per period for all)...
    assert read(client, first["ETag"]).status_code == 304
    expire_cached_figures()

    # ...and never after: the next read is full and carries the new ticket.
    after = read(client, first["ETag"])
    assert after.status_code == 200
    assert after["ETag"] != first["ETag"]
    assert waiting_in(after.text, "jewelry") == 1


def test_figures_recomputed_by_another_process_are_never_answered_304(sam, signed_in) -> None:
    client = signed_in(sam)
    first = read(client)

    selectors.current_health(use_cache=False)  # the full page, or another web process, recomputed

    assert read(client, first["ETag"]).status_code == 200


def test_the_tag_names_the_figures_it_rendered_not_newer_ones(sam, signed_in, monkeypatch) -> None:
    """A payload replaced between the render's read and its tag must not lend the render its version."""
    client = signed_in(sam)
    shown = selectors.current_health()
    real = selectors.current_health

    def recomputed_meanwhile(**kwargs: Any) -> dict[str, Any]:
        payload = real(**kwargs)
        real(use_cache=False)  # lands after this render read its figures
        return payload

    monkeypatch.setattr(selectors, "current_health", recomputed_meanwhile)
    first = read(client)
    monkeypatch.undo()

    assert shown["generated_at"] != selectors.current_health()["generated_at"]
    assert read(client, first["ETag"]).status_code == 200


def test_one_render_of_the_shared_parts_serves_every_supervisor_with_their_own_csrf_token(
    sam, sue, signed_in, django_assert_max_num_queries
) -> None:
    sams = signed_in(sam).get(LIVE)
    assert sams.status_code == 200

    sue_client = Client(enforce_csrf_checks=True)
    sue_client.force_login(sue.user)
    # Sue's read reuses Sam's render: her session, her permission and her own header only.
    with django_assert_max_num_queries(8):
        sues = sue_client.get(LIVE)
    assert sues.status_code == 200
    assert live.CSRF_PLACEHOLDER not in sues.text

    def tiles(html: str) -> str:
        return html[html.index('id="queue-tiles"') : html.index('id="agent-board"')]

    assert tiles(sues.text) == tiles(sams.text)
    # The token in Sue's forms is hers: her supervisor action is accepted.
    token = sues.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = sue_client.post(
        f"/console/dashboard/agents/{sam.id}/status/", {"status": "away", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_each_language_has_its_own_render(sam, sue, signed_in) -> None:
    sue.ui_language = "en"
    sue.save(update_fields=["ui_language"])
    sam.ui_language = "zh-hans"
    sam.save(update_fields=["ui_language"])

    chinese = signed_in(sam).get(LIVE).text
    english = signed_in(sue).get(LIVE).text

    assert "Agents" in english and "Agents" not in chinese


def test_a_supervisor_served_the_kept_render_never_reads_the_payload_until_it_expires(
    sam, sue, signed_in, monkeypatch
) -> None:
    """The payload holds a row per agent (about 200 KB at 1,000 agents): reading it cost more than
    the rest of a re-read. While the render of the current payload is kept, re-reads skip it."""
    first = read(signed_in(sam))
    assert first.status_code == 200
    real = selectors.current_health
    reads: list[int] = []

    def counted(**kwargs: Any) -> dict[str, Any]:
        reads.append(1)
        return real(**kwargs)

    monkeypatch.setattr(selectors, "current_health", counted)
    again = read(signed_in(sue))
    assert again.status_code == 200 and reads == []
    assert waiting_in(again.content.decode(), "jewelry") == waiting_in(first.content.decode(), "jewelry")

    expire_cached_figures()
    assert read(signed_in(sue)).status_code == 200
    assert reads == [1]
