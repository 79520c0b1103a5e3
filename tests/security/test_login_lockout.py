"""Guessing passwords on the console or admin login locks that username from that address only."""

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "cx-right-password-2026"


@pytest.fixture
def ana(settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = UserFactory(username="ana", is_staff=True)
    user.set_password(PASSWORD)
    user.save()
    return user


def _login(path: str, password: str, *, ip: str = "203.0.113.7", language: str = "en"):
    return Client(REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE=language).post(path, {"username": "ana", "password": password})


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_after_the_failure_limit_even_the_right_password_gets_the_lockout_page(ana, path: str) -> None:
    for _ in range(2):
        assert _login(path, "wrong").status_code == 200  # the form again, with its error
    locked = _login(path, "wrong")
    right = _login(path, PASSWORD)
    assert locked.status_code == right.status_code == 429
    assert "Too many failed sign-ins" in right.content.decode()
    assert "_auth_user_id" not in right.client.session


def test_the_lockout_page_speaks_chinese_to_a_chinese_browser(ana) -> None:
    for _ in range(3):
        _login("/accounts/login/", "wrong", language="zh-hans")
    page = _login("/accounts/login/", PASSWORD, language="zh-hans")
    assert page.status_code == 429
    assert "登录失败次数过多" in page.content.decode()


def test_the_lock_holds_one_username_at_one_address(ana) -> None:
    for _ in range(3):
        _login("/accounts/login/", "wrong", ip="203.0.113.7")
    elsewhere = _login("/accounts/login/", PASSWORD, ip="198.51.100.20")
    assert elsewhere.status_code == 302  # Ana signs in from her own office


def test_a_forged_forwarded_for_header_does_not_dodge_the_lock(ana) -> None:
    for attempt in range(3):
        Client(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"10.0.0.{attempt}").post(
            "/accounts/login/", {"username": "ana", "password": "wrong"}
        )
    again = Client(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="10.9.9.9").post(
        "/accounts/login/", {"username": "ana", "password": PASSWORD}
    )
    assert again.status_code == 429
