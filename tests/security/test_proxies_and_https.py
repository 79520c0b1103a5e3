"""Client addresses, HTTPS defaults, the CSP header and token-free logs."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client, RequestFactory
from rest_framework.test import APIClient
from uvicorn.logging import AccessFormatter

from core.log_redaction import RedactTokensFilter, redact
from core.proxies import client_ip
from core.secret_key import new_secret_key
from tests.factories import TicketFactory
from tickets.api import ShopperRateThrottle

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [(0, "1.2.3.4", "10.0.0.1"), (1, "6.6.6.6, 1.2.3.4", "1.2.3.4"), (2, "6.6.6.6, 1.2.3.4, 10.0.0.9", "1.2.3.4")],
)
def test_the_client_address_trusts_only_our_own_proxies(settings, proxies, forwarded, expected) -> None:
    settings.NUM_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


@pytest.mark.django_db
def test_a_new_forwarded_for_on_every_request_does_not_dodge_the_shopper_throttle(monkeypatch) -> None:
    monkeypatch.setattr(ShopperRateThrottle, "THROTTLE_RATES", {"shopper": "3/minute"})
    monkeypatch.setattr(ShopperRateThrottle, "cache", LocMemCache("proxies-test", {}))
    ticket = TicketFactory.create()
    answers = [
        APIClient(REMOTE_ADDR="203.0.113.9")
        .get(f"/api/v1/inquiries/{ticket.id}/", HTTP_X_FORWARDED_FOR=f"10.1.1.{n}", HTTP_X_TRACKING_TOKEN="nope")
        .status_code
        for n in range(5)
    ]
    assert answers[-1] == 429


def _check_deploy(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "SESSION_", "CSRF_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING", "--tag", "security"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "ALLOWED_HOSTS": "cx.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://cx.example.com",
    "SECURE_HSTS_PRELOAD": "1",
    "REDIS_URL": "redis://127.0.0.1:6379/1",
}


def test_the_documented_production_environment_passes_check_deploy() -> None:
    result = _check_deploy(**PRODUCTION, SECRET_KEY=new_secret_key())
    assert result.returncode == 0, result.stdout + result.stderr


def test_turning_https_off_in_production_fails_check_deploy() -> None:
    result = _check_deploy(**PRODUCTION, SECRET_KEY=new_secret_key(), SECURE_SSL_REDIRECT="0")
    assert result.returncode != 0 and "W008" in result.stdout + result.stderr


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_that_allows_no_inline_script() -> None:
    policy = Client().get("/accounts/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy


def test_tokens_are_redacted_from_log_lines() -> None:
    line = '127.0.0.1 - "GET /api/v1/inquiries/7/?from=2026-11-23&token=SeCrEt-ToKeN_123 HTTP/1.1" 200'
    assert "SeCrEt" not in redact(line) and "from=2026-11-23&token=[redacted]" in redact(line)
    link = "GET /callbacks/eyJjIjo0Mn0:1vNbc2:abcdefghijklmnopqrstuvwxyz/ HTTP/1.1"
    assert redact(link) == "GET /callbacks/[redacted]/ HTTP/1.1"

    # uvicorn's access formatter unpacks the five arguments itself: they keep their shape.
    record = logging.makeLogRecord(
        {
            "name": "uvicorn.access",
            "msg": '%s - "%s %s HTTP/%s" %d',
            "args": ("1.2.3.4", "GET", "/x?token=abc", "1.1", 200),
        }
    )
    RedactTokensFilter().filter(record)
    assert record.args == ("1.2.3.4", "GET", "/x?token=[redacted]", "1.1", 200)
    assert AccessFormatter().format(record).endswith('"GET /x?token=[redacted] HTTP/1.1" 200')
    # gunicorn's passes a dict of atoms.
    atoms = logging.LogRecord(
        "gunicorn.access", logging.INFO, __file__, 1, "%(r)s", ({"r": "GET /a?token=zz HTTP/1.1"},), None
    )
    RedactTokensFilter().filter(atoms)
    assert atoms.getMessage() == "GET /a?token=[redacted] HTTP/1.1"
