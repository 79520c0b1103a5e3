"""A shopper cancels a callback only after saying so twice: the cancel button sits behind a
disclosure (no script: the shopper page's CSP allows none inline)."""

import re

import pytest
from django.test import Client

from callbacks.links import make_link_token
from tests.callbacks.conftest import at_shanghai

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def test_the_cancel_button_is_behind_a_closed_confirm_step(booked) -> None:
    callback = booked(at_shanghai(23, 14))

    html = Client().get(f"/callbacks/{make_link_token(callback.pk)}/").content.decode()

    step = re.search(r'<details class="[^"]*" id="cancel-callback">(.*?)</details>', html, re.S)
    assert step is not None  # closed: no "open" attribute
    assert "<summary>取消回电</summary>" in step.group(1)
    assert "确定要取消吗？" in step.group(1) and "确定取消回电" in step.group(1)
    assert f"/callbacks/{make_link_token(callback.pk)}/cancel/" in step.group(1)
