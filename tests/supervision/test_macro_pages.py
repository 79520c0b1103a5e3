"""Supervisors manage canned replies in the console: list with usage counts, create, edit, delete."""

import pytest

from macros.models import Macro

pytestmark = pytest.mark.django_db


def test_sam_creates_edits_and_deletes_a_canned_reply(sam, signed_in) -> None:
    client = signed_in(sam)
    created = client.post(
        "/console/dashboard/macros/new/",
        {
            "name": "Ask for photos",
            "shortcut": "photos",
            "body_zh": "{{shopper_name}}您好，请发照片",
            "then_status": "waiting_on_shopper",
        },
    )
    assert created.status_code == 302
    macro = Macro.objects.get()
    assert (macro.queue, macro.then_status, macro.updated_by) == (None, "waiting_on_shopper", sam.user)

    listing = client.get("/console/dashboard/macros/").text
    assert "/photos" in listing and "Ask for photos" in listing

    edited = client.post(
        f"/console/dashboard/macros/{macro.pk}/",
        {
            "name": "Photos please",
            "shortcut": "photos",
            "body_en": "Please send photos",
            "body_zh": "",
            "then_status": "",
        },
    )
    assert edited.status_code == 302
    assert Macro.objects.get().body_en == "Please send photos"

    assert client.get(f"/console/dashboard/macros/{macro.pk}/delete/").status_code == 200
    assert client.post(f"/console/dashboard/macros/{macro.pk}/delete/").status_code == 302
    assert not Macro.objects.exists()


def test_bad_input_gets_field_errors_and_nothing_is_saved(sam, signed_in) -> None:
    client = signed_in(sam)

    response = client.post(
        "/console/dashboard/macros/new/", {"name": "Typo", "shortcut": "has space", "body_en": "Hi {{shoper_name}}"}
    )

    assert response.status_code == 400
    assert "Use letters, digits, - and _ only" in response.text
    no_text = client.post("/console/dashboard/macros/new/", {"name": "Empty", "shortcut": "empty"})
    assert no_text.status_code == 400 and "Write the text in Chinese, in English, or both." in no_text.text
    typo = client.post(
        "/console/dashboard/macros/new/", {"name": "Typo", "shortcut": "typo", "body_en": "Hi {{shoper_name}}"}
    )
    assert typo.status_code == 400 and "Unknown placeholder {{shoper_name}}" in typo.text
    assert not Macro.objects.exists()


def test_agents_cannot_open_the_macro_pages(ana, signed_in) -> None:
    client = signed_in(ana)
    assert client.get("/console/dashboard/macros/").status_code == 403
    assert (
        client.post("/console/dashboard/macros/new/", {"name": "x", "shortcut": "x", "body_en": "x"}).status_code == 403
    )
    assert not Macro.objects.exists()
