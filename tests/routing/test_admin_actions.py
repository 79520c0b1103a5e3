"""The admin goes through the same rules as the console and the API."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from classification.models import CategoryLabel
from teams.models import AgentProfile
from tests.factories import category
from tests.helpers import refreshed

pytestmark = pytest.mark.django_db


def test_setting_the_category_in_the_admin_stores_a_label_and_reroutes(ana, mei, inquiry, admin_user) -> None:
    ticket = refreshed(inquiry("这个宝宝能用吗"))
    client = Client()
    client.force_login(admin_user)
    url = f"/admin/tickets/ticket/{ticket.id}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list)}
    data.update({"category": category("maternal_baby").id, "shopper": ticket.shopper_id, "signals": "[]"})
    data.update({"messages-TOTAL_FORMS": 0, "messages-INITIAL_FORMS": 0})
    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    ticket = refreshed(ticket)
    assert ticket.category.slug == "maternal_baby" and ticket.queue.slug == "maternal_baby"
    assert CategoryLabel.objects.get(ticket=ticket).labelled_by == admin_user


def test_capacity_cannot_be_set_below_the_open_tickets(ana, inquiry) -> None:
    inquiry()
    inquiry()
    agent = AgentProfile.objects.get(pk=ana.pk)
    agent.capacity = 1
    with pytest.raises(ValidationError, match="capacity"):
        agent.full_clean()
