"""Shopper links (SMS, email, .ics) point at the port the product runs on, unless set explicitly."""

import io

import pytest
from django.core.management import call_command

from ops.management.commands.runembedded import embedded_base_url
from tests.helpers import run_python as _python
from tickets.links import shopper_page_url

PROBE = "from django.conf import settings; print(settings.PUBLIC_BASE_URL)"


def test_without_public_base_url_links_follow_port() -> None:
    probe = _python(PROBE, PORT="8200", PUBLIC_BASE_URL="")
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "http://127.0.0.1:8200"


def test_an_explicit_public_base_url_wins_over_port() -> None:
    probe = _python(PROBE, PORT="8200", PUBLIC_BASE_URL="https://help.example.com")
    assert probe.stdout.strip() == "https://help.example.com"


def test_the_embedded_server_links_to_the_address_it_listens_on() -> None:
    assert embedded_base_url("127.0.0.1", 8200) == "http://127.0.0.1:8200"
    assert embedded_base_url("0.0.0.0", 8300) == "http://127.0.0.1:8300"  # a wildcard bind


@pytest.mark.django_db
def test_seed_demo_prints_links_on_the_running_port(settings, eager_celery) -> None:
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8200"
    out = io.StringIO()

    call_command("seed_demo", stdout=out)

    printed = out.getvalue()
    assert "http://127.0.0.1:8200/console/" in printed and "http://127.0.0.1:8200/api/docs/" in printed
    assert ":8000" not in printed
    assert "http://127.0.0.1:8200/shop/access/" in printed
    assert shopper_page_url(1).startswith("http://127.0.0.1:8200/shop/access/")
