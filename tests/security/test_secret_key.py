"""Signed shopper links rest on SECRET_KEY: with DEBUG off nothing serves without a real one."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.secret_key import check_secret_key, dev_secret_key, new_secret_key
from tests.helpers import run_python as _python

ROOT = Path(__file__).resolve().parents[2]


def test_the_settings_carry_no_key_of_their_own() -> None:
    source = (ROOT / "cxconsole" / "settings.py").read_text()
    assert "dev-insecure" not in source
    probe = _python("import cxconsole.settings as s; print(repr(s.SECRET_KEY))")
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "''"


def test_the_web_server_refuses_to_start_without_a_key_when_debug_is_off() -> None:
    started = _python("import cxconsole.wsgi")
    assert started.returncode != 0
    assert "SECRET_KEY is not set" in started.stderr


def test_the_asgi_server_refuses_to_start_without_a_key_when_debug_is_off() -> None:
    started = _python("import cxconsole.asgi")
    assert started.returncode != 0
    assert "SECRET_KEY is not set" in started.stderr


def test_a_weak_key_stops_the_process_at_start() -> None:
    started = _python("import django; django.setup()", SECRET_KEY="change-me")
    assert started.returncode != 0
    assert "SECRET_KEY is too weak" in started.stderr


def test_a_real_key_serves() -> None:
    started = _python("import cxconsole.wsgi; print('ok')", SECRET_KEY=new_secret_key())
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "ok"


def test_the_embedded_mode_serves_without_debug_on_a_generated_key_it_keeps() -> None:
    """`make run` (no REDIS_URL) runs with DEBUG off: it keeps a key of its own in var/."""
    probe = "import cxconsole.wsgi; from django.conf import settings; print(settings.SECRET_KEY)"
    first, second = _python(probe, REDIS_URL=""), _python(probe, REDIS_URL="")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == second.stdout.strip() == (ROOT / "var" / "dev-secret-key").read_text().strip()


def test_debug_mode_generates_a_key_once_and_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "var" / "dev-secret-key"
    first = dev_secret_key(path)
    assert dev_secret_key(path) == first
    assert len(first) >= 50
    assert path.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("key", ["", "short", "x" * 60, "django-insecure-" + "abcdefghij" * 5])
def test_weak_or_missing_keys_are_refused_without_debug(key: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        check_secret_key(key, debug=False)
    check_secret_key(key, debug=True)
