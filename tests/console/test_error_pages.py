"""Without debug, a wrong address, a refused request and a server error show the product's own
pages, in the reader's language; API clients get JSON."""

from collections.abc import Callable

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import get_resolver
from django.utils import translation

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("language", "title"), [("en", "Not found"), ("zh-hans", "未找到")])
def test_an_unknown_address_shows_the_products_404_page_in_the_readers_language(language, title) -> None:
    response = Client(headers={"accept-language": language}).get("/console/no-such-page/")

    assert response.status_code == 404
    assert title in response.text and "console.css" in response.text
    assert "URLconf" not in response.text  # never Django's debug page


@pytest.mark.parametrize(("language", "title"), [("en", "This form has expired"), ("zh-hans", "表单已过期")])
def test_a_form_posted_without_its_csrf_token_explains_itself_in_the_readers_language(language, title) -> None:
    client = Client(enforce_csrf_checks=True, headers={"accept-language": language})
    client.force_login(UserFactory.create())

    response = client.post("/console/status/", {"status": "away"})

    assert response.status_code == 403
    assert title in response.text and 'data-error-code="403"' in response.text


@pytest.mark.parametrize(
    ("language", "code", "title"),
    [
        ("en", 403, "Not allowed"),
        ("zh-hans", 403, "无权访问"),
        ("en", 500, "Something went wrong"),
        ("zh-hans", 500, "出错了"),
    ],
)
def test_the_403_and_500_handlers_are_the_products_pages(language, code, title) -> None:
    handler: Callable[..., HttpResponse] = get_resolver().resolve_error_handler(code)
    request = RequestFactory().get("/console/")
    request.user = UserFactory.create()

    with translation.override(language):
        response = handler(request) if code == 500 else handler(request, exception=Exception())

    assert response.status_code == code
    assert title in response.content.decode() and f'data-error-code="{code}"' in response.content.decode()


@pytest.mark.parametrize("code", [403, 404, 500])
def test_api_clients_get_json_from_every_error_handler(code) -> None:
    handler: Callable[..., HttpResponse] = get_resolver().resolve_error_handler(code)
    request = RequestFactory().get("/api/v1/nothing/")

    response = handler(request) if code == 500 else handler(request, exception=Exception())

    assert response.status_code == code and response["Content-Type"] == "application/json"
