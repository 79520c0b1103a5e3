"""Abuse limits on the shopper page's posts: per client address and per browser session.

The page is public and anonymous, so a script can open inquiries (each one waking routing and
an agent) or flood a ticket with messages. Each limited POST counts once against its address
and once against its session (core.throttling, shared through the cache); over either, the
shopper gets a page in their language saying when to try again, with a 429 and Retry-After.
Reading the page is never limited.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.throttling import Verdict, client_address, hit
from shop.access import browser_id

HTTP_TOO_MANY_REQUESTS = 429
KEY_PREFIX = "shop:throttle"

View = Callable[..., HttpResponse]


def check(request: HttpRequest, scope: str) -> Verdict:
    rates = settings.SHOP_THROTTLE_RATES[scope]
    verdict = hit(key=f"{KEY_PREFIX}:{scope}:ip:{client_address(request)}", rate=rates["ip"])
    # By the browser's own id, not the session key: that changes with every grant (fixation).
    # A browser never granted an inquiry (a first visit, a client without cookies) is held by
    # its address alone.
    browser = browser_id(request.session)
    if verdict.allowed and browser:
        verdict = hit(key=f"{KEY_PREFIX}:{scope}:session:{browser}", rate=rates["session"])
    return verdict


def throttled(scope: str) -> Callable[[View], View]:
    """Limit a view's POSTs by SHOP_THROTTLE_RATES[scope]."""

    def decorate(view: View) -> View:
        @wraps(view)
        def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST":
                verdict = check(request, scope)
                if not verdict.allowed:
                    return slow_down(request, verdict, ticket_id=kwargs.get("ticket_id"))
            return view(request, *args, **kwargs)

        return limited

    return decorate


def slow_down(request: HttpRequest, verdict: Verdict, *, ticket_id: int | None) -> HttpResponse:
    minutes = max(1, -(-verdict.retry_after // 60))
    # What they wrote is shown back to copy, so a person caught by the limit loses no words.
    written = request.POST.get("body", "")[: settings.INQUIRY_BODY_MAX_LENGTH]
    context = {"minutes": minutes, "ticket_id": ticket_id, "written": written}
    response = render(request, "shop/slow_down.html", context, status=HTTP_TOO_MANY_REQUESTS)
    response["Retry-After"] = str(verdict.retry_after)
    response.has_forms = True  # type: ignore[attr-defined]  # the language switch (see shop.middleware)
    return response
